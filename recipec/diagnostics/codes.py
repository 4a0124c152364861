"""The catalog of diagnostic codes: code -> (title, explanation). Codes are stable, never reused.

Ranges by stage: RC0xx file and YAML; RC1xx recipe structure and modifiers; RC2xx variables and
`eval()`; RC3xx field values; RC4xx interplay between modifiers; RC5xx reserved for plan-level
checks (`recipec/plan`); RC6xx model-aware checks (YOLOv5 names and param groups).
`recipec explain CODE` prints an entry; `docs/diagnostics.md` is generated from this table.
"""

from __future__ import annotations

from typing import NamedTuple


class CodeInfo(NamedTuple):
    title: str
    explanation: str


CATALOG: dict[str, CodeInfo] = {
    # -- RC0xx: file and YAML ----------------------------------------------------------------------
    "RC001": CodeInfo("unreadable file", "The file cannot be read (missing, a directory, no permission). "
                      "`recipec lint` exits with 2."),
    "RC002": CodeInfo("file extension", "SparseML's legacy loader accepts only `.yaml` and `.md` recipe files; "
                      "recipec reads `.yml` too but warns."),
    "RC003": CodeInfo("no front matter", "A Markdown recipe card must hold its YAML between two `---` lines."),
    "RC004": CodeInfo("file too large", "Recipes are limited to 1 MiB; larger inputs are refused unparsed."),
    "RC005": CodeInfo("empty recipe", "The recipe holds no YAML content (only whitespace or comments)."),
    "RC006": CodeInfo("YAML syntax error", "The YAML cannot be parsed; the position is where the parser "
                      "stopped. Tabs for indentation are a common cause."),
    "RC007": CodeInfo("several YAML documents", "A recipe is one YAML document; a `---` separator starts a second."),
    "RC008": CodeInfo("not UTF-8", "The file holds bytes that are not UTF-8; the position is the first bad byte."),
    "RC009": CodeInfo("unsafe or unsupported tag", "`!!python/...` and other non-data tags are refused, never "
                      "constructed. Recipes hold data only."),
    "RC010": CodeInfo("undefined alias", "`*name` is used but no `&name` anchor precedes it."),
    "RC011": CodeInfo("duplicate anchor", "Two nodes define the same `&name` anchor; SparseML's YAML loader refuses this."),
    "RC012": CodeInfo("alias expansion too large", "Aliases expand to too many nodes (an 'alias bomb'); "
                      "expansion is bounded."),
    "RC013": CodeInfo("nesting too deep", "The YAML nests deeper than the loader allows (64 levels)."),
    "RC014": CodeInfo("duplicate key", "A mapping repeats a key. SparseML silently keeps the last value; so does "
                      "recipec, with this warning."),
    "RC015": CodeInfo("not a mapping", "The recipe must be a mapping of variables and modifier groups "
                      "(or a list of modifiers)."),
    "RC016": CodeInfo("dot after tag", "SparseML rewrites `!Tag` lines with a regex that refuses any `.` later on "
                      "the same line (a comment like `# 0.5`, flow fields like `{start_epoch: 0.0}`); such a "
                      "recipe fails to load there. recipec reads it, and warns."),
    "RC017": CodeInfo("qualified tag", "`!pytorch.X` tags cannot be loaded from a file by SparseML; write `!X`."),
    "RC018": CodeInfo("modifier as a mapping value", "`key: !Modifier {...}` breaks SparseML's tag rewriting "
                      "(ScannerError). List modifiers under a `*_modifiers:` key."),
    "RC019": CodeInfo("front matter ends mid-line", "SparseML ends Markdown front matter at the first later "
                      "`---` anywhere, even inside a comment or string."),
    # -- RC1xx: structure and modifiers --------------------------------------------------------------
    "RC101": CodeInfo("no modifiers", "No key containing `modifiers` holds a list of `!Modifier` items, at top "
                      "level or inside a stage."),
    "RC102": CodeInfo("modifiers under a non-group key", "Modifiers must be listed under keys with `modifiers` "
                      "in their name; SparseML raises 'Invalid modifier location'."),
    "RC103": CodeInfo("group name by substring", "SparseML matches group keys by substring (`my_modifiers_list`, "
                      "`modifiersX`); prefer names ending in `_modifiers`."),
    "RC104": CodeInfo("stages mixed with top-level groups", "SparseML drops every stage's modifiers when "
                      "top-level modifier groups are present. recipec keeps them and warns."),
    "RC105": CodeInfo("not a modifier", "An item in a modifier group has no `!ModifierName` tag, or the group is "
                      "not a list."),
    "RC106": CodeInfo("sparseml.core / llm-compressor dialect", "The newer stage dialect (`ModifierName: {...}` "
                      "mappings, `start`/`end`/`targets` fields) is a different format that recipec does not run."),
    "RC107": CodeInfo("Distiller schedule", "Intel Distiller compression schedules (pruners, policies) are not "
                      "SparseML recipes."),
    "RC108": CodeInfo("stage metadata", "`__metadata__` must be in all stages or in none."),
    "RC109": CodeInfo("unknown modifier", "The tag names no SparseML PyTorch modifier. Obsolete names "
                      "(`GradualKSModifier`, `ConstantKSModifier`) and typos get a suggestion."),
    "RC110": CodeInfo("modifier body", "A modifier must hold a mapping of fields (or nothing)."),
    "RC111": CodeInfo("unknown field", "SparseML modifiers take no extra keyword arguments; an unknown field is a "
                      "TypeError upstream."),
    "RC112": CodeInfo("missing required field", "The modifier lacks a field it requires."),
    "RC113": CodeInfo("not executed by recipec train", "The modifier is known and checked, but `recipec train` "
                      "does not run it (e.g. OBS, M-FAC, AC/DC, movement pruning, distillation)."),
    "RC114": CodeInfo("recipec extension field", "The field is a recipec extension, not a SparseML field "
                      "(e.g. QuantizationModifier's `int8_graph`). SparseML would refuse the recipe (an unknown "
                      "keyword argument is a TypeError there); recipec runs it. Drop the field to keep the recipe "
                      "loadable by SparseML."),
    # -- RC2xx: variables and eval() -------------------------------------------------------------------
    "RC201": CodeInfo("expression syntax", "An `eval()` expression does not parse. Allowed: numbers, variable "
                      "names, + - * / // % **, unary minus, parentheses, comparisons, and min/max/abs/round/int/float."),
    "RC202": CodeInfo("undefined variable", "An expression names a variable the recipe does not define."),
    "RC203": CodeInfo("variable cycle", "Variables depend on each other in a cycle."),
    "RC204": CodeInfo("function not allowed", "Only abs, float, int, min, max and round may be called, with "
                      "sensible arguments."),
    "RC205": CodeInfo("unary minus", "SparseML crashes on unary minus in `eval()` (it reads `node.left` of a "
                      "UnaryOp). recipec evaluates it; write `0 - x` for SparseML."),
    "RC206": CodeInfo("comparison", "SparseML refuses comparisons in `eval()`; recipec gives 1 or 0."),
    "RC207": CodeInfo("division by zero", "An expression divides (or takes a modulo) by zero."),
    "RC208": CodeInfo("value out of range", "A value is too large (beyond 1e308), not finite (NaN, "
                      "infinity) or complex, anywhere in a field (lr_kwargs and sparsity mapping keys too), or "
                      "an epoch is beyond 1,000,000. Evaluation is bounded: no huge powers."),
    "RC209": CodeInfo("non-numeric operand", "A list or string variable takes part in arithmetic; only a whole "
                      "`eval(name)` may pass such a value through."),
    "RC210": CodeInfo("unused variable", "A variable is defined but no `eval()` and no alias uses it."),
    "RC211": CodeInfo("eval not recognised by SparseML", "SparseML treats only strings starting with exactly "
                      "`eval(` and ending with `)` as expressions; spaces around them keep it a string there."),
    "RC212": CodeInfo("variable name as text", "A field holds the bare text of a variable name; without "
                      "`eval(...)` it is a string, not the variable's value."),
    "RC213": CodeInfo("YAML 1.1 number in a string", "PyYAML (YAML 1.1) reads `1e-5` (no dot) as a string; "
                      "recipec reads it as a number and warns. Write `1.e-5`."),
    "RC214": CodeInfo("YAML 1.1 boolean or octal", "`yes/no/on/off` are booleans and `017` is octal in YAML 1.1; "
                      "surprising where a number is meant."),
    "RC215": CodeInfo("unknown override", "An override names a variable the recipe does not define."),
    "RC216": CodeInfo("override does not reach alias", "A YAML alias (`*name`) copies the anchored value at "
                      "parse time, so an override of the variable does not reach it. Use `eval(name)`."),
    "RC217": CodeInfo("template placeholder", "A `{name}` placeholder of a recipe template was never filled in."),
    # -- RC3xx: field values -----------------------------------------------------------------------------
    "RC301": CodeInfo("wrong value type", "A field's value has the wrong type (e.g. text where a number is "
                      "expected)."),
    "RC302": CodeInfo("start epoch", "`start_epoch` must be >= 0, or -1 for 'from the first step'."),
    "RC303": CodeInfo("end epoch", "`end_epoch` must come after `start_epoch` (strictly for LR functions and "
                      "GradualParam), or be -1 for 'never ends' where allowed."),
    "RC304": CodeInfo("ignored field", "SparseML accepts this field but ignores it (e.g. `end_epoch` of "
                      "SetLearningRateModifier is forced to -1)."),
    "RC305": CodeInfo("quantization end_epoch", "QuantizationModifier's `end_epoch` can only be -1."),
    "RC306": CodeInfo("sparsity range", "`init_sparsity` must lie in [0, 1], `final_sparsity` in (0, 1)."),
    "RC307": CodeInfo("learning rate range", "Learning rates must be >= 0 (and within SparseML's bounds: "
                      "SetLR in (0, 1], LR functions in [0, 1])."),
    "RC308": CodeInfo("update frequency", "`update_frequency` (epochs between updates) must be > 0 (or -1 for "
                      "every step) and not longer than the modifier's window."),
    "RC309": CodeInfo("value not allowed", "The value is not one of the field's allowed values (lr_func, "
                      "inter_func, lr_class, ...)."),
    "RC310": CodeInfo("integer sparsity", "SparseML requires a float `init_sparsity`/`final_sparsity` "
                      "(`0` is a TypeError there); recipec converts it and warns."),
    "RC311": CodeInfo("quantization fields mixed", "Legacy-only QuantizationModifier fields (submodules, "
                      "exclude_*, ...) cannot be combined with the current class's scheme/scheme_overrides/ignore."),
    "RC312": CodeInfo("QAT epochs before start", "`freeze_bn_stats_epoch` and `disable_quantization_observer_epoch` "
                      "must not be before the QAT `start_epoch`."),
    "RC313": CodeInfo("QAT epoch order", "Recommended: freeze BN stats after QAT starts, and disable observers after "
                      "that, as every Neural Magic recipe does."),
    "RC314": CodeInfo("unsupported params string", "`params` as a string must be `__ALL__` or `__ALL_PRUNABLE__`."),
    "RC315": CodeInfo("__ALL__ on pruning", "`__ALL__` selects every parameter, biases and BatchNorm included; "
                      "pruning usually means `__ALL_PRUNABLE__`."),
    "RC316": CodeInfo("sparsity mapping with params", "When `final_sparsity` is a `{sparsity: [params]}` mapping, "
                      "`params` must be `[]`."),
    "RC317": CodeInfo("lr_kwargs", "LearningRateModifier's `lr_kwargs` lack what its `lr_class` needs (StepLR: "
                      "gamma, step_size; MultiStepLR: gamma, milestones; CosineAnnealingWarmRestarts: lr_min, "
                      "cycle_epochs)."),
    "RC318": CodeInfo("milestones outside window", "MultiStepLR milestones must lie after `start_epoch` and "
                      "before `end_epoch`."),
    "RC319": CodeInfo("removed option", "`phased: true` and `score_type` other than magnitude are no longer "
                      "supported by GMPruningModifier."),
    "RC320": CodeInfo("cycle length", "`cyclic_linear` needs `cycle_epochs > 0`."),
    "RC321": CodeInfo("ExponentialLR per epoch", "SparseML applies ExponentialLR's gamma once per epoch (as a "
                      "StepLR with step_size 1)."),
    "RC322": CodeInfo("outside the epoch range", "A modifier's window ends after the run's EpochRangeModifier; "
                      "with YOLOv5 the run length comes from the largest epoch of all modifiers."),
    "RC323": CodeInfo("LearningRateModifier update_frequency", "`update_frequency` of LearningRateModifier must "
                      "stay -1."),
    "RC324": CodeInfo("mask_type", "`mask_type` must be unstructured, block4, 'N:M', tensorrt, or a list of two "
                      "integers; channel/filter belong to StructuredPruningModifier."),
    "RC325": CodeInfo("unanchored regex", "`re:` patterns are matched at the start only: `re:model.2` also "
                      "matches `model.24...`, and `.` matches any character."),
    "RC326": CodeInfo("layer name lists", "Student and teacher layer name lists must have the same length."),
    "RC327": CodeInfo("invalid value", "A value SparseML refuses for this modifier (see the message)."),
    # -- RC4xx: modifiers together ----------------------------------------------------------------------
    "RC401": CodeInfo("SetLR overwritten", "A SetLearningRateModifier takes effect while a "
                      "LearningRateFunctionModifier drives the same groups; the function overwrites it on the "
                      "next step, so the set LR holds for one step at most."),
    "RC402": CodeInfo("LR modifiers overlap", "Two LR modifiers drive the same param group at the same time; "
                      "the last one in SparseML's sort order wins every step."),
    "RC403": CodeInfo("QAT during pruning", "Quantization-aware training starts while a pruning modifier is "
                      "still changing sparsity."),
    "RC404": CodeInfo("no epoch range", "The recipe has no EpochRangeModifier; the run length comes from the "
                      "other modifiers."),
    # -- RC5xx: plan-level checks (recipec/plan/checks.py; they depend on steps_per_epoch) -------------
    "RC501": CodeInfo("window-rounds-to-zero-steps", "The modifier's start and end fall on the same optimizer step "
                      "at this steps_per_epoch, so it starts and ends in one update: an LR function writes one "
                      "value, a pruning modifier jumps straight to final_sparsity."),
    "RC502": CodeInfo("lr-uncovered-tail", "LR modifiers drive the LR earlier in the run but none acts on the last "
                      "steps. SparseML (and YOLOv5 with a recipe) then holds the last value written; the native "
                      "scheduler is disabled, so nothing decays the LR there."),
    "RC503": CodeInfo("final-sparsity-never-applied", "A pruning modifier applies final_sparsity only at the first "
                      "step with epoch >= end_epoch. When that step lies at or past the end of the run (the "
                      "manager's max_epochs), the final target is never applied."),
    "RC504": CodeInfo("pruning-update-frequency-too-coarse", "With this update_frequency the regular updates stop "
                      "far below final_sparsity and the end update jumps the rest of the way in one step."),
    "RC505": CodeInfo("modifier-starts-after-end", "The modifier starts at or after the end of the run (max_epochs), "
                      "so it never acts. With --epochs, a start that does not depend on num_epochs stays where it "
                      "was while the end of the run moves."),
    "RC506": CodeInfo("set-lr-overwritten", "SetLearningRateModifier writes once. Another LR modifier that is still "
                      "running (and runs later in the manager order) overwrites the value on the following step, so "
                      "the set LR is used for only a few steps."),
    "RC507": CodeInfo("lr-off-grid-end", "The LR function's end_epoch does not fall on a step. SparseML evaluates "
                      "the function at the first step past the end, beyond final_lr, and holds that extrapolated "
                      "value."),
    "RC508": CodeInfo("inverse-cubic-off-grid-end", "inverse_cubic with an end_epoch between two steps: at the end "
                      "step x > 1 and SparseML 1.8 computes a complex number and crashes (TypeError). recipec "
                      "applies the intended final_sparsity there."),
    "RC509": CodeInfo("pruning-zero-length-window", "start_epoch == end_epoch divides by zero in SparseML's "
                      "interpolation (ZeroDivisionError at the first update). It is not a one-shot prune."),
    "RC510": CodeInfo("several-quantization-modifiers", "More than one QuantizationModifier: the plan follows the "
                      "earliest one."),
    "RC511": CodeInfo("modifier-fails-at-runtime", "SparseML would raise while running this modifier at this "
                      "steps_per_epoch or with this optimizer (for example a StepLR step_size that rounds to 0 "
                      "steps, a MultiStepLR milestone outside (start_epoch, end_epoch), a cyclic_linear cycle of at "
                      "most one step, a SetWeightDecayModifier param group the optimizer does not have). The plan "
                      "leaves the modifier's effect out."),
    "RC512": CodeInfo("no-run-length", "No modifier sets an epoch, so the manager's max_epochs is undefined and the "
                      "plan has no steps. Add an EpochRangeModifier."),
    # -- RC6xx: model-aware ----------------------------------------------------------------------------
    "RC601": CodeInfo("param group index", "`param_groups` index outside the model's optimizer groups "
                      "(YOLOv5: 0 = BatchNorm weights, 1 = other weights with decay, 2 = biases)."),
    "RC602": CodeInfo("params match nothing", "A `params` name or `re:` pattern matches no parameter of the model."),
    "RC603": CodeInfo("submodules match nothing", "A `submodules` / layer name matches no module of the model."),
    "RC604": CodeInfo("model checks skipped", "The recipe names parameters of which none could be YOLOv5's "
                      "(e.g. a BERT recipe); `--model auto` skips the model checks."),
    "RC605": CodeInfo("param group name", "`param_groups` entries are indices or the names bn, weights, biases."),
    "RC606": CodeInfo("sparsity keys overlap", "Several keys of a `final_sparsity` mapping match one parameter; "
                      "SparseML (and recipec) give it the first key's sparsity, so the later key is ignored for it."),
}


