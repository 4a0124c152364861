"""RC606: a parameter that several keys of a `final_sparsity: {sparsity: [params]}` mapping match.

SparseML gives such a parameter the *first* matching key's sparsity (and `recipec train` does the same); a
later, more specific key (`re:model.2.cv1.*` after `re:model.2.*`) is silently ignored for it. The warning
names the parameters, both values and the one that applies; reorder the keys or narrow the patterns.

Passes: `final_sparsity: {0.9: ["re:model.2.cv1.*"], 0.8: ["re:model.2.cv2.*"]}`
Fails: `final_sparsity: {0.8: ["re:model.2.*"], 0.9: ["re:model.2.cv1.*"]}`
"""

from __future__ import annotations

from recipec.check.model import matched, select
from recipec.diagnostics import warning

CODES = ("RC606",)


def _matched(entries, params) -> list[str]:
    """The model parameters a key's entries select (SparseML's rule: `re:` prefix match, else exact)."""
    return [p for e in entries if isinstance(e, str) for p in matched(e, params)]


def _fmt(v) -> str:
    return format(v, "g") if isinstance(v, float) else str(v)


def check(recipe, model):
    mn, _ = select(recipe, model)  # RC604's note comes from model_names
    if mn is None:
        return
    for m in recipe.modifiers:
        fs = getattr(m, "final_sparsity", None)
        if not isinstance(fs, dict):
            continue
        first: dict[str, object] = {}  # parameter -> the key that gives it its sparsity
        clashes: dict[tuple, list[str]] = {}  # (applied key, ignored key) -> parameters
        for key, entries in fs.items():
            for p in dict.fromkeys(_matched(entries if isinstance(entries, list) else [entries], mn.params)):
                if p not in first:
                    first[p] = key
                elif first[p] != key:
                    clashes.setdefault((first[p], key), []).append(p)
        for (used, ignored), ps in clashes.items():
            more = f" and {len(ps) - 1} more" if len(ps) > 1 else ""
            yield warning("RC606", f"`{ps[0]}`{more} matched by keys {_fmt(used)} and {_fmt(ignored)}: SparseML "
                          f"applies the first matching key, {_fmt(used)}", m.span_of("final_sparsity"),
                          "put the more specific key first, or narrow the earlier key's patterns")
