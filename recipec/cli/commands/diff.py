"""`recipec diff A B`: two recipes' schedules compared step by step, and their modifiers field by field.

Exit codes: 0 = the same schedule on every step, 1 = different, 2 = usage error or a recipe that
cannot be read, compiled or planned. No torch is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import fail, parse_sets_or_exit

FORMATS = ("table", "json")
MAX_STEPS = 5_000_000  # per plan; a diff holds both plans' tables


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


def _recipe(arg: Path) -> str:
    if not arg.exists():  # a bare name may be an example shipped with recipec
        from recipec.examples import resolve_recipe_arg

        arg = Path(resolve_recipe_arg(str(arg)))
    if not arg.exists():
        fail(f"{arg}: no such file")
    if arg.is_dir():
        fail(f"{arg}: is a directory, not a recipe file")
    return str(arg)


def diff(
    a: Path = typer.Argument(..., help="First recipe (.yaml or .md), or the bare name of a shipped example."),
    b: Path = typer.Argument(..., help="Second recipe."),
    steps_per_epoch: int = typer.Option(100, "--steps-per-epoch", "-S", help="Optimizer steps per epoch."),
    epochs: int = typer.Option(None, "--epochs", help="Set the variable num_epochs in both recipes."),
    sets: list[str] = typer.Option(None, "--set", help="Override a variable in both recipes: NAME=VALUE."),
    base_lr: float = typer.Option(0.01, "--base-lr", help="LR of steps no modifier drives (YOLOv5 lr0)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Compare two recipes' plans step by step: LR per group, sparsity per modifier, QAT, and their modifiers."""
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if steps_per_epoch < 1:
        fail(f"--steps-per-epoch must be >= 1, got {steps_per_epoch}")
    if epochs is not None and epochs < 1:
        fail(f"--epochs must be >= 1, got {epochs}")
    if not base_lr > 0:
        fail(f"--base-lr must be > 0, got {base_lr}")
    pa, pb = _recipe(a), _recipe(b)
    overrides = parse_sets_or_exit(sets)
    from recipec.plan.diff import PlanDiffError, diff_texts

    try:
        d = diff_texts(pa, None, pb, None, steps_per_epoch=steps_per_epoch, epochs=epochs,
                       overrides=overrides, base_lr=base_lr, max_steps=MAX_STEPS)
    except PlanDiffError as exc:
        fail(str(exc))
    from recipec.plan.render_diff import render_diff_json, render_diff_text

    sys.stdout.write(render_diff_json(d) if fmt == "json" else render_diff_text(d))
    raise typer.Exit(0 if d.same_schedule else 1)
