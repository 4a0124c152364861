"""`recipec demo --data`: the seed workflow on the user's own dataset, with a dense baseline beside it.

Stages (each a call of the engine's Python API; names are the rows of `summary.json`):
1. data: DATA is a data YAML, or a VOC-format folder converted into OUT/data (`yolo.data.voc.convert_voc`);
2. `dense_transfer`: `weights` fine-tuned on DATA with YOLOv5's default schedule (no recipe): the baseline;
3. `pruned`: the pre-sparsified start, either `sparse_weights` as given, or gradual magnitude pruning of
   `weights` on the upstream data with `yolov5s_prune_from_dense.yaml` (mAP on the upstream val split);
4. `sparse_transfer`: the seed's `yolov5s_transfer_pruned_quantized.yaml` from the pruned start on DATA
   (ConstantPruning of every prunable weight, QAT in the last epochs);
5. `fp32_onnx` / `int8_onnx`: the transfer run's best pre-QAT checkpoint and its final QAT model exported,
   verified against torch on DATA's val images, and validated with onnxruntime on DATA.

Every row is measured the same way: `last.pt` of its run, DATA's val split, square `imgsz` batches (the ONNX
files have a static input), conf 0.001 / IoU 0.6. The recipes' epochs follow `--epochs`; the short-budget
settings the demo passes to each recipe (`PRUNE_SET`, `TRANSFER_SET`) are printed and stored in summary.json.

Everything the user passed is checked before OUT is touched, so bad input leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from recipec.cli.demo.run import (DemoError, DemoResult, Laps, _evaluate, bench_both, check_recipes, compare_zeros,
                                  export_both, prepare_out)

# Recipe variables for a short CPU budget (what `recipec train --set NAME=VALUE` passes), measured on BCCD
# (README, "sparse transfer on real data"). The recipes' own defaults are for 100 (pruning) and 52 (transfer)
# GPU epochs on full datasets and stay as they are.
# Pruning a *pretrained* model on a small upstream set in ~10 epochs: the recipe's 3 warm-up epochs, LR 0.01
# and bias warm-up 0.1 wipe out the COCO features on 128 images (coco128 mAP50 0.41 -> 0.25 before pruning
# starts), and with them GMP squeezes 5 -> 75 % into 2 epochs (mAP50 0.09 at the end). One warm-up epoch, the
# fine-tuning LR 0.0032 and 60 % on the backbone/neck (yolov5n is already narrow; SparseZoo's yolov5n models
# were ~40-50 % sparse) give a start of 59 % sparsity at mAP50 0.39. At 55 % the transferred model
# (its re-initialised Detect head is dense) keeps 54.6 % zeros; at 50 % it would drop to 49.7 %.
PRUNE_SET: dict[str, float] = {"warmup_epochs": 1, "init_lr": 0.0032, "final_lr": 0.0005, "biases_warmup_lr": 0.01,
                               "main_sparsity": 0.55}
# Sparse transfer in 25-40 epochs of a few hundred images: the seed's init_lr 0.0032 (SparseML's fine-tuning
# LR for 52 VOC epochs) leaves the re-initialised Detect head undertrained (mAP50 0.67 after 20 epochs); the
# dense baseline's YOLOv5 default, 0.01, is used instead, so both runs get the same peak LR.
TRANSFER_SET: dict[str, float] = {"init_lr": 0.01, "final_lr": 0.0005}
SPARSE_START_MIN = 0.10  # a --sparse-weights file with fewer zeros among its prunable weights is not a sparse start
ROWS = ("dense_transfer", "pruned", "sparse_transfer", "fp32_onnx", "int8_onnx")


@dataclass(frozen=True)
class RealDemoConfig:
    """`recipec demo --data`: the budget and the inputs."""

    data: Path                       # a data YAML or a VOC-format folder
    weights: Path                    # the dense start (e.g. COCO yolov5n.pt)
    upstream: Path | None = None     # data YAML to prune on (GMP), unless sparse_weights
    sparse_weights: Path | None = None
    out: Path = Path("runs/demo")
    imgsz: int = 320
    batch: int = 16
    epochs: int = 40                 # dense transfer and sparse transfer
    prune_epochs: int = 10
    seed: int = 0
    threads: int | None = None
    bench_iters: int = 30
    progress: bool = True
    val_fraction: float = 0.2        # VOC folders without split lists
    prune_set: dict[str, float] = field(default_factory=lambda: dict(PRUNE_SET))
    transfer_set: dict[str, float] = field(default_factory=lambda: dict(TRANSFER_SET))


@dataclass
class Inputs:
    """What the checks before the run found out."""

    data_yaml: Path | None           # None: DATA is a VOC folder, converted into OUT/data
    names: list[str]
    nc_weights: int
    pruned_start: float | None       # fraction of zeros among the prunable weights of sparse_weights


def _prunable_zero_fraction(model: Any) -> float:
    from engine.pruning import prunable_param_names

    params = dict(model.named_parameters())
    total = zeros = 0
    for name in prunable_param_names(model):
        w = params[name].detach()
        total += w.numel()
        zeros += int((w == 0).sum())
    return zeros / max(total, 1)


def _load(path: Path, flag: str) -> Any:
    from yolo.checkpoint import CheckpointError, load_model

    if not path.is_file():
        raise DemoError(f"{flag} {path}: no such file (the demo downloads nothing)")
    try:
        return load_model(path)
    except (CheckpointError, ValueError, OSError, RuntimeError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise DemoError(f"{flag} {path}: not a YOLOv5 checkpoint recipec can read ({first})") from None


def _data_yaml(path: Path, flag: str) -> list[str]:
    from yolo.data.yaml import DataError, list_images, load_data_yaml

    try:
        cfg = load_data_yaml(path)
        for split in ("train", "val"):
            if not list_images(cfg, split):
                raise DemoError(f"{flag} {path}: no {split} images found")
    except DataError as e:
        raise DemoError(f"{flag} {path}: {e}") from None
    return list(cfg.names)


def check_inputs(cfg: RealDemoConfig) -> Inputs:
    """Every check that needs no output folder; raises DemoError with one line."""
    from yolo.data.voc import looks_like_voc

    if not (0 < cfg.val_fraction < 1):
        raise DemoError(f"--val-fraction must be between 0 and 1, got {cfg.val_fraction}")
    if cfg.sparse_weights is None and cfg.upstream is None:
        raise DemoError("--data needs a pre-sparsified start: --upstream UP.yaml (prune --weights on it) or "
                        "--sparse-weights S.pt")
    data = Path(cfg.data)
    if data.is_dir():
        if not looks_like_voc(data):
            raise DemoError(f"--data {data}: a folder, but not VOC-format (no Annotations/ or *.xml files found); "
                            "give a data YAML or a folder of Pascal VOC XML files and images")
        data_yaml, names = None, []
    elif data.is_file():
        data_yaml, names = data, _data_yaml(data, "--data")
    else:
        raise DemoError(f"--data {data}: no such file or folder")
    if cfg.upstream is not None and cfg.sparse_weights is None:
        _data_yaml(Path(cfg.upstream), "--upstream")
    model = _load(Path(cfg.weights), "--weights")
    nc = int(model.nc)
    pruned = None
    if cfg.sparse_weights is not None:
        pruned = _prunable_zero_fraction(_load(Path(cfg.sparse_weights), "--sparse-weights"))
        if pruned < SPARSE_START_MIN:
            raise DemoError(f"--sparse-weights {cfg.sparse_weights}: only {100 * pruned:.1f}% of its prunable "
                            "weights are zero: not a sparse start (give --upstream to prune --weights instead)")
    return Inputs(data_yaml, names, nc, pruned)


def _convert(data: Path, cfg: RealDemoConfig, log: Callable[[str], None]) -> Path:
    """Convert a VOC folder into a temporary folder beside OUT (moved into OUT/data later)."""
    from yolo.data.voc import VocError, convert_voc

    Path(cfg.out).resolve().parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".recipec-demo-data-", dir=Path(cfg.out).resolve().parent))
    try:
        res = convert_voc(data, tmp / "data", val_fraction=cfg.val_fraction, seed=cfg.seed, link="auto")
    except VocError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DemoError(f"--data {data}: {e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for line in res.report_lines():
        log(line)
    return tmp


def _say_once(log: Callable[[str], None]) -> Callable[[str], None]:
    """Training logs, with the Detect-head re-initialisation said once for the whole demo."""
    said: set[str] = set()

    def say(msg: str) -> None:
        if "Detect head re-initialised" in msg:
            key = msg.split(":")[0]
            if key in said:
                return
            said.add(key)
        log(msg)

    return say


def _train(cfg: RealDemoConfig, stage: str, data: Path, weights: Path, recipe: Path | None, epochs: int,
           overrides: dict[str, float], log: Callable[[str], None]) -> Path:
    from engine.train import TrainArgs, TrainError
    from recipec.cli.train_app import run_training

    args = TrainArgs(data=str(data), weights=str(weights), recipe=str(recipe) if recipe else None, epochs=epochs,
                     imgsz=cfg.imgsz, batch=cfg.batch, project=str(cfg.out), name=stage, seed=cfg.seed,
                     progress=cfg.progress, overrides=dict(overrides) or None)
    try:
        return run_training(args, log=log)
    except TrainError as e:
        raise DemoError(f"{stage} training failed: {e}") from None


def _val_images(data_yaml: Path, n: int = 8) -> list[Path]:
    from yolo.data.yaml import list_images, load_data_yaml

    return list_images(load_data_yaml(data_yaml), "val")[:n]


def run_real_demo(cfg: RealDemoConfig, log: Callable[[str], None] = print,
                  stage: Callable[[str], None] | None = None) -> DemoResult:
    """Run every stage (module docstring); returns the measurements. Raises DemoError on bad input."""
    import torch

    stage = stage or (lambda title: log(f"== {title}"))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    recipes = check_recipes()
    inputs = check_inputs(cfg)
    out = Path(cfg.out)
    converted = _convert(Path(cfg.data), cfg, log) if inputs.data_yaml is None else None
    try:
        prepare_out(out)
        if converted is not None:
            shutil.move(str(converted / "data"), str(out / "data"))
    finally:
        if converted is not None:
            shutil.rmtree(converted, ignore_errors=True)
    data_yaml = inputs.data_yaml or (out / "data" / "data.yaml")
    names = inputs.names or _data_yaml(data_yaml, "--data")
    res = DemoResult(out)
    res.settings = {"prune_set": dict(cfg.prune_set), "transfer_set": dict(cfg.transfer_set),
                    "imgsz": cfg.imgsz, "batch": cfg.batch, "epochs": cfg.epochs, "prune_epochs": cfg.prune_epochs,
                    "data": str(cfg.data), "data_yaml": str(data_yaml), "weights": str(cfg.weights),
                    "upstream": str(cfg.upstream) if cfg.upstream else None,
                    "sparse_weights": str(cfg.sparse_weights) if cfg.sparse_weights else None}
    say = _say_once(log)
    lap = Laps(res.seconds)

    stage(f"1/5 dense transfer (the baseline): {Path(cfg.weights).name} -> {len(names)} classes, {cfg.epochs} "
          "epochs, YOLOv5's default schedule")
    dense = _train(cfg, "dense_transfer", data_yaml, Path(cfg.weights), None, cfg.epochs, {}, say)
    res.runs["dense_transfer"] = str(dense)
    lap("dense_transfer")

    if cfg.sparse_weights is not None:
        stage(f"2/5 pre-sparsified start: {cfg.sparse_weights} ({100 * inputs.pruned_start:.1f}% of prunable "
              "weights zero)")
        pruned_path = Path(cfg.sparse_weights)
    else:
        stage(f"2/5 pre-sparsified start: gradual magnitude pruning of {Path(cfg.weights).name} on "
              f"{cfg.upstream}, {cfg.prune_epochs} epochs, {recipes['prune'].name}"
              + (f" ({_sets(cfg.prune_set)})" if cfg.prune_set else ""))
        prune = _train(cfg, "pruned", Path(cfg.upstream), Path(cfg.weights), recipes["prune"], cfg.prune_epochs,
                       cfg.prune_set, say)
        res.runs["pruned"] = str(prune)
        pruned_path = prune / "weights" / "last.pt"
    lap("pruned")

    stage(f"3/5 sparse transfer: {cfg.epochs} epochs, {recipes['transfer'].name} (ConstantPruning + QAT)"
          + (f" ({_sets(cfg.transfer_set)})" if cfg.transfer_set else ""))
    transfer = _train(cfg, "sparse_transfer", data_yaml, pruned_path, recipes["transfer"], cfg.epochs,
                      cfg.transfer_set, say)
    res.runs["sparse_transfer"] = str(transfer)
    lap("sparse_transfer")

    stage("4/5 export: INT8 ONNX (the final QAT model) and FP32 ONNX (the best pre-QAT checkpoint), verified on "
          "the data's val images")
    # real images and a trained model: a verification that compared no box is a failure, not a pass
    qat_model, float_model = export_both(res, cfg, transfer, out / "export", "sparse_transfer", _val_images(data_yaml),
                                         require_boxes=True)
    lap("export")

    stage("5/5 measure: mAP of every model on the data's val split, zeros kept, ONNX size and latency")
    from yolo.checkpoint import load_model
    from yolo.val import OnnxModel

    pruned_model = load_model(pruned_path)
    final = transfer / "weights" / "last.pt"
    final_model = load_model(final)
    res.sparsity = compare_zeros(pruned_model, final_model)
    res.sparsity["fp32_kept_exactly"] = compare_zeros(pruned_model, float_model)["kept_exactly"]
    res.sparsity["start"] = _prunable_zero_fraction(pruned_model)
    res.sparsity["end"] = _prunable_zero_fraction(final_model)
    loader = _loader(cfg, data_yaml)
    torch.manual_seed(cfg.seed)
    rows: list[tuple[str, str, Any]] = [("dense_transfer", "data", load_model(dense / "weights" / "last.pt"))]
    if cfg.sparse_weights is None:
        rows.append(("pruned", "upstream", pruned_model))
    rows += [("sparse_transfer", "data", qat_model), ("fp32_onnx", "data", OnnxModel(res.onnx["fp32"]["path"])),
             ("int8_onnx", "data", OnnxModel(res.onnx["int8"]["path"]))]
    up_loader = _loader(cfg, Path(cfg.upstream)) if cfg.sparse_weights is None else None
    up_names = _data_yaml(Path(cfg.upstream), "--upstream") if cfg.sparse_weights is None else []
    for label, task, model in rows:
        ld, nm = (up_loader, up_names) if task == "upstream" else (loader, names)
        res.metrics[label] = {"task": task, **_evaluate(cfg, model, ld, nm, label)}
    if cfg.sparse_weights is not None:
        res.metrics["pruned"] = {"task": "upstream", "map50": None, "map50_95": None, "images": 0}
    res.metrics = {k: res.metrics[k] for k in ROWS}
    bench_both(res, cfg)
    lap("measure")
    (out / "summary.json").write_text(json.dumps(res.to_json(), indent=2) + "\n")
    return res


def _loader(cfg: RealDemoConfig, data_yaml: Path):
    from yolo.data.dataset import create_dataloader

    loader, _ = create_dataloader(data_yaml, "val", imgsz=cfg.imgsz, batch_size=8, rect=False, seed=cfg.seed)
    return loader


def _sets(d: dict[str, float]) -> str:
    return " ".join(f"--set {k}={v:g}" for k, v in d.items())
