"""The model facts the front end's model-aware checks use, filled from `yolo` (the CLI layer may import it).

`recipec/check/yolo_names.json` is the bundled YOLOv5s' facts for every `recipec.check.model.CANDIDATES`
name; regenerate it after a change to yolo/arch.py:

    python -m recipec.cli.model_facts
"""

from __future__ import annotations

import json

from recipec.check.model import CANDIDATES, TABLE, ModelFacts


def facts_from_yolo(cfg: str) -> ModelFacts:
    """The facts of the bundled YOLOv5 `cfg` (`yolov5s`, `yolov5l-v5`, ...), computed by `yolo.names` (no torch)."""
    import yolo.names as yn

    return ModelFacts.from_lists(cfg, yn.param_names(cfg), yn.module_names(cfg), yn.prunable_param_names(cfg))


def build_table() -> dict:
    """Every candidate's facts as the plain data of `yolo_names.json`."""
    out = {}
    for c in CANDIDATES:
        f = facts_from_yolo(c)
        out[c] = {"params": list(f.params), "modules": list(f.modules), "prunable": list(f.prunable)}
    return out


def write_table() -> None:
    TABLE.write_text(json.dumps(build_table(), separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_table()
