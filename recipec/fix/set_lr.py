"""RC401 fix (unsafe: it changes the schedule): end the LR schedule that overwrites a SetLR.

The schedule's `end_epoch` becomes the SetLR's `start_epoch`, copying its source text
(`eval(quantization_start_epoch)`, `*quantization_start_epoch`) so that both keep moving
together when a variable changes; the number where the text cannot be copied (an anchor, an
alias defined later in the file, another stage's variables). SparseML then writes the
schedule's final value and the SetLR's value on the same step, and the SetLR, later in the
manager order, wins and holds. Not offered when the schedule has no written `end_epoch`, when it
would then end at or before its start, or when its end is an anchor that other values share."""

from __future__ import annotations

import re

from recipec.fix.edits import Edit, Fix, text_at


_ALIAS = re.compile(r"\*([^\s,\[\]{}]+)")


def _plain(txt: str | None) -> bool:
    """Text a fix may replace or copy: one value, no anchor (others may share it), no comment."""
    return bool(txt) and not any(c in txt for c in "&\n\r#")


def _copyable(txt: str | None, text: str, starts, line: int) -> bool:
    """An alias may be copied only to a place after its anchor (YAML needs the anchor first)."""
    if not _plain(txt):
        return False
    m = _ALIAS.fullmatch(txt.strip())
    if m is None:
        return "*" not in txt
    anchor = re.search(r"&" + re.escape(m.group(1)) + r"(?![^\s,\[\]{}])", text)
    return anchor is not None and anchor.start() < starts[line - 1]


def fix(diag, text: str, starts, recipe):
    from recipec.check._util import fmt, window
    from recipec.check.set_lr_overwritten import overwrites

    if recipe is None:
        return None
    for s, f, at, _hi in overwrites(recipe):
        if s.tag_span != diag.span:
            continue
        if "end_epoch" not in f.given or at <= window(f)[0]:
            return None
        sp = f.field_spans.get("end_epoch")
        old = text_at(text, sp, starts) if sp is not None else None
        if not _plain(old) or sp.line != sp.end_line:
            return None
        src = s.field_spans.get("start_epoch") if "start_epoch" in s.given else None
        new = text_at(text, src, starts) if src is not None else None
        if (not _copyable(new, text, starts, sp.line) or src.line != src.end_line
                or (s.stage != f.stage and ("eval" in new or "*" in new))):
            new = fmt(at) if float(at) != int(at) else f"{int(at)}"
        line = f.span.line if f.span else sp.line
        return Fix("RC401", f"end the {f.kind} (line {line}) at {new} instead of {old}",
                   (Edit.at(sp, old, new),), unsafe=True)
    return None
