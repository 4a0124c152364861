"""Lower a YAML node tree to the IR: groups, stages, variables, modifier specs.

Follows SparseML's legacy loader (§2.4-2.7 of the spec): modifier groups are keys containing
`modifiers`; a stage is a top-level mapping holding such keys; every other top-level key is a
variable; `version` and `__metadata__` are reserved. Where SparseML drops or misreads something
silently we keep the sensible reading and warn.
"""

from __future__ import annotations

import hashlib

from recipec.diagnostics import Diagnostic, did_you_mean, error, note, warning
from recipec.ir import dialect
from recipec.ir.recipe import Recipe, Variable
from recipec.ir.resolve import MISSING, Env, Resolver
from recipec.ir.values import FieldContext, convert
from recipec.ir.variables import VarDef, resolve
from recipec.modifiers import REGISTRY, RENAMED
from recipec.modifiers.base import ModifierSpec
from recipec.span import Span
from recipec.syntax.tree import LoadedDocument, YMap, YNode, YScalar, YSeq, is_custom_tag, to_plain

RESERVED = ("version", "__metadata__")
DROPPED_FIELDS = ("log_types",)  # SparseML deletes these before constructing


def _is_group_key(k: YScalar) -> bool:
    return isinstance(k.value, str) and "modifiers" in k.value


def _is_stage(value: YNode) -> bool:
    return isinstance(value, YMap) and not is_custom_tag(value.tag) and any(
        _is_group_key(k) for k, _ in value.items)


def _has_modifier(node: YNode) -> bool:
    return isinstance(node, YSeq) and any(is_custom_tag(i.tag) for i in node.items)


def alias_sites(root: YNode) -> dict[str, list[Span]]:
    """Every `*alias` use in the tree, by anchor name."""
    out: dict[str, list[Span]] = {}
    seen = 0
    stack = [root]
    while stack and seen < 100_000:
        n = stack.pop()
        seen += 1
        if n.alias_of is not None:
            out.setdefault(n.alias_of, []).append(n.span)
            continue  # do not descend into the aliased value again
        if isinstance(n, YMap):
            stack.extend(v for _, v in n.items)
        elif isinstance(n, YSeq):
            stack.extend(n.items)
    return out