# Codes `recipec lint --fix` can fix (recipec/fix/), and how. "unsafe" fixes change the schedule and are
# applied only with `--unsafe-fixes`. A JSON diagnostic says per finding whether it is fixable.
FIXES: dict[str, tuple[str, str]] = {
    "RC109": ("safe", "renames an obsolete or misspelled tag to the modifier meant (`!GradualKSModifier` -> "
                      "`!GMPruningModifier`, `!ConstantKSModifier` -> `!ConstantPruningModifier`, "
                      "`!MagnutidePruningModifier` -> `!MagnitudePruningModifier`) and removes the `:` of "
                      "`- !Tag:`. Other unknown names are left to you."),
    "RC213": ("safe", "writes a plain `1e-5` as `1.0e-5` (a dot and a signed exponent), which every YAML "
                      "reader takes for the same float; quoted text is left alone."),
    "RC401": ("unsafe", "ends the overwriting LR schedule at the SetLR's start_epoch (copying its text, e.g. "
                        "`eval(quantization_start_epoch)`), so the set LR holds from there; this changes the "
                        "schedule, and `--fix --unsafe-fixes` prints the plan diff of the change."),
}


def fix_text(code: str) -> str | None:
    """`Fix (safe, recipec lint --fix): ...` for a fixable code, else None."""
    entry = FIXES.get(code.upper())
    if entry is None:
        return None
    kind, what = entry
    flag = "recipec lint --fix" + (" --unsafe-fixes" if kind == "unsafe" else "")
    return f"Fix ({kind}, `{flag}`): {what}"


def explain(code: str) -> str | None:
    info = CATALOG.get(code.upper())
    if info is None:
        return None
    fix = fix_text(code)
    return f"{code.upper()}: {info.title}\n\n{info.explanation}" + (f"\n\n{fix}" if fix else "")
