"""`recipec plan RECIPE`: the exact per-step schedule of a recipe, before anything trains.

No torch is imported (only the front end, numpy and, for --plot, matplotlib).
Exit codes: 0 = planned (warnings allowed), 1 = the recipe or the plan has errors,
2 = usage error or unreadable input.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import batch_option, parse_sets_or_exit

FORMATS = ("table", "json")
MAX_STEPS = 50_000_000  # 1.2 GB of LR table; far beyond any real run
MODELS = ("auto", "none", "yolov5n", "yolov5s", "yolov5m", "yolov5l", "yolov5x")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def _shown(n: int) -> str:
    """An integer option for a message; one with hundreds of digits is abbreviated."""
    text = str(n)
    return text if len(text) <= 20 else f"{text[:6]}...({len(text)} digits)"


def _usage(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(2)


def _print_diags(diags, sources: dict[str, str]) -> None:
    """Compiler-style diagnostics (source line, carets, help) on stderr."""
    try:
        from recipec.diagnostics.render import render_full

        sys.stderr.write(render_full(list(diags), sources))
        return
    except ImportError:  # pragma: no cover - the front end's renderer is part of the package
        pass
    for d in diags:
        sp = d.span
        where = f"{sp.path}:{sp.line}:{sp.col}: " if sp else ""
        print(f"{where}{d.severity} {d.code} {d.message}", file=sys.stderr)
        if d.help:
            print(f"  help: {d.help}", file=sys.stderr)


def _fixed_epoch_values(recipe) -> str:
    lines = []
    for i, m in enumerate(recipe.modifiers):
        for name in ("start_epoch", "end_epoch", "freeze_bn_stats_epoch",
                     "disable_quantization_observer_epoch"):
            v = getattr(m, name, None)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                sp = m.field_spans.get(name) if getattr(m, "field_spans", None) else None
                at = f" (line {sp.line})" if sp else ""
                lines.append(f"  {m.kind}#{i + 1} {name} = {v:g}{at}")
    return "\n".join(lines) or "  (no epoch values)"


def plan(
    recipe: Path = typer.Argument(..., help="Recipe file (.yaml or .md), or the bare name of an example shipped with "
                                            "recipec when no such file is here."),
    steps_per_epoch: int = typer.Option(None, "--steps-per-epoch", "-S",
                                        help="Optimizer steps (batches) per epoch."),
    data: Path = typer.Option(None, "--data", help="Ultralytics data YAML: steps = ceil(train images / --batch)."),
    batch: int = batch_option(None, "Batch size, with --data."),
    epochs: int = typer.Option(None, "--epochs", help="Set the recipe variable num_epochs."),
    sets: list[str] = typer.Option(None, "--set", help="Override a recipe variable: NAME=VALUE (repeatable)."),
    base_lr: float = typer.Option(0.01, "--base-lr", help="LR of steps no modifier drives (YOLOv5 lr0)."),
    model: str = typer.Option("auto", "--model", help="Model for the model-aware checks: " + "|".join(MODELS)),
    fmt: str = typer.Option("table", "--format", help="table or json (one entry per optimizer step)."),
    plot: Path = typer.Option(None, "--plot", help="Write LR / sparsity / QAT against epochs to a PNG."),
) -> None:
    """Show the LR per param group, sparsity targets and QAT state of every step of a recipe."""
    from recipec.ir.values import MAX_EPOCH

    if fmt not in FORMATS:
        _usage(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if model not in MODELS:
        _usage(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
    if not 0 < base_lr < math.inf:
        _usage(f"--base-lr must be a finite number > 0, got {base_lr}")
    if epochs is not None and not 1 <= epochs <= MAX_EPOCH:
        _usage(f"--epochs must be between 1 and {MAX_EPOCH:,}, got {_shown(epochs)}")
    if steps_per_epoch is not None and steps_per_epoch > MAX_STEPS:
        _usage(f"--steps-per-epoch {_shown(steps_per_epoch)} is beyond the {MAX_STEPS:,} steps "
               "recipec plan handles")
    if steps_per_epoch is not None and (data is not None or batch is not None):
        _usage("give either --steps-per-epoch or --data with --batch, not both")
    if steps_per_epoch is None:
        if data is None or batch is None:
            _usage("give --steps-per-epoch S, or --data DATA.yaml with --batch B")
        from recipec.cli.plan_data import DatasetError, steps_per_epoch_from_data

        try:
            steps_per_epoch = steps_per_epoch_from_data(data, batch)
        except DatasetError as exc:
            _usage(str(exc))
    if steps_per_epoch < 1:
        _usage(f"--steps-per-epoch must be >= 1, got {steps_per_epoch}")
    if not recipe.exists():  # a bare name may be an example shipped with recipec
        from recipec.examples import resolve_recipe_arg

        recipe = Path(resolve_recipe_arg(str(recipe)))
    if not recipe.exists():
        _usage(f"{recipe}: no such file")

    from recipec.cli.recipe_epochs import compile_with_epochs
    from recipec.plan.build import build_plan

    overrides = parse_sets_or_exit(sets)
    res, has_num_epochs, fixed = compile_with_epochs(recipe, epochs=epochs, overrides=overrides, model=model)
    if not has_num_epochs:
        print(f"error: --epochs sets the recipe variable `num_epochs`, which {recipe} does not "
              f"define; its epoch values are fixed:\n{_fixed_epoch_values(res.recipe)}",
              file=sys.stderr)
        raise typer.Exit(2)
    sources = {str(recipe): res.recipe.text if res.recipe is not None else ""}
    if res.diagnostics:
        _print_diags(res.diagnostics, sources)
    if any(d.code == "RC001" for d in res.diagnostics):  # unreadable: a folder, a named pipe...
        raise typer.Exit(2)
    if not res.ok:
        hint = None
        if epochs is not None and res.recipe is not None:  # fine as written, broken by --epochs?
            from recipec.plan.epochs_fit import epochs_fit_hint

            hint = epochs_fit_hint(str(recipe), res.recipe.text, epochs, overrides)
        print(f"error: --epochs {epochs}: {hint}" if hint else f"error: {recipe} has errors; not planned",
              file=sys.stderr)
        raise typer.Exit(1)
    total = max(res.recipe.max_epochs, 0) * steps_per_epoch
    if total > MAX_STEPS:
        _usage(f"{int(res.recipe.max_epochs)} epochs x {steps_per_epoch} steps = {int(total)} steps; "
               f"recipec plan handles at most {MAX_STEPS}")
    p = build_plan(res.recipe, steps_per_epoch, base_lr=base_lr, fixed_from_epochs=fixed,
                   epochs_override=epochs, prior=res.diagnostics)
    if p.diagnostics:
        _print_diags(p.diagnostics, sources)
    if fmt == "json":
        from recipec.plan.render_json import iter_json

        out = sys.stdout
        for chunk in iter_json(p):
            out.write(chunk)
        out.flush()
    else:
        from recipec.plan.render_table import render_table

        render_table(p, sys.stdout, title=f"{recipe.name} at {steps_per_epoch} steps per epoch")
    if plot is not None:
        from recipec.plan.plot import plot_plan

        try:
            plot_plan(p, plot, title=f"{recipe.name} ({steps_per_epoch} steps/epoch)")
        except ImportError:
            _usage("--plot needs matplotlib (pip install matplotlib)")
        except (OSError, ValueError) as exc:
            _usage(f"cannot write {plot}: {getattr(exc, 'strerror', None) or exc}")
    if any(d.severity == "error" for d in p.diagnostics):
        raise typer.Exit(1)
