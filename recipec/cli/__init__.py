"""The CLI and application layer, on top of the front end, the engine and yolo (docs/architecture.md).

`app.py` builds the typer app and is the console script's `main`; `commands/` holds one module per command;
`train_app.py` and `demo/` orchestrate training and the demo; the rest resolve arguments (run folders, recipes
with --epochs, model facts from yolo, a data YAML's image count). The only layer that prints and picks exit codes.
"""

from recipec.cli.app import build_app, main

__all__ = ["build_app", "main"]
