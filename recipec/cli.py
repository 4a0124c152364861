"""The `recipec` command line. The only place that prints to the terminal and picks exit codes.

Exit codes: 0 = clean, 1 = findings (or a failed check), 2 = usage error, unreadable input or
internal error. When stdout is closed early (`recipec explain --list | head`) the command stops quietly with
exit code 1, as click and rich do for the commands they print for; never with a BrokenPipeError traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

CLOSED_STDOUT = 1  # the code click and rich exit with when stdout is closed under them

# Command modules, in help order. Each module in recipec/commands/ defines `register(app)`.
COMMAND_MODULES = (
    "lint_app",  # lint, explain, compile (the work and the fast path are in lint.py)
    "plan",
    "diff",
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

    def _version(value: bool) -> None:
        if value:
            print(f"recipec {_version_text()}")
            raise typer.Exit()

    @app.callback()
    def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit.")) -> None:
        """recipec: sparse transfer learning of detectors, driven by recipes."""

    return app


def _version_text() -> str:
    from recipec import __version__

    return __version__


def _stdout_closed() -> int:
    """The reader went away (`| head`): point stdout at /dev/null so that nothing more (not even the flush at
    exit) raises, and stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return CLOSED_STDOUT


def main(argv: list[str] | None = None) -> None:
    """Run the command line; every path ends in `sys.exit(code)`. A closed stdout ends quietly, never in a
    BrokenPipeError traceback (for the fast path, typer's commands and the final flush alike)."""
    try:
        code = _main(argv)
    except SystemExit as e:
        code = e.code
    except BrokenPipeError:
        code = _stdout_closed()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    except (ValueError, AttributeError):  # stdout already closed or replaced
        pass
    sys.exit(code)


def _main(argv: list[str] | None) -> int | None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # no typer app needed
        print(f"recipec {_version_text()}")
        return 0
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
