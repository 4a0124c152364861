"""RC324: `mask_type` of pruning modifiers.

Allowed: unstructured, block4, "N:M" (e.g. "2:4"), tensorrt, or a list of two integers such as
`[1, 4]` (-1 = the whole dimension). channel/filter belong to StructuredPruningModifier.

Passes: `mask_type: [1, 4]`   Fails: `mask_type: filter` on GMPruningModifier
"""

import re

from recipec.diagnostics import error

CODES = ("RC324",)
_NM = re.compile(r"^\d+:\d+$")


def check(recipe, model):
    for m in recipe.modifiers:
        if m.kind == "StructuredPruningModifier" or "mask_type" not in m.field_names():
            continue
        v = m.mask_type
        sp = m.span_of("mask_type")
        if isinstance(v, str):
            if v in ("unstructured", "block4", "block", "tensorrt") or _NM.match(v):
                continue
            hint = ("channel/filter masks belong to StructuredPruningModifier" if v in ("channel", "filter")
                    else "use unstructured, block4, 'N:M', tensorrt or [a, b]")
            yield error("RC324", f"unknown mask_type `{v}` for {m.kind}", sp, hint)
        elif isinstance(v, list):
            if len(v) != 2:
                yield error("RC324", f"mask_type list must have 2 entries, given {len(v)}", sp)
            elif not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                yield error("RC324", "all values in a mask_type list must be integers", sp)
            elif m.kind == "OBSPruningModifier":
                yield error("RC324", "OBSPruningModifier supports mask_type unstructured or block4 only", sp)
        if m.kind == "OBSPruningModifier" and v == "block4" and isinstance(m.fisher_block_size, int) \
                and m.fisher_block_size % 4:
            yield error("RC324", "fisher_block_size must be divisible by 4 for block4 pruning",
                        m.span_of("fisher_block_size"))
