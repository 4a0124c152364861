"""RC213 fixes: a plain `1e-5` (no dot) is a string to PyYAML (YAML 1.1); write `1.0e-5`.

The new text is checked to be a float with the same value for PyYAML, so SparseML and recipec
read the same number and the compiled recipe does not change. Quoted text (`'1e-5'`) is left
alone: quotes say a string was meant.
"""

from __future__ import annotations

import re

from recipec.fix.edits import Edit, Fix, text_at

_TOKEN = re.compile(r"(?:^|(?<=\s))([-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)[eE][-+]?\d+)$")


def dotted(raw: str) -> str:
    """`1e-5` -> `1.0e-5`, `2E5` -> `2.0E+5`: a mantissa with a dot and a signed exponent."""
    mant, e, exp = re.split(r"([eE])", raw, maxsplit=1)
    if "." not in mant:
        mant += ".0"
    elif mant.endswith("."):
        mant += "0"
    if mant.lstrip("+-").startswith("."):
        mant = mant.replace(".", "0.", 1)
    if exp[:1] not in "+-":
        exp = "+" + exp
    return f"{mant}{e}{exp}"


def _reads_same(raw: str, new: str) -> bool:
    import yaml

    try:
        v = yaml.safe_load(f"v: {new}")["v"]
        return isinstance(v, float) and v == float(raw.replace("_", ""))
    except (yaml.YAMLError, ValueError, OverflowError):
        return False


def fix(diag, text: str, starts, recipe):

    sp = diag.span
    if sp.line != sp.end_line:
        return None
    old = text_at(text, sp, starts)
    m = _TOKEN.search(old or "")
    if m is None:
        return None
    raw = m.group(1)
    new = dotted(raw)
    if not _reads_same(raw, new):
        return None
    col = sp.col + m.start(1)
    from recipec.span import Span

    at = Span(sp.path, sp.line, col, sp.line, col + len(raw))
    return Fix("RC213", f"write `{raw}` as `{new}`", (Edit.at(at, raw, new),))
