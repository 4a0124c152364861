"""`recipec demo`: the whole seed workflow on bundled synthetic data, offline, on a CPU.

Stages (each a call of the engine's Python API, no subprocesses):
1. data: synthetic task A (3 shape classes) and task B (4 other classes) (`yolo.data.synthetic`);
2. dense: a fresh yolov5n (or `weights`) trained briefly on A with `examples/recipes/demo_dense.yaml`;
3. prune: GMP from dense on A with `examples/recipes/yolov5s_prune_from_dense.yaml` (the "pre-sparsified"
   starting point; 50 % / 75 % per layer group);
4. transfer: sparse transfer learning onto B with the seed's `yolov5s_transfer_pruned_quantized.yaml`
   (ConstantPruning of every prunable weight, QAT in the last epochs); the Detect head is re-initialised
   for B's 4 classes, as YOLOv5 does for a new `nc`;
5. export: the final QAT model to INT8 QDQ ONNX and the transfer run's best pre-QAT checkpoint
   (`best_pruned.pt`) to FP32 ONNX, both verified against torch with onnxruntime (`engine.export.verify`);
6. measure: mAP of every stage on its task's val split, zeros before/after transfer at the same positions,
   ONNX sizes, onnxruntime latency FP32 vs INT8.

Every recipe's epochs come from its `num_epochs` variable (the `--epochs` override of `recipec train`), so
`DemoConfig.*_epochs` sets the budget. `run_demo` returns a `DemoResult`; the table is in `recipec.cli.demo.report`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from recipec.examples import recipe_dir, recipe_path

RECIPES = recipe_dir()  # the example recipes shipped with recipec (examples/recipes/ in a checkout)
DENSE_RECIPE = "demo_dense.yaml"
PRUNE_RECIPE = "yolov5s_prune_from_dense.yaml"
TRANSFER_RECIPE = "yolov5s_transfer_pruned_quantized.yaml"
# YOLOv5's hyp.scratch-low, except: no mosaic and milder scale jitter. Mosaic shrinks each object 2x on a 160 px
# canvas; without it (and at batch 8 rather than 16) the from-scratch model learns the shapes far faster
# (measured on task A after 6 epochs: mAP50 0.086 vs 0.004). Written to OUT/hyp.yaml and passed as `--hyp`.
DEMO_HYP = {"mosaic": 0.0, "scale": 0.25}
MARKER = ".recipec-demo"  # a folder holding this file was made by the demo and may be rewritten
STAGE_DIRS = ("data", "dense", "prune", "transfer", "dense_transfer", "pruned", "sparse_transfer", "export", "hyp.yaml",
              "summary.json")


class DemoError(Exception):
    """Bad demo input (output folder, weights, recipes); the message is meant for the user."""


@dataclass(frozen=True)
class DemoConfig:
    """The demo's budget. Defaults: under 10 minutes on 2 CPU cores; `FAST` for tests (< 1 minute)."""

    out: Path = Path("runs/demo")
    imgsz: int = 160              # training / val / export image size, pixels
    n_train: int = 128            # synthetic training images per task
    n_val: int = 32               # synthetic val images per task
    size_range: tuple[int, int] = (160, 320)  # synthetic image sides, pixels
    batch: int = 8
    dense_epochs: int = 15
    prune_epochs: int = 10        # the GMP recipe needs >= 8 (pruning runs from epoch 4 to 0.6 * epochs)
    transfer_epochs: int = 15     # QAT runs in the last 2
    weights: str | None = None    # dense start: a .pt file; None = yolov5n from scratch
    seed: int = 0
    bench_iters: int = 30         # timed onnxruntime runs per model (after 5 warm-up runs)
    threads: int | None = None    # torch and onnxruntime intra-op threads (None = their defaults); 1 on a busy CPU
    progress: bool = True


FAST = dict(imgsz=64, n_train=8, n_val=4, size_range=(64, 128), batch=4, dense_epochs=1, prune_epochs=8,
            transfer_epochs=4, bench_iters=5)


