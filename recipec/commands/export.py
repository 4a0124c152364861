"""`recipec export` (ONNX that keeps sparsity and quantization, verified) and `recipec bench` (ORT timing).

Exit codes: 0 = exported (and verified), 1 = a verification check failed, 2 = bad input or usage.
torch / engine / yolo are imported inside the commands only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("bench")(bench)


def _fail(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def default_images() -> list:
    """Real images for --verify: $RECIPEC_SHARED/external/images or ../shared/external/images; else a
    synthetic RGB image (checks stay numeric; box agreement on it is weaker)."""
    roots = []
    if os.environ.get("RECIPEC_SHARED"):
        roots.append(Path(os.environ["RECIPEC_SHARED"]) / "external" / "images")
    here = Path(__file__).resolve().parents[2]
    roots += [here.parent / "shared" / "external" / "images", Path.cwd().parent / "shared" / "external" / "images"]
    for r in roots:
        imgs = sorted(p for p in r.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if imgs:
            return imgs
    import numpy as np

    yy, xx = np.mgrid[0:480, 0:640]
    return [np.stack([(xx * 255 // 640), (yy * 255 // 480), ((xx + yy) % 256)], -1).astype(np.uint8)]


def _print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for h in header:
        t.add_column(h)
    for r in rows:
        t.add_row(*[str(c) for c in r])
    Console().print(t)


def export(
    weights: str = typer.Option(..., "--weights", "-w", help="Checkpoint: recipec (dense/pruned/QAT), ultralytics or SparseZoo .pt."),
    imgsz: int = typer.Option(640, "--imgsz", help="Input size in pixels (square), a multiple of 32."),
    batch: int = typer.Option(1, "--batch", help="Batch size baked into the graph (see --dynamic)."),
    dynamic: bool = typer.Option(False, "--dynamic", help="Dynamic batch and image size axes."),
    opset: int = typer.Option(17, "--opset", help="ONNX opset (>= 13 for quantized models)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output .onnx path (default: ./<weights stem>.onnx)."),
    do_verify: bool = typer.Option(True, "--verify/--no-verify", help="Run and compare with onnxruntime."),
    images: list[Path] = typer.Option(None, "--images", help="Images for --verify (default: shared sample images)."),
) -> None:
    """Export WEIGHTS to ONNX: BN folded, QDQ for QAT models, zeros kept, Detect decode inside."""
    if imgsz < 32 or imgsz % 32:
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if batch < 1:
        _fail(f"--batch must be >= 1, got {batch}")
    from engine.checkpoint import CheckpointError as RecipecError
    from engine.export.load import load_for_export
    from engine.export.onnx_export import ExportError, export_onnx
    from yolo.checkpoint import CheckpointError

    try:
        loaded = load_for_export(weights)
    except (CheckpointError, RecipecError, ValueError) as e:
        _fail(str(e))
    if out is None:  # in the current folder: the weights may sit in a read-only place
        out = Path(f"{Path(str(weights).split('?')[0]).stem}.onnx")
    meta = {"recipe_sha256": loaded.recipe_sha256, "source_weights": str(weights), "phase": loaded.phase}
    try:
        info = export_onnx(loaded.model, out, imgsz=imgsz, batch=batch, dynamic=dynamic, opset=opset,
                           metadata=meta)
    except ExportError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"cannot write {out}: {e.strerror or e}")
    tot = sum(r.numel for r in info["sparsity"])
    zer = sum(r.zeros for r in info["sparsity"])
    print(f"exported {out}  opset {opset}  {'INT8 QDQ' if info['quantized'] else 'FP32'}  "
          f"input {batch if not dynamic else 'B'}x3x{imgsz}x{imgsz}  conv sparsity {100 * zer / max(tot, 1):.1f}%"
          + (f"  int8 weights {info['int8_weights']}" if info["quantized"] else ""))
    if not do_verify:
        return
    from engine.export.verify import verify

    imgs = list(images) if images else default_images()
    missing = [str(p) for p in imgs if isinstance(p, Path) and not p.is_file()]
    if missing:
        _fail(f"--images not found: {', '.join(missing)}")
    report = verify(out, loaded.model, imgs, imgsz=imgsz)
    _print_table(f"verify {out} ({report.precision})", ("check", "result", "detail"), report.table())
    if not report.ok:
        print("error: verification failed", file=sys.stderr)
        raise typer.Exit(1)


def bench(
    model: Path = typer.Argument(..., help="ONNX model to time.", show_default=False),
    batch: int = typer.Option(1, "--batch", help="Batch size (for dynamic-batch models)."),
    imgsz: int = typer.Option(640, "--imgsz", help="Image size (for dynamic-size models)."),
    threads: int = typer.Option(None, "--threads", help="Intra-op threads (default: runtime's choice)."),
    iters: int = typer.Option(30, "--iters", help="Timed runs (after 5 warm-up runs)."),
) -> None:
    """Latency and throughput of MODEL with onnxruntime (and DeepSparse when installed)."""
    if not model.is_file():
        _fail(f"model not found: {model}")
    if batch < 1 or imgsz < 32 or iters < 1:
        _fail("--batch, --iters must be >= 1 and --imgsz >= 32")
    from engine.export.bench import NOTE, bench_deepsparse, bench_onnx

    try:
        results = [bench_onnx(str(model), batch=batch, imgsz=imgsz, threads=threads, iters=iters)]
    except Exception as e:  # onnxruntime raises its own types for unreadable models
        _fail(f"onnxruntime cannot run {model}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    ds = bench_deepsparse(str(model), batch=batch, imgsz=imgsz, threads=threads, iters=iters)
    if ds is not None:
        results.append(ds)
    rows = [(r.engine, "x".join(map(str, r.shape)), r.threads or "auto", f"{r.median_ms:.2f}", f"{r.p90_ms:.2f}",
             f"{r.throughput:.1f}") for r in results]
    _print_table(f"bench {model}", ("engine", "input", "threads", "median ms", "p90 ms", "images/s"), rows)
    if ds is None:
        print("DeepSparse: not installed (optional extra, Python < 3.12).")
    print("note: " + NOTE)
