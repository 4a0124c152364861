"""The demo's final table (rich): one row per model, then the two invariants the demo exists to show.

Rows: dense (torch, task A), pruned (torch, task A), transfer (torch QAT model, task B), FP32 ONNX (the
transfer run's best pre-QAT checkpoint) and INT8 ONNX (the final QAT model) (onnxruntime, task B). Columns: task, mAP50, mAP50-95, sparsity of the prunable weights, ONNX size
(raw and gzip: zeros compress), onnxruntime latency at batch 1. Below: whether every zero of the pruned start
is still zero after transfer (same positions) and whether both exports passed verification.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def summary_lines(res: Any) -> list[str]:
    """Plain-text invariants (also used by tests and the log)."""
    s = res.sparsity
    kept = (f"sparsity kept exactly: {s['zeros_kept']:,} of {s['zeros_before']:,} zeros of the pruned start are "
            f"zero after transfer, at the same positions ({s['tensors']} tensors, "
            f"{100 * s['sparsity_before']:.1f}% -> {100 * s['sparsity_after']:.1f}%)"
            if s.get("kept_exactly") else
            f"SPARSITY NOT KEPT: {s.get('zeros_kept', 0):,} of {s.get('zeros_before', 0):,} zeros kept; "
            f"lost in {', '.join(s.get('lost_in', [])[:4]) or 'n/a'}")
    if s.get("kept_exactly") and not s.get("fp32_kept_exactly", True):
        kept += "; BUT the FP32 export's checkpoint lost zeros"
    if s.get("reinitialised"):
        kept += f"; {len(s['reinitialised'])} Detect output convs re-initialised for the new classes (dense)"
    lines = [kept]
    for key in ("int8", "fp32"):
        v = res.verify.get(key)
        if v is None:
            lines.append(f"{key.upper()} export: not verified")
            continue
        passed = sum(c["ok"] for c in v["checks"])
        failed = [c["name"] for c in v["checks"] if not c["ok"]]
        lines.append(f"{key.upper()} export verified: {'PASS' if v['ok'] else 'FAIL'} ({passed}/{len(v['checks'])} "
                     "checks vs torch" + (f"; failed: {', '.join(failed)}" if failed else "") + ")")
    return lines


def _footer(res: Any, console: Any) -> None:
    """The invariants (green when they hold), the time of each stage and where the outputs are."""
    for line in summary_lines(res):
        style = "green" if ("PASS" in line or line.startswith("sparsity kept")) else "bold red"
        console.print(line, style=style, highlight=False)
    total = sum(res.seconds.values())
    console.print("time: " + ", ".join(f"{k} {v:.0f}s" for k, v in res.seconds.items()) + f"; total {total:.0f}s",
                  highlight=False)
    console.print(f"outputs: {res.out} (summary.json, demo.log, runs, ONNX files)", highlight=False)


def render(res: Any, cfg: Any, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    s = res.sparsity
    t = Table(title=f"recipec demo: yolov5n at {cfg.imgsz}px, synthetic shapes A -> B", title_justify="left")
    for col, just in (("model", "left"), ("task", "left"), ("mAP50", "right"), ("mAP50-95", "right"),
                      ("sparsity", "right"), ("ONNX size (gzip)", "right"), ("ORT latency", "right")):
        t.add_column(col, justify=just)
    spars = {"dense": None, "pruned": s.get("sparsity_before"), "transfer": s.get("sparsity_after"),
             "fp32 onnx": s.get("sparsity_after"), "int8 onnx": s.get("sparsity_after")}
    for label, m in res.metrics.items():
        size = lat = ""
        key = label.split()[0] if label.endswith("onnx") else None
        if key and key in res.onnx:
            o = res.onnx[key]
            size = f"{_mb(o['bytes'])} ({_mb(o['gz_bytes'])})"
            lat = f"{o['median_ms']:.2f} ms" if "median_ms" in o else ""
        sp = spars.get(label)
        t.add_row(label, m["task"], f"{m['map50']:.3f}", f"{m['map50_95']:.3f}",
                  "0%" if label == "dense" else (f"{100 * sp:.1f}%" if sp is not None else ""), size, lat)
    console.print(t)
    console.print("transfer = the final QAT model in torch; int8 onnx = its export; fp32 onnx = the transfer run's "
                  "best checkpoint before QAT. Task A val for dense/pruned, task B val for the rest.", style="dim")
    if "fp32" in res.onnx and "int8" in res.onnx and "median_ms" in res.onnx["int8"]:
        f, q = res.onnx["fp32"], res.onnx["int8"]
        console.print(f"INT8 vs FP32 (onnxruntime, batch 1, median of {q['iters']}): "
                      f"{f['median_ms'] / q['median_ms']:.2f}x speed, {f['bytes'] / q['bytes']:.2f}x smaller")
    _footer(res, console)


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.3f}x" if a is not None and b else "n/a"


def comparison_lines(res: Any) -> list[str]:
    """Sparse transfer next to dense transfer (the question the demo answers), and INT8 vs FP32."""
    d, s, q = res.metrics["dense_transfer"], res.metrics["sparse_transfer"], res.metrics["int8_onnx"]
    lines = [f"sparse transfer vs dense transfer: mAP50 {s['map50']:.3f} vs {d['map50']:.3f} "
             f"({_ratio(s['map50'], d['map50'])}), mAP50-95 {s['map50_95']:.3f} vs {d['map50_95']:.3f} "
             f"({_ratio(s['map50_95'], d['map50_95'])}), with {100 * res.sparsity.get('end', 0):.1f}% of the "
             "prunable weights zero",
             f"INT8 ONNX vs the fake-quant torch model: mAP50 {q['map50'] - s['map50']:+.3f}, "
             f"mAP50-95 {q['map50_95'] - s['map50_95']:+.3f}"]
    if "fp32" in res.onnx and "int8" in res.onnx and "ms" in res.onnx["int8"]:
        f, i = res.onnx["fp32"], res.onnx["int8"]
        lines.append(f"INT8 vs FP32 ONNX (onnxruntime, batch 1, median of {i['iters']}): {f['ms']:.2f} -> "
                     f"{i['ms']:.2f} ms ({i['ms'] / f['ms']:.2f}x the time), {f['bytes'] / i['bytes']:.2f}x smaller")
    return lines


def render_real(res: Any, cfg: Any, console: Any = None) -> None:
    """`recipec demo --data`: one row per model, dense and sparse transfer side by side (fits 80 columns)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    sp = res.sparsity
    t = Table(title=f"recipec demo: {Path(str(cfg.weights)).name} at {cfg.imgsz}px on {Path(str(cfg.data)).name}",
              title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("model", "mAP50", "mAP50-95", "vs dense", "zeros", "ONNX MB (gz)", "latency"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    dense = res.metrics["dense_transfer"]
    spars = {"dense_transfer": 0.0, "pruned": sp.get("start"), "sparse_transfer": sp.get("end"),
             "fp32_onnx": sp.get("end"), "int8_onnx": sp.get("end")}
    for label, m in res.metrics.items():
        o = res.onnx.get(label.split("_")[0]) if label.endswith("onnx") else None
        size = f"{o['bytes'] / 1e6:.2f} ({o['gz_bytes'] / 1e6:.2f})" if o else ""
        lat = f"{o['ms']:.2f} ms" if o and "ms" in o else ""
        vs = _ratio(m["map50"], dense["map50"]) if m["task"] == "data" and label != "dense_transfer" else ""
        fmt = (lambda v: "-" if v is None else f"{v:.3f}")
        x = spars.get(label)
        t.add_row(label + (" *" if m["task"] == "upstream" else ""), fmt(m["map50"]), fmt(m["map50_95"]), vs,
                  "" if x is None else f"{100 * x:.1f}%", size, lat)
    console.print(t)
    console.print("mAP on the dataset's val split (* pruned: on the upstream data's val split), square "
                  f"{cfg.imgsz}px batches as the ONNX files run. sparse_transfer = the final QAT model in torch, "
                  "int8_onnx its export; fp32_onnx = the sparse transfer run's best checkpoint before QAT. "
                  "vs dense = mAP50 / dense_transfer's mAP50. Latency: onnxruntime, batch 1.", style="dim")
    for line in comparison_lines(res):
        console.print(line, highlight=False)
    _footer(res, console)