def fast_config(**kw: Any) -> DemoConfig:
    return replace(DemoConfig(**kw), **{k: v for k, v in FAST.items() if k not in kw})


@dataclass
class DemoResult:
    out: Path
    runs: dict[str, str] = field(default_factory=dict)      # stage -> run folder
    metrics: dict[str, dict] = field(default_factory=dict)  # row -> {task, map50, map50_95}
    sparsity: dict[str, Any] = field(default_factory=dict)
    onnx: dict[str, dict] = field(default_factory=dict)     # fp32 / int8 -> {path, bytes, gz_bytes, ms, ...}
    verify: dict[str, dict] = field(default_factory=dict)   # fp32 / int8 -> {ok, checks}
    seconds: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # what the demo ran with (recipe variables, sizes)

    @property
    def ok(self) -> bool:
        return bool(self.sparsity.get("kept_exactly")) and bool(self.sparsity.get("fp32_kept_exactly")) and all(v.get("ok") for v in self.verify.values()) \
            and set(self.verify) == {"fp32", "int8"}

    def to_json(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out)
        d["ok"] = self.ok
        return d


def prepare_out(out: Path) -> None:
    """Create `out`, or reuse one the demo made before (its stage folders are removed); refuse others."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise DemoError(f"--out {out} is a non-empty folder that recipec demo did not make; pick another one")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `recipec demo`; its stage folders are replaced on the next run\n")
    for name in STAGE_DIRS:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.is_file():
            p.unlink()


def check_recipes() -> dict[str, Path]:
    """The demo's recipes, as shipped inside the package (`recipec.examples`)."""
    try:
        return {"dense": recipe_path(DENSE_RECIPE), "prune": recipe_path(PRUNE_RECIPE),
                "transfer": recipe_path(TRANSFER_RECIPE)}
    except FileNotFoundError as e:
        raise DemoError(f"demo recipes: {e}") from None


def _train(cfg: DemoConfig, stage: str, data: Path, weights: str, recipe: Path, epochs: int,
           log: Callable[[str], None]) -> Path:
    from engine.train import TrainArgs, TrainError
    from recipec.cli.train_app import run_training

    args = TrainArgs(data=str(data), weights=weights, recipe=str(recipe), epochs=epochs, imgsz=cfg.imgsz,
                     batch=cfg.batch, project=str(cfg.out), name=stage, seed=cfg.seed, progress=cfg.progress,
                     hyp=str(Path(cfg.out) / "hyp.yaml"), init=None if Path(weights).suffix else "random")
    try:
        return run_training(args, log=log)
    except TrainError as e:
        raise DemoError(f"{stage} training failed: {e}") from None


def compare_zeros(before: Any, after: Any) -> dict[str, Any]:
    """Zeros of every prunable weight of `before` (the pruned start) checked at the same positions in `after`.

    Tensors whose shape changed (the Detect head, re-initialised for a new `nc`) are listed apart.
    `kept_exactly`: every zero of `before` is still zero in `after`."""
    from engine.pruning import prunable_param_names

    pa, pb = dict(before.named_parameters()), dict(after.named_parameters())
    zeros_before = zeros_kept = zeros_after = total = 0
    changed, lost_in = [], []
    for name in prunable_param_names(before):
        wa, wb = pa[name].detach(), pb.get(name)
        if wb is None or wb.shape != wa.shape:
            changed.append(name)
            continue
        wb = wb.detach()
        za, zb = wa == 0, wb == 0
        zeros_before += int(za.sum())
        kept = int(zb[za].sum())
        zeros_kept += kept
        zeros_after += int(zb.sum())
        total += wa.numel()
        if kept != int(za.sum()):
            lost_in.append(name)
    return {"tensors": len(prunable_param_names(before)) - len(changed), "weights": total,
            "zeros_before": zeros_before, "zeros_kept": zeros_kept, "zeros_after": zeros_after,
            "sparsity_before": zeros_before / max(total, 1), "sparsity_after": zeros_after / max(total, 1),
            "kept_exactly": zeros_before > 0 and zeros_kept == zeros_before, "lost_in": lost_in,
            "reinitialised": changed}


