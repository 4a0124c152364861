"""Typer wiring of `recipec lint`, `explain` and `compile` (the work is in `lint.py`).

Kept apart from `lint.py`, whose fast path runs without typer: this module is only imported when
the full typer app is built (`--help`, completion, or options the fast path leaves to typer).
"""

from __future__ import annotations

import sys

from recipec.commands.lint import UsageError, compile_cmd, explain, lint, list_codes


def register_commands(app) -> None:
    import typer

    def _run(fn, *a, **k):
        try:
            code = fn(*a, **k)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        raise typer.Exit(code)

    @app.command("lint")
    def lint_command(
        paths: list[str] = typer.Argument(..., help="Recipe files (.yaml/.md) or folders of them; a bare name "
                                                    "that is no file here may name an example shipped with recipec "
                                                    "(yolov5s_transfer_pruned_quantized.yaml)."),
        fmt: str = typer.Option(None, "--format", "-f",
                                help="concise | full | json | sarif | github (default: full on a terminal)."),
        strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
        select: list[str] = typer.Option(None, "--select", help="Only these codes/prefixes (comma-separated)."),
        ignore: list[str] = typer.Option(None, "--ignore", help="Drop these codes/prefixes (comma-separated)."),
        model: str = typer.Option("auto", "--model",
                                  help="auto | none | yolov5n|s|m|l|x (add -v5 for the v5.0 layout)."),
        color: bool = typer.Option(None, "--color/--no-color", help="Colour the full format."),
        sets: list[str] = typer.Option(None, "--set", help="Override a recipe variable: NAME=VALUE."),
    ) -> None:
        """Check recipes like a compiler: every finding has a code, a position and a hint."""
        _run(lint, paths, fmt=fmt, strict=strict, select=select, ignore=ignore, model=model, color=color,
             sets=sets)

    @app.command("explain")
    def explain_command(
        code: str = typer.Argument(None, help="A diagnostic code, e.g. RC203."),
        list_all: bool = typer.Option(False, "--list", help="List every code with its title."),
    ) -> None:
        """Explain a diagnostic code."""
        if list_all or code is None:
            raise typer.Exit(list_codes())
        raise typer.Exit(explain(code))

    @app.command("compile")
    def compile_command(
        recipe: str = typer.Argument(..., help="Recipe file."),
        fmt: str = typer.Option("yaml", "--format", "-f", help="yaml | json"),
        model: str = typer.Option("auto", "--model", help="Model for the model-aware checks."),
        sets: list[str] = typer.Option(None, "--set", help="Override a recipe variable: NAME=VALUE."),
    ) -> None:
        """Print the recipe with every variable and eval() resolved, in canonical form."""
        _run(compile_cmd, recipe, fmt=fmt, model=model, sets=sets)
