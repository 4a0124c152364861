"""RC312/RC313: QAT epochs. BN freezing and observer disabling must not precede the QAT start;
recommended: freeze BN at least one epoch after start, disable observers after that.

Passes: `{start_epoch: 50, freeze_bn_stats_epoch: 51, disable_quantization_observer_epoch: 52}`
Fails:  `{start_epoch: 50, freeze_bn_stats_epoch: 49}`
"""

from recipec.check._util import fmt
from recipec.diagnostics import error, note

CODES = ("RC312", "RC313")


def check(recipe, model):
    for m in recipe.by_kind("QuantizationModifier"):
        s = m.start_epoch
        if not isinstance(s, float):
            continue
        fb, ob = m.freeze_bn_stats_epoch, m.disable_quantization_observer_epoch
        for name, v in (("freeze_bn_stats_epoch", fb), ("disable_quantization_observer_epoch", ob)):
            if isinstance(v, float) and v != -1 and v < s:
                yield error("RC312", f"{name} of {fmt(v)} is before the QAT start_epoch of {fmt(s)}",
                            m.span_of(name), "it must be at or after start_epoch")
        if isinstance(fb, float) and isinstance(ob, float) and fb >= s and ob >= s and ob < fb:
            yield note("RC313", f"observers are disabled (epoch {fmt(ob)}) before BN stats are frozen "
                       f"(epoch {fmt(fb)})", m.span_of("disable_quantization_observer_epoch"),
                       "the usual order is start < freeze_bn_stats_epoch < disable_quantization_observer_epoch")