def _val_loader(cfg: DemoConfig, data: Path):
    from yolo.data.dataset import create_dataloader

    loader, _ = create_dataloader(data, "val", imgsz=cfg.imgsz, batch_size=8, rect=False, seed=cfg.seed)
    return loader


def _evaluate(cfg: DemoConfig, model: Any, loader: Any, names: list[str], label: str) -> dict:
    """mAP of `model` (torch module or ONNX callable) on `loader`, with a progress bar."""
    from yolo.val import validate

    if not cfg.progress:
        r = validate(model, loader, names=names)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn(f"  val {label:<22}"), BarColumn(), MofNCompleteColumn(), transient=True) as p:
            t = p.add_task(label, total=len(loader))
            r = validate(model, loader, names=names, progress=lambda i, n: p.update(t, completed=i + 1, total=n))
    return {"map50": float(r["map50"]), "map50_95": float(r["map50_95"]), "images": int(r["images"])}


def _export(model: Any, path: Path, cfg: Any, images: list[Path], meta: dict,
            require_boxes: bool = False) -> tuple[dict, dict]:
    import gzip

    from engine.export.onnx_export import export_onnx
    from engine.export.verify import verify

    info = export_onnx(model, path, imgsz=cfg.imgsz, batch=1, metadata=meta)
    report = verify(path, model, images, imgsz=cfg.imgsz, threads=cfg.threads, require_boxes=require_boxes)
    raw = path.read_bytes()
    size = {"path": str(path), "bytes": len(raw), "gz_bytes": len(gzip.compress(raw, compresslevel=6)),
            "quantized": bool(info["quantized"])}
    checks = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks]
    return size, {"ok": report.ok, "checks": checks}


def export_both(res: DemoResult, cfg: Any, transfer: Path, exp: Path, prefix: str,
                images: list[Path], require_boxes: bool = False) -> tuple[Any, Any]:
    """The transfer run's final QAT model to INT8 ONNX and its best pre-QAT checkpoint (`best_pruned.pt`: what one
    would ship without QAT) to FP32 ONNX, both verified on `images` (`require_boxes`: a verification that compared
    no detection fails); returns (qat_model, float_model)."""
    from engine.export.load import load_for_export
    from yolo.checkpoint import load_model

    final = transfer / "weights" / "last.pt"
    qat_model = load_for_export(final).model
    pre_qat = transfer / "weights" / "best_pruned.pt"
    res.runs["fp32_source"] = str(pre_qat if pre_qat.is_file() else final)
    float_model = load_model(res.runs["fp32_source"])
    exp.mkdir(parents=True, exist_ok=True)
    for key, model, src in (("int8", qat_model, final), ("fp32", float_model, res.runs["fp32_source"])):
        res.onnx[key], res.verify[key] = _export(model, exp / f"{prefix}_{key}.onnx", cfg, images,
                                                 {"source_weights": str(src)}, require_boxes)
    return qat_model, float_model


def bench_both(res: DemoResult, cfg: Any) -> None:
    """onnxruntime latency of both exports at batch 1 (median of `cfg.bench_iters` after 5 warm-up runs)."""
    from engine.export.bench import bench_onnx

    for key in ("fp32", "int8"):
        b = bench_onnx(res.onnx[key]["path"], batch=1, imgsz=cfg.imgsz, threads=cfg.threads, iters=cfg.bench_iters)
        res.onnx[key].update(median_ms=b.median_ms, ms=b.median_ms, p90_ms=b.p90_ms, iters=b.iters)


