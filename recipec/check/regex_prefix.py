"""RC325: a `re:` pattern that ends in a layer index. SparseML matches patterns with `re.match`,
anchored at the start only, so `re:model.2` (or `re:model\\.2`) also selects `model.20` ...
`model.24`; end it with `\\.` or `$` to mean layer 2 only.

Passes: `params: ['re:model\\.2\\..*weight']`   Fails: `params: ['re:model.2']` (note)
"""

import re

from recipec.diagnostics import note

CODES = ("RC325",)
_TAIL_INDEX = re.compile(r"(?:\\\.|\.)\d+$")


def check(recipe, model):
    for m in recipe.modifiers:
        for f in ("params", "layers", "submodules"):
            v = getattr(m, f, None) if f in m.field_names() else None
            if not isinstance(v, list):
                continue
            for i, e in enumerate(v):
                if isinstance(e, str) and e.startswith("re:") and _TAIL_INDEX.search(e):
                    yield note("RC325", f"`{e}` also matches longer indices (re.match is anchored at the start only)",
                               m.item_span(f, i), f"write `{e}\\.` or `{e}$` to mean exactly that layer")
