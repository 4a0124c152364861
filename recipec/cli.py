"""The `recipec` command line. The only place that prints to the terminal and picks exit codes.

Exit codes: 0 = clean, 1 = findings (or a failed check), 2 = usage error, unreadable input or
internal error.
"""

from __future__ import annotations

import importlib
import sys

# Command modules, in help order. Each module in recipec/commands/ defines `register(app)`.
COMMAND_MODULES = (
    "lint",
    "plan",
    "val",
    "data",
    "predict",
    "train",
    "export",
    "demo", "schema", "docs",
)


def build_app():
    import typer

    app = typer.Typer(
        name="recipec",
        help="Compile, lint, plan and run sparsification recipes for YOLOv5.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
    )
    for name in COMMAND_MODULES:
        importlib.import_module(f"recipec.commands.{name}").register(app)

    @app.callback()
    def _root() -> None:
        """recipec: sparse transfer learning of detectors, driven by recipes."""

    return app


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("lint", "explain", "compile"):
        # Fast path: these run without building the typer app (lint startup time matters);
        # recipec/commands/lint.py keeps the typer and fast paths to one behaviour.
        from recipec.commands.lint import fast_main

        code = fast_main(args)
        if code is not None:
            sys.exit(code)
    app = build_app()
    try:
        app(args=argv, prog_name="recipec", standalone_mode=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