class Laps:
    """`lap(name)` records the seconds since the previous lap (or since creation) under `name`."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds, self.clock = seconds, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.clock, 2)
        self.clock = now


def run_demo(cfg: DemoConfig, log: Callable[[str], None] = print,
             stage: Callable[[str], None] | None = None) -> DemoResult:
    """Run every stage (module docstring); returns the measurements. Raises DemoError on bad input."""
    import torch

    stage = stage or (lambda title: log(f"== {title}"))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    if cfg.weights and not Path(cfg.weights).is_file():
        raise DemoError(f"--weights {cfg.weights}: no such file (the demo downloads nothing; leave --weights out "
                        "to start from scratch)")
    recipes = check_recipes()
    prepare_out(out)
    res = DemoResult(out)
    (out / "hyp.yaml").write_text("# recipec demo: YOLOv5 hyp.scratch-low with these changes\n"
                                  + "".join(f"{k}: {v}\n" for k, v in DEMO_HYP.items()))
    lap = Laps(res.seconds)

    from yolo.data.synthetic import make_synthetic

    stage(f"1/6 synthetic data: task A (shapes-a) and task B (shapes-b), {cfg.n_train} train + {cfg.n_val} val "
          "images each")
    data = {t: make_synthetic(out / "data" / t, task=t, n_train=cfg.n_train, n_val=cfg.n_val,
                              size_range=cfg.size_range, seed=cfg.seed) for t in ("shapes-a", "shapes-b")}
    lap("data")

    start = cfg.weights or "yolov5n"
    stage(f"2/6 dense training on task A: {start} ({'pretrained file' if cfg.weights else 'from scratch'}), "
          f"{cfg.dense_epochs} epochs, {recipes['dense'].name}")
    dense = _train(cfg, "dense", data["shapes-a"], start, recipes["dense"], cfg.dense_epochs, log)
    res.runs["dense"] = str(dense)
    lap("dense")

    stage(f"3/6 gradual magnitude pruning on task A: {cfg.prune_epochs} epochs, {recipes['prune'].name}")
    prune = _train(cfg, "prune", data["shapes-a"], str(dense / "weights" / "last.pt"), recipes["prune"],
                   cfg.prune_epochs, log)
    res.runs["prune"] = str(prune)
    lap("prune")

    stage(f"4/6 sparse transfer learning onto task B: {cfg.transfer_epochs} epochs, {recipes['transfer'].name} "
          "(ConstantPruning + QAT)")
    transfer = _train(cfg, "transfer", data["shapes-b"], str(prune / "weights" / "last.pt"), recipes["transfer"],
                      cfg.transfer_epochs, log)
    res.runs["transfer"] = str(transfer)
    lap("transfer")

    stage("5/6 export: INT8 QDQ ONNX (the final QAT model) and FP32 ONNX (the best pre-QAT checkpoint), verified "
          "with onnxruntime")
    images = sorted((out / "data" / "shapes-b" / "images" / "val").glob("*.png"))[:4]
    qat_model, float_model = export_both(res, cfg, transfer, out / "export", "transfer", images)
    lap("export")

    stage("6/6 measure: mAP of every stage, zeros kept, ONNX size and onnxruntime latency")
    from yolo.checkpoint import load_model
    from yolo.val import OnnxModel

    pruned_model = load_model(prune / "weights" / "last.pt")
    final = transfer / "weights" / "last.pt"
    res.sparsity = compare_zeros(pruned_model, load_model(final))
    res.sparsity["fp32_kept_exactly"] = compare_zeros(pruned_model, float_model)["kept_exactly"]
    names = {t: _names(data[t]) for t in data}
    loaders = {t: _val_loader(cfg, data[t]) for t in data}
    torch.manual_seed(cfg.seed)
    rows = (("dense", "shapes-a", load_model(dense / "weights" / "last.pt")), ("pruned", "shapes-a", pruned_model),
            ("transfer", "shapes-b", qat_model), ("fp32 onnx", "shapes-b", OnnxModel(res.onnx["fp32"]["path"])),
            ("int8 onnx", "shapes-b", OnnxModel(res.onnx["int8"]["path"])))
    for label, task, model in rows:
        res.metrics[label] = {"task": task, **_evaluate(cfg, model, loaders[task], names[task], label)}
    bench_both(res, cfg)
    lap("measure")
    (out / "summary.json").write_text(json.dumps(res.to_json(), indent=2) + "\n")
    return res


def _names(data_yaml: Path) -> list[str]:
    from yolo.data.yaml import load_data_yaml

    return list(load_data_yaml(data_yaml).names)
