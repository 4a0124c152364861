"""Load any supported weights for export: recipec checkpoints (dense, pruned, QAT), ultralytics /
SparseZoo `.pt` files (through `yolo.load_model`), or a `zoo:` stub (resolved by `engine.zoo`).

A recipec checkpoint with QAT state gives back the QAT-prepared model with its trained qparams
(`prepare_from_state`), so the export has the same Q/DQ as training; `recipec val` and the end-of-training
validation load weights here too, so that they measure the model the export will be. Masks need no work here:
the float weights already hold the zeros (that is the invariant), and `verify` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Loaded:
    model: Any
    source: str                  # "recipec" | "yolo"
    recipe_sha256: str = ""
    phase: str = ""
    masks: dict = field(default_factory=dict)
    sparsity: dict = field(default_factory=dict)  # {param name: fraction of zeros} recorded in the checkpoint
    promised: dict = field(default_factory=dict)  # {param name: sparsity} a finished checkpoint's recipe promised
    # (filled by the caller, which compiles `recipe_text`: `engine.export.mask_check.recipe_targets`)
    recipe_text: str = ""        # a recipec checkpoint's recipe
    finished: bool = False       # its run finished (so its recipe's final targets were reached)
    qat_state: dict | None = None
    args: dict = field(default_factory=dict)  # a recipec checkpoint's training arguments (imgsz, batch, ...)

    def describe(self) -> str:
        """Which model this is, for the user: e.g. "the QAT model (fake-quant, 60 quantized convs; BN frozen,
        observers off)" or "the float model"."""
        from engine.quant.fold import QATConv2d, QATConvBn
        from engine.quant.qat import qat_modules

        convs = [m for _, m in qat_modules(self.model) if isinstance(m, (QATConvBn, QATConv2d))]
        if not convs:
            return "the float model" + (" (pruned)" if self.masks else "")
        st = self.qat_state or {}
        frozen = [f"BN {'frozen' if st.get('bn_frozen') else 'live'}"]
        obs = [d.get("observer_enabled") for d in (st.get("fake_quant") or {}).values()]
        frozen.append("observers " + ("off" if obs and not any(obs) else "on"))
        return f"the QAT model (fake-quant, {len(convs)} quantized convs; {', '.join(frozen)})"


def _qat_state(q: Any) -> dict | None:
    """The `engine.quant.qat_state_dict` payload inside a checkpoint's `qat` entry (either layout)."""
    if not isinstance(q, dict):
        return None
    if "fake_quant" in q:
        return q
    for k in ("state", "qat"):
        if isinstance(q.get(k), dict) and "fake_quant" in q[k]:
            return q[k]
    return None


def load_for_export(weights: str | Path) -> Loaded:
    """Raises `yolo.checkpoint.CheckpointError` / `engine.checkpoint.CheckpointError` / ValueError with a
    user-facing message on a bad file."""
    from engine.checkpoint import CheckpointError as RecipecError, load_checkpoint
    from engine.quant.qat import prepare_from_state
    from yolo.checkpoint import load_model

    from engine import zoo

    if zoo.is_stub(str(weights)):
        weights = zoo.resolve_weights(str(weights))  # ZooError (a ValueError) says how to pass a file
    p = Path(weights)
    data = None
    if p.is_file():
        try:
            data = load_checkpoint(p)
        except RecipecError:
            data = None  # not ours: an ultralytics / zoo checkpoint, read by yolo
    model = load_model(str(weights))
    if data is None:
        return Loaded(model, "yolo")
    st = _qat_state(data.get("qat"))
    if st is not None and st.get("spec") is not None:
        prepare_from_state(model, st)
        model.eval()
    return Loaded(model, "recipec", recipe_sha256=str(data.get("recipe_sha256") or ""),
                  phase=str(data.get("phase") or ""), masks=data.get("masks") or {},
                  sparsity=data.get("sparsity") if isinstance(data.get("sparsity"), dict) else {},
                  recipe_text=str(data.get("recipe") or ""), finished=bool(data.get("finished")), qat_state=st,
                  args=dict(data.get("args") or {}))
