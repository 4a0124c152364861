"""The `recipec` command line. The only place that prints to the terminal and picks exit codes.

Exit codes: 0 = clean, 1 = findings (or a failed check), 2 = usage error, unreadable input or
internal error. An internal error (an exception no command handled) is one line on stderr naming the
input files and asking for a report; `RECIPEC_DEBUG=1` prints the traceback too. When stdout is closed early (`recipec explain --list | head`) the command stops quietly with
exit code 1, as click and rich do for the commands they print for; never with a BrokenPipeError traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

CLOSED_STDOUT = 1  # the code click and rich exit with when stdout is closed under them
INTERNAL_ERROR = 2  # a crash (a bug of recipec): never 1, which means findings

# Command modules, in help order. Each module in recipec/cli/commands/ defines `register(app)`.
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
        importlib.import_module(f"recipec.cli.commands.{name}").register(app)

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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # noqa: BLE001 - the one crash guard of every command (fast path and typer)
        code = _internal_error(exc, sys.argv[1:] if argv is None else list(argv))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    except (ValueError, AttributeError):  # stdout already closed or replaced
        pass
    sys.exit(code)


def _internal_error(exc: Exception, args: list[str]) -> int:
    """A crash: one line naming the input and asking for a report (the traceback with RECIPEC_DEBUG=1); exit 2,
    never 1 (1 means findings)."""
    if os.environ.get("RECIPEC_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exc()
    try:
        what = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    except Exception:  # noqa: BLE001 - a message that cannot even be printed
        what = ""
    inputs = [a for a in args[1:] if not a.startswith("-") and os.path.exists(a)]
    where = (f"while reading {', '.join(inputs)}" if inputs
             else f"in `recipec {args[0]}`" if args else "in recipec")
    detail = f"{type(exc).__name__}: {what}" if what else type(exc).__name__
    try:
        print(f"recipec: internal error {where}: {detail} - please report this (RECIPEC_DEBUG=1 shows the "
              "traceback)", file=sys.stderr)
    except Exception:  # noqa: BLE001 - stderr gone: the exit code still says it
        pass
    return INTERNAL_ERROR


def _main(argv: list[str] | None) -> int | None:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # no typer app needed
        print(f"recipec {_version_text()}")
        return 0
    if args and args[0] in ("lint", "explain", "compile"):
        # Fast path: these run without building the typer app (lint startup time matters);
        # recipec/cli/commands/lint.py keeps the typer and fast paths to one behaviour.
        from recipec.cli.commands.lint import fast_main

        code = fast_main(args)
        if code is not None:
            sys.exit(code)
    app = build_app()
    try:
        app(args=argv, prog_name="recipec", standalone_mode=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