class Lowerer:
    def __init__(self, doc: LoadedDocument, diags: list[Diagnostic], overrides: dict | None):
        self.doc, self.diags = doc, diags
        self.overrides = dict(overrides or {})
        self.lines = doc.text.splitlines()
        self.modifiers: list[ModifierSpec] = []
        self.variables: dict[str, Variable] = {}
        self.aliases = alias_sites(doc.root) if doc.root is not None else {}

    # -- entry --------------------------------------------------------------------------------------

    def run(self) -> Recipe | None:
        root = self.doc.root
        if root is None:
            return None
        path = self.doc.path
        if is_custom_tag(root.tag):  # the whole document is one modifier
            self._unknown_overrides({})
            self._modifier(root, "modifiers", None, Env())
            return self._recipe(None, [], None)
        if isinstance(root, YScalar):
            self.diags.append(error("RC015", "the recipe is a single value, not a mapping of variables and "
                                    "modifier groups", root.span,
                                    "start with e.g. `training_modifiers:` followed by `- !ModifierName` items"))
            return None
        found = dialect.detect(root)
        if found is not None:  # one clear diagnostic, not a cascade of loader warnings
            self.diags[:] = [d for d in self.diags if d.severity == "error"]
            self.diags.append(found)
            return None
        version = None
        stages: list[str] = []
        metadata = None
        if isinstance(root, YSeq):
            self._unknown_overrides({})
            self._group(root, "modifiers", None, Env())
        else:
            version, stages, metadata = self._mapping_root(root)
        return self._recipe(version, stages, metadata)

    def _recipe(self, version, stages, metadata) -> Recipe:
        if not self.modifiers and not any(d.code in ("RC101", "RC102") or d.severity == "error"
                                          for d in self.diags):
            first = self.doc.root
            self.diags.append(error("RC101", "no modifiers found: the modifier groups are empty",
                                    first.span if first is not None else None,
                                    "list `- !ModifierName` items under a `*_modifiers:` key"))
        path = self.doc.path
        return Recipe(
            path=path, text=self.doc.text, sha256=hashlib.sha256(self.doc.text.encode("utf-8")).hexdigest(),
            variables=self.variables, modifiers=tuple(self.modifiers), version=version,
            stages=tuple(stages), metadata=metadata)

    def _mapping_root(self, root: YMap):
        groups, stage_items, var_items = [], [], []
        version = metadata = None
        for k, v in root.items:
            name = k.value
            if name == "version":
                version = str(v.value) if isinstance(v, YScalar) else None
            elif name == "__metadata__":
                metadata = to_plain(v)
            elif _is_group_key(k):
                groups.append((k, v))
            elif _is_stage(v):
                stage_items.append((k, v))
            else:
                var_items.append((k, v))
        if groups and stage_items:
            k = stage_items[0][0]
            self.diags.append(warning(
                "RC104", f"stage `{k.value}` is mixed with top-level modifier groups; SparseML would drop "
                "every stage's modifiers silently", k.span,
                "recipec keeps them; for SparseML put all groups inside stages or none"))
        if not groups and not stage_items:
            misplaced = [(k, v) for k, v in var_items if _has_modifier(v)]
            for k, _ in misplaced:
                self.diags.append(error(
                    "RC102", f"modifiers listed under `{k.value}`, a key without `modifiers` in its name",
                    k.span, f"rename it, e.g. `{k.value}_modifiers`"))
            if not misplaced:
                self._no_modifiers(root, var_items)
            self._unknown_overrides({}, {str(k.value) for k, _ in var_items})
            defs = [VarDef(str(k.value), k, v) for k, v in var_items if not _has_modifier(v)]
            for d in defs:
                if d.name in self.overrides:
                    d.override = self.overrides[d.name]
            env = Env()
            self._resolve_vars(defs, env, None)  # report expression problems too
            self._count_uses(env)
            return version, [], metadata
        env = Env()
        defs = []
        for k, v in var_items:
            if is_custom_tag(v.tag):  # `key: !Modifier {...}`: a modifier as a mapping value
                groups.append((k, v))
                continue
            if _has_modifier(v):
                self.diags.append(error(
                    "RC102", f"modifiers listed under `{k.value}`, a key without `modifiers` in its name",
                    k.span, f"rename it, e.g. `{k.value}_modifiers`"))
                continue
            defs.append(VarDef(str(k.value), k, v))
        known = {d.name for d in defs}
        for st_k, st_v in stage_items:
            known.update(str(k.value) for k, v in st_v.items if not _is_group_key(k) and k.value != "__metadata__")
        self._unknown_overrides({d.name: d for d in defs}, known)
        for d in defs:
            if d.name in self.overrides:
                d.override = self.overrides[d.name]
        self._resolve_vars(defs, env, None)
        for k, v in groups:
            self._group(v, str(k.value), None, env, k)
        stage_names = []
        with_meta = []
        for st_k, st_v in stage_items:
            stage = str(st_k.value)
            stage_names.append(stage)
            senv = env.child()
            sdefs = []
            sgroups = []
            for k, v in st_v.items:
                if k.value == "__metadata__":
                    with_meta.append(stage)
                elif _is_group_key(k):
                    sgroups.append((k, v))
                else:
                    d = VarDef(str(k.value), k, v, stage)
                    if d.name in self.overrides:
                        d.override = self.overrides[d.name]
                    sdefs.append(d)
            self._resolve_vars(sdefs, senv, stage)
            for k, v in sgroups:
                self._group(v, str(k.value), stage, senv, k)
        if with_meta and len(with_meta) != len(stage_items):
            k = stage_items[0][0]
            self.diags.append(error("RC108", "some stages have `__metadata__` and some do not", k.span,
                                    "SparseML requires it in all stages or in none"))
        self._count_uses(env)
        return version, stage_names, None

    def _no_modifiers(self, root: YMap, var_items) -> None:
        self.diags.append(error(
            "RC101", "no modifiers found: no key with `modifiers` in its name holds a list of `!Modifier` items",
            root.items[0][0].span if root.items else root.span,
            "list modifiers under a key such as `training_modifiers:`; stages are mappings holding such keys"))

    def _unknown_overrides(self, defs: dict, known: set | None = None) -> None:
        known = set(defs) if known is None else known
        for name in self.overrides:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                hint = did_you_mean(name, known)
                self.diags.append(error(
                    "RC215", f"cannot override `{name}`: the recipe does not define it", None,
                    (hint + " " if hint else "") + f"the recipe's variables: {listed}"))

    # -- variables ------------------------------------------------------------------------------------

    def _resolve_vars(self, defs: list[VarDef], env: Env, stage: str | None) -> None:
        info = resolve(defs, env, self.diags)
        for d in defs:
            node = d.node
            anchor = node.anchor
            sites = tuple(self.aliases.get(anchor, ())) if anchor else ()
            if d.override is not MISSING and sites:
                for sp in sites:
                    self.diags.append(warning(
                        "RC216", f"override of `{d.name}` does not reach this alias `*{anchor}`; it keeps "
                        f"{to_plain(node)!r}", sp,
                        f"write `eval({d.name})` here so the override applies"))
            key = d.name if stage is None else f"{stage}.{d.name}"
            value = env.values.get(d.name)
            self.variables[key] = Variable(
                name=d.name, value=None if value is MISSING else value, span=node.span, key_span=d.key.span,
                expr=info.get(d.name, {}).get("expr"), depends_on=tuple(env.deps.get(d.name, ())),
                anchor=anchor, alias_sites=sites, stage=stage, overridden=d.override is not MISSING)

    def _count_uses(self, env: Env) -> None:
        for key, var in list(self.variables.items()):
            uses = env.uses.get(var.name, 0) + len(var.alias_sites)
            self.variables[key] = Variable(**{**var.__dict__, "uses": uses})

    # -- modifier groups ---------------------------------------------------------------------------

    def _group(self, node: YNode, group: str, stage: str | None, env: Env, key: YScalar | None = None) -> None:
        if key is not None and not (group.endswith("modifiers")):
            self.diags.append(note("RC103", f"`{group}` counts as a modifier group only because it contains "
                                   "`modifiers`", key.span, "end group names with `_modifiers`"))
        if is_custom_tag(node.tag):  # a single modifier as the group's value
            if key is not None and not _is_group_key(key):
                self.diags.append(warning(
                    "RC018", f"a modifier as the value of `{key.value}`; SparseML cannot parse this form",
                    node.span, f"write it as a list item under a `*_modifiers:` key"))
            self._modifier(node, group, stage, env)
            return
        if isinstance(node, YScalar) and node.value is None:
            return  # an empty group
        if not isinstance(node, YSeq):
            self.diags.append(error("RC105", f"`{group}` must be a list of `!Modifier` items", node.span))
            return
        for item in node.items:
            self._modifier(item, group, stage, env)

    def _modifier(self, item: YNode, group: str, stage: str | None, env: Env) -> None:
        if not is_custom_tag(item.tag):
            self.diags.append(error("RC105", f"an item of `{group}` is not a modifier (no `!ModifierName` tag)",
                                    item.span, "write `- !ModifierName` followed by its fields"))
            return
        name = item.tag[1:]
        if name.startswith("pytorch."):
            self.diags.append(warning("RC017", f"qualified tag `!{name}`: SparseML cannot load it from a file",
                                      item.span, f"write `!{name[8:]}`"))
            name = name[8:]
        cls = REGISTRY.get(name)
        if cls is None:
            meant = RENAMED.get(name)
            if name.endswith(":") and name[:-1] in REGISTRY:
                hint = f"remove the `:` after `!{name[:-1]}`; the tag is not a mapping key"
            else:
                hint = f"did you mean `{meant}`?" if meant else did_you_mean(name, REGISTRY)
            self.diags.append(error("RC109", f"unknown modifier `{name}`", _tag_span(item, name), hint))
            return
        self._tag_line_trap(item, name)
        if isinstance(item, YSeq):
            self.diags.append(error("RC110", f"{name} must hold a mapping of fields, not a list", item.span))
            return
        fields: list[tuple[YScalar, YNode]] = []
        if isinstance(item, YMap):
            fields = item.items
        elif item.value not in (None, ""):
            self.diags.append(error("RC110", f"{name} must hold a mapping of fields", item.span))
            return
        self._build(cls, item, fields, group, stage, env)

    def _tag_line_trap(self, item: YNode, name: str) -> None:
        line_no = item.span.line
        if not 0 < line_no <= len(self.lines):
            return
        line = self.lines[line_no - 1]
        at = line.find("!" + name, item.span.col - 1)
        if at >= 0 and "." in line[at:]:
            self.diags.append(warning(
                "RC016", f"a `.` follows the `!{name}` tag on its line; SparseML cannot load this line",
                _tag_span(item, name), "move the comment or the flow-style fields to their own lines"))

    def _build(self, cls, item: YNode, fields, group: str, stage: str | None, env: Env) -> None:
        names = cls.field_names()
        meta = {f.name: f.metadata for f in cls.spec_fields()}
        values, spans, deps_by, items = {}, {}, {}, {}
        given = set()
        resolver = Resolver(env, self.diags)
        variables = {n for n, v in env.values.items()}
        ok = True
        for k, v in fields:
            fname = k.value
            if fname in DROPPED_FIELDS:
                continue
            if fname not in names:
                hint = did_you_mean(str(fname), names)
                self.diags.append(error("RC111", f"{cls.kind} has no field `{fname}`", k.span,
                                        hint or f"its fields: {', '.join(names)}"))
                ok = False
                continue
            given.add(fname)
            if meta[fname].get("extension"):
                self.diags.append(warning(
                    "RC114", f"`{fname}` is a recipec extension of {cls.kind}, not a SparseML field; "
                    "SparseML would refuse this recipe", k.span,
                    "recipec runs it; drop the field to keep the recipe loadable by SparseML"))
            if meta[fname]["kind"] not in ("dict", "any") and _placeholder(v):
                shown = "{" + (str(v.items[0][0].value) if v.items else "") + "}"
                self.diags.append(error("RC217", f"`{fname}` holds the template placeholder `{shown}`, not a value",
                                        v.span, "fill in the template before using the recipe"))
                ok = False
                continue
            deps: set[str] = set()
            raw = resolver.value(v, deps)
            ctx = FieldContext(cls.kind, fname, v, self.diags, variables)
            val = convert(meta[fname]["kind"], raw, ctx, meta[fname].get("choices"))
            spans[fname] = v.span
            if isinstance(v, YSeq) and all(isinstance(i, YScalar) for i in v.items):
                items[fname] = tuple(i.span for i in v.items)
            if deps:
                deps_by[fname] = tuple(sorted(deps))
            if val is MISSING:
                ok = False
                continue
            if val is None and meta[fname]["required"]:  # SparseML fails on it when the run starts
                self.diags.append(error("RC112", f"`{fname}` is required by {cls.kind}; null is not a value",
                                        v.span))
                ok = False
                continue
            values[fname] = val
        if cls.kind == "QuantizationModifier":
            from recipec.modifiers.quantization import CURRENT_ONLY, LEGACY_ONLY

            legacy, current = given & LEGACY_ONLY, given & (CURRENT_ONLY - {"strict"})
            if legacy and current:
                f = sorted(current)[0]
                self.diags.append(error(
                    "RC311", f"`{f}` belongs to the current QuantizationModifier, but "
                    f"`{sorted(legacy)[0]}` selects the legacy one", spans.get(f, item.span),
                    "use either the legacy fields (submodules, exclude_*, ...) or scheme/scheme_overrides/ignore"))
        missing = [n for n in cls.required_fields() if n not in given]
        if missing:
            self.diags.append(error("RC112", f"{cls.kind} is missing required field(s): {', '.join(missing)}",
                                    _tag_span(item, cls.kind)))
        try:
            spec = cls(**values, span=item.span, field_spans=spans, field_deps=deps_by, item_spans=items, stage=stage,
                       group=group, given=frozenset(given))
        except TypeError as exc:  # pragma: no cover - a bug in a spec declaration
            self.diags.append(error("RC110", f"internal: cannot build {cls.kind}: {exc}", item.span))
            return
        del ok
        self.modifiers.append(spec)


def _placeholder(node: YNode) -> bool:
    """`{name}` or `{}` written as a value: YAML reads a flow mapping (an unfilled str.format template)."""
    if not (isinstance(node, YMap) and node.flow):
        return False
    if not node.items:
        return True
    return (len(node.items) == 1 and isinstance(node.items[0][1], YScalar) and node.items[0][1].value is None
            and node.items[0][1].raw == "")


def _tag_span(item: YNode, name: str) -> Span:
    sp = item.span
    return Span(sp.path, sp.line, sp.col, sp.line, sp.col + len(name) + 1)


def lower(doc: LoadedDocument, diags: list[Diagnostic], overrides: dict | None = None) -> Recipe | None:
    """Lower `doc` to a Recipe (None when the structure is unusable); diagnostics go to `diags`."""
    return Lowerer(doc, diags, overrides).run()
