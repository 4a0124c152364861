"""`compile_recipe`: the front end's one entry point (text -> YAML tree -> IR -> checks).

Never raises on bad input: unreadable files, YAML errors, bad expressions and bad values all come
back as diagnostics. `CompileResult.recipe` is None only when the file has no usable structure;
otherwise it holds every modifier that could be built, and `.ok` says whether any error was found.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from recipec.diagnostics import Diagnostic, error, warning
from recipec.ir.recipe import Recipe
from recipec.span import Span

if TYPE_CHECKING:
    from recipec.check.model import ModelFacts


@dataclass
class CompileResult:
    recipe: Recipe | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.recipe is not None and not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def read_source(source: str | Path) -> tuple[str | None, list[Diagnostic]]:
    """Read a recipe file as text; I/O problems and bad encodings are diagnostics (RC001/RC004)."""
    from recipec.syntax.loader import MAX_BYTES, decode

    path = str(source)
    try:
        # Non-blocking open, then fstat of what was opened: a named pipe neither blocks nor gets read,
        # and nothing can swap the file between the check and the read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        return None, [_not_a_file(path, "is a directory")]
    except OSError as exc:
        return None, [error("RC001", f"cannot read the file: {exc.strerror or exc}", None)]
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a directory" if stat.S_ISDIR(mode) else f"is not a regular file (a {_file_kind(mode)})"
        return None, [_not_a_file(path, what)]
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            return None, [error("RC001", f"cannot read the file: {exc.strerror or exc}", None)]
    return decode(data, path)


def _not_a_file(path: str, what: str) -> Diagnostic:
    return error("RC001", f"{what}, not a recipe file", Span.point(path, 1, 1))


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def compile_recipe(source: str | Path, *, text: str | None = None, overrides: dict[str, float] | None = None,
                   checks: bool = True, model: str | ModelFacts | None = "auto") -> CompileResult:
    """Compile a recipe file (or `text`, reported under the name `source`) to the IR.

    `overrides` replace top-level variables before evaluation (like SparseML's recipe args), so
    every `eval()` that depends on them follows. `checks=False` skips the rule catalog (only
    parse/lowering diagnostics). `model` is passed to the model-aware checks: "auto", "none",
    "yolov5n".."yolov5x" (bundled facts), or the `ModelFacts` of the caller's model.
    """
    from recipec.ir.lower import lower
    from recipec.syntax.loader import load

    path = str(source)
    diags: list[Diagnostic] = []
    if text is None:
        text, read_diags = read_source(path)
        diags.extend(read_diags)
        if text is None:
            return CompileResult(None, [d if d.span is not None else replace(d, span=Span.point(path, 1, 1))
                                        for d in diags])
    suffix = Path(path).suffix.lower()
    if suffix == ".yml":
        diags.append(warning("RC002", "SparseML's legacy loader accepts only `.yaml` and `.md` recipes",
                             Span.point(path, 1, 1), "rename the file to `.yaml`"))
    try:
        doc, load_diags = load(text, path, markdown=suffix == ".md")
        diags.extend(load_diags)
        recipe = lower(doc, diags, overrides) if doc.root is not None else None
        if recipe is not None and checks:
            from recipec.check import run_checks

            diags.extend(run_checks(recipe, model=model))
    except RecursionError:
        diags.append(error("RC013", "the recipe nests too deeply", Span.point(path, 1, 1)))
        recipe = None
    diags = [d if d.span is not None else replace(d, span=Span.point(path, 1, 1)) for d in diags]
    diags.sort(key=Diagnostic.sort_key)
    return CompileResult(recipe, diags)
