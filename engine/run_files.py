"""The files a run folder gets at the start, as YOLOv5 writes them: ``hyp.yaml`` (the hyperparameters),
``opt.yaml`` (every argument of the run) and ``labels.jpg`` (the training labels: class counts, box centres and
sizes). The end of the run adds the validation plots (``yolo.val_plots``) and ``results.png``."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def write_args(save_dir: str | Path, args: Any, hyp: dict) -> list[Path]:
    """``hyp.yaml`` and ``opt.yaml`` (all fields of ``args``, a dataclass or a dict) in ``save_dir``."""
    import yaml

    d = Path(save_dir)
    opt = asdict(args) if is_dataclass(args) else dict(args)
    out = []
    for name, content in (("hyp.yaml", hyp), ("opt.yaml", opt)):
        p = d / name
        p.write_text(yaml.safe_dump(_plain(content), sort_keys=False))
        out.append(p)
    return out


def write_labels_plot(save_dir: str | Path, dataset: Any, names: list[str] | None) -> Path | None:
    """``labels.jpg`` of a `YoloDataset` (its scanned labels); None when it has no labels."""
    labels = getattr(dataset, "labels", None)
    if not labels or not any(len(x) for x in labels):
        return None
    from yolo.plot_images import plot_labels

    return plot_labels(Path(save_dir) / "labels.jpg", labels, names)
