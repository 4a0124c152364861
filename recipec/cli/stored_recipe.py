"""The recipe stored in a checkpoint, compiled: untrusted text, so a crash of the compiler on it is a typed error
(`train` reports it naming the checkpoint; `export` then checks no recipe targets), never a traceback."""

from __future__ import annotations

from recipec.ir.recipe import Recipe


class StoredRecipeError(Exception):
    """The compiler crashed on a stored recipe; the message is `Type: first line of the error`."""


def compile_stored(text: str) -> Recipe | None:
    """The stored recipe's IR (None when it has no usable structure). Raises StoredRecipeError."""
    from recipec.frontend import compile_recipe  # looked up at the call (tests replace it)
    from yolo.errtext import first_line

    try:
        return compile_recipe("<checkpoint recipe>", text=text).recipe
    except Exception as e:  # noqa: BLE001 - any failure of the compiler on this text is reported the same way
        raise StoredRecipeError(f"{type(e).__name__}: {first_line(e)}") from None
