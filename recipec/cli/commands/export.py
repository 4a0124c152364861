"""`recipec export` (ONNX that keeps sparsity and quantization, verified) and `recipec bench` (ORT timing).

Exit codes: 0 = exported (and verified), 1 = a verification check failed, 2 = bad input or usage.
torch / engine / yolo are imported inside the commands only.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import batch_option, fail, imgsz_option, refuse_scale_name


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("bench")(bench)


def promised_sparsity(loaded) -> dict[str, float]:
    """{param name: sparsity} the recipe of a finished recipec checkpoint promises (compiled here: the engine's
    export check gets the compiled recipe). The recipe text is untrusted: one that does not compile, or crashes
    the compiler, promises nothing checkable."""
    if not loaded.finished or not loaded.recipe_text:
        return {}
    from engine.export.mask_check import recipe_targets
    from recipec.cli.stored_recipe import StoredRecipeError, compile_stored

    try:
        return recipe_targets(compile_stored(loaded.recipe_text), loaded.model)
    except StoredRecipeError:
        return {}


def _fail(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


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
    imgsz: int = imgsz_option(640, "Input size in pixels (square), a multiple of 32."),
    batch: int = batch_option(1, "Batch size baked into the graph (see --dynamic)."),
    dynamic: bool = typer.Option(False, "--dynamic", help="Dynamic batch and image size axes."),
    opset: int = typer.Option(17, "--opset", help="ONNX opset (>= 13 for quantized models)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output .onnx path (default: ./<weights stem>.onnx)."),
    do_verify: bool = typer.Option(True, "--verify/--no-verify", help="Run and compare with onnxruntime."),
    data: str = typer.Option(None, "--data", help="Data YAML whose val split --verify runs on (up to 16 images)."),
    images: list[Path] = typer.Option(None, "--images", help="Images for --verify (default: --data's val split, "
                                                             "else the checkpoint's data YAML's, else the sample "
                                                             "images shipped with recipec)."),
    fmt: str = typer.Option("table", "--format", help="table, or json: one object on stdout (path, bytes, verify "
                                                      "result), for scripts."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar for --verify (none when stdout "
                                                                   "is not a terminal either)."),
) -> None:
    """Export WEIGHTS to ONNX: BN folded, QDQ for QAT models, zeros kept, Detect decode inside.

    Verification fails when torch detects nothing on its images: pass --data or --images showing what it detects."""
    if fmt not in ("table", "json"):
        _fail(f"--format must be table or json, got {fmt!r}")
    if imgsz < 32 or imgsz % 32:
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if batch < 1:
        _fail(f"--batch must be >= 1, got {batch}")
    refuse_scale_name(weights)
    from engine.checkpoint import CheckpointError as RecipecError
    from engine.export.images import ImagesError, pick_images
    from engine.export.load import load_for_export
    from engine.export.onnx_export import ExportError, export_onnx
    from yolo.checkpoint import CheckpointError

    as_json = fmt == "json"
    say = (lambda m: print(m, file=sys.stderr)) if as_json else print  # stdout holds the JSON alone
    try:
        loaded = load_for_export(weights)
    except (CheckpointError, RecipecError, ValueError) as e:
        _fail(str(e))
    loaded.promised = promised_sparsity(loaded)
    chosen = None
    if do_verify:  # before exporting: bad --data / --images write nothing
        try:
            chosen = pick_images(images, data, (loaded.args or {}).get("data"))
        except ImagesError as e:
            _fail(str(e))
    if out is None:  # in the current folder: the weights may sit in a read-only place
        out = Path(f"{Path(str(weights).split('?')[0]).stem}.onnx")
    meta = {"recipe_sha256": loaded.recipe_sha256, "source_weights": str(weights), "phase": loaded.phase}
    try:
        with contextlib.redirect_stdout(sys.stderr if as_json else sys.stdout):
            info = export_onnx(loaded.model, out, imgsz=imgsz, batch=batch, dynamic=dynamic, opset=opset,
                               metadata=meta)
    except ExportError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"cannot write {out}: {e.strerror or e}")
    tot = sum(r.numel for r in info["sparsity"])
    zer = sum(r.zeros for r in info["sparsity"])
    say(f"exported {out}  opset {opset}  {'INT8 QDQ' if info['quantized'] else 'FP32'}  "
        f"input {batch if not dynamic else 'B'}x3x{imgsz}x{imgsz}  conv sparsity {100 * zer / max(tot, 1):.1f}%"
        + (f"  int8 weights {info['int8_weights']}" if info["quantized"] else ""))
    result = {"onnx": str(out), "bytes": out.stat().st_size, "quantized": bool(info["quantized"]), "opset": opset,
              "input": None if dynamic else [batch, 3, imgsz, imgsz], "conv_sparsity": zer / max(tot, 1),
              "verify": None}
    report = None
    if chosen is not None:
        from engine.export.verify import verify

        say(f"verifying on {chosen.describe()}")
        with contextlib.redirect_stdout(sys.stderr if as_json else sys.stdout):
            report = verify(out, loaded.model, chosen.paths, imgsz=imgsz, require_boxes=True,
                            progress=not no_progress, masks=loaded.masks, recorded_sparsity=loaded.sparsity,
                            promised_sparsity=loaded.promised)
        result["verify"] = {**report.to_json(), "on": chosen.describe(), "image_source": chosen.to_json()}
    if as_json:
        print(json.dumps(result, indent=2))
    elif report is not None:
        _print_table(f"verify {out} ({report.precision})", ("check", "result", "detail"), report.table())
    if report is not None and not report.ok:
        empty = any(c.detail.startswith("0 boxes compared") and not c.ok for c in report.checks)
        why = (" (0 boxes compared: nothing to compare; pass --data or --images with images of what the model "
               "detects)") if empty else ""
        print(f"error: verification failed{why}", file=sys.stderr)
        raise typer.Exit(1)


def bench_json(model: Path, results: list, deepsparse: bool) -> dict:
    """`bench --format json`: the model, one entry per engine (latency in ms per batch, images/s), the note."""
    from engine.export.bench import NOTE

    return {"model": str(model), "deepsparse_installed": deepsparse, "note": NOTE,
            "results": [{"engine": r.engine, "input": list(r.shape), "batch": r.batch, "threads": r.threads,
                         "median_ms": round(r.median_ms, 4), "p90_ms": round(r.p90_ms, 4),
                         "images_per_s": round(r.throughput, 2), "iters": r.iters} for r in results]}


def bench(
    model: Path = typer.Argument(..., help="ONNX model to time.", show_default=False),
    batch: int = batch_option(1, "Batch size (for dynamic-batch models)."),
    imgsz: int = imgsz_option(640, "Image size (for dynamic-size models)."),
    threads: int = typer.Option(None, "--threads", help="Intra-op threads (default: runtime's choice)."),
    iters: int = typer.Option(30, "--iters", help="Timed runs (after 5 warm-up runs)."),
    fmt: str = typer.Option("table", "--format", help="table, or json: one object on stdout, for scripts."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (none when stdout is not a "
                                                                   "terminal either)."),
) -> None:
    """Latency and throughput of MODEL with onnxruntime (and DeepSparse when installed)."""
    if fmt not in ("table", "json"):
        fail(f"--format must be table or json, got {fmt!r}")
    if not model.is_file():
        _fail(f"model not found: {model}")
    if batch < 1 or imgsz < 32 or iters < 1:
        _fail("--batch, --iters must be >= 1 and --imgsz >= 32")
    from engine.export.bench import NOTE, bench_deepsparse, bench_onnx
    from yolo.errtext import first_line

    try:
        results = [bench_onnx(str(model), batch=batch, imgsz=imgsz, threads=threads, iters=iters,
                              progress=not no_progress)]
    except Exception as e:  # onnxruntime raises its own types for unreadable models
        _fail(f"onnxruntime cannot run {model}: {first_line(e)}")
    ds = bench_deepsparse(str(model), batch=batch, imgsz=imgsz, threads=threads, iters=iters)
    if ds is not None:
        results.append(ds)
    if fmt == "json":
        print(json.dumps(bench_json(model, results, deepsparse=ds is not None), indent=2))
        return
    rows = [(r.engine, "x".join(map(str, r.shape)), r.threads or "auto", f"{r.median_ms:.2f}", f"{r.p90_ms:.2f}",
             f"{r.throughput:.1f}") for r in results]
    _print_table(f"bench {model}", ("engine", "input", "threads", "median ms", "p90 ms", "images/s"), rows)
    if ds is None:
        print("DeepSparse: not installed (optional extra, Python < 3.12).")
    print("note: " + NOTE)
