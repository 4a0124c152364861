"""Typer wiring of `recipec lint`, `explain` and `compile` (the work is in `lint.py`).

Kept apart from `lint.py`, whose fast path runs without typer: this module is only imported when
the full typer app is built (`--help`, completion, or options the fast path leaves to typer). The options
come from lint.py's tables, which the fast path parses too: one definition of each.
"""

from __future__ import annotations

import sys

from recipec.cli.commands.lint import (COMPILE_OPTIONS, EXPLAIN_OPTIONS, LINT_OPTIONS, UsageError, compile_cmd, explain,
                                   lint, list_codes)


def _options(table) -> dict:
    """{key: typer.Option} for each row of one of lint.py's option tables (a switch gives `--x/--no-x`)."""
    import typer

    return {o.key: typer.Option(o.default, "/".join(o.flags) if o.kind == "switch" else o.flags[0],
                                *(() if o.kind == "switch" else o.flags[1:]), help=o.help) for o in table}


def register(app) -> None:
    """Add `lint`, `explain` and `compile` to the typer app."""
    import typer

    L, C, E = _options(LINT_OPTIONS), _options(COMPILE_OPTIONS), _options(EXPLAIN_OPTIONS)

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
        fmt: str = L["fmt"], strict: bool = L["strict"], select: list[str] = L["select"],
        ignore: list[str] = L["ignore"], model: str = L["model"], color: bool = L["color"],
        sets: list[str] = L["sets"], fix: bool = L["fix"], diff: bool = L["diff"],
        unsafe_fixes: bool = L["unsafe_fixes"],
    ) -> None:
        """Check recipes like a compiler: every finding has a code, a position and a hint."""
        _run(lint, paths, fmt=fmt, strict=strict, select=select, ignore=ignore, model=model, color=color,
             sets=sets, fix=fix, diff=diff, unsafe_fixes=unsafe_fixes)

    @app.command("explain")
    def explain_command(
        code: str = typer.Argument(None, help="A diagnostic code, e.g. RC203."),
        list_all: bool = E["list_all"],
    ) -> None:
        """Explain a diagnostic code."""
        if list_all or code is None:
            raise typer.Exit(list_codes())
        raise typer.Exit(explain(code))

    @app.command("compile")
    def compile_command(
        recipe: str = typer.Argument(..., help="Recipe file."),
        fmt: str = C["fmt"], model: str = C["model"], sets: list[str] = C["sets"],
    ) -> None:
        """Print the recipe with every variable and eval() resolved, in canonical form."""
        _run(compile_cmd, recipe, fmt=fmt, model=model, sets=sets)
