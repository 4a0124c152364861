"""The typed, frozen recipe IR: `Recipe`, `Variable`, and (in `recipec.modifiers`) the specs."""

from recipec.ir.recipe import Recipe, Variable

__all__ = ["Recipe", "Variable"]
