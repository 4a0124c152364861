"""`recipec docs`: the reference docs generated from the code, and a check that the committed copies match.

* `docs/modifiers.md` from the modifier registry: per kind its module docstring (what it does, fields in
  prose, a recipe line that passes and one that fails) and a field table (name, value kind, required /
  default, allowed values) read from the spec dataclass (`recipec.modifiers.base.F`).
* `docs/diagnostics.md` from the diagnostic catalog (`recipec.diagnostics.docs.render`, the same text
  `recipec explain` prints).

`recipec docs --write` regenerates both in a source checkout; `recipec docs --check` exits 1 when a committed
file differs (the tests do the same). No torch.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import typer

ROOT = Path(__file__).resolve().parents[3]  # recipec/cli/commands/docs.py -> the source checkout
CATEGORIES = ("epoch", "learning_rate", "regularization", "pruning", "quantization", "distillation", "general")


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return f"`{v!r}`" if v == "" else f"`{v}`"
    if isinstance(v, bool) or v is None:
        return f"`{str(v).lower() if isinstance(v, bool) else 'null'}`"
    return f"`{v}`"


def field_rows(cls: type) -> list[str]:
    from recipec.cli.commands.schema import _MISSING, _default

    rows = ["| field | kind | default | allowed values / notes |", "|---|---|---|---|"]
    for f in cls.spec_fields():
        meta = f.metadata
        default = "**required**" if meta.get("required") else (
            _fmt(d) if (d := _default(f)) is not _MISSING else "")
        notes = []
        if meta.get("choices"):
            notes.append(", ".join(f"`{c}`" for c in meta["choices"]))
        if meta.get("ignored"):
            notes.append("accepted, forced to its default")
        if meta.get("extension"):
            notes.append("**recipec extension**: SparseML rejects this field (RC114)")
        if meta.get("doc"):
            notes.append(meta["doc"])
        rows.append(f"| `{f.name}` | {meta.get('kind', 'any')} | {default} | {'; '.join(notes)} |")
    return rows


def render_modifiers() -> str:
    """The whole `docs/modifiers.md`, deterministic (kinds grouped by category, registry order inside)."""
    from recipec.cli.commands.schema import docstring_parts
    from recipec.modifiers import REGISTRY, RENAMED

    kinds = [REGISTRY[k] for k in REGISTRY]
    lines = [
        "# Modifiers",
        "",
        "Every modifier kind recipec knows (SparseML's PyTorch modifiers), generated from the spec classes in",
        "`recipec/modifiers/` by `recipec docs --write`; do not edit by hand (a test compares this file with",
        "the code). Field names and defaults are SparseML's. Any numeric field may be written as an",
        "`eval(...)` expression over the recipe's variables. *run* = executed by `recipec train`; the other",
        "kinds are parsed, checked and planned but refused by `recipec train`.",
        "",
        "For editor completion, `recipec schema` prints a JSON Schema of recipes built from the same classes.",
        "",
        "Value kinds: *epoch* (float; -1 = unset / to the end), *float*, *int*, *bool*, *str*, *enum* (one of the",
        "listed values), *params* (a list of parameter names or `re:` patterns, or `__ALL__` /",
        "`__ALL_PRUNABLE__`), *param_groups* (optimizer groups: 0 = BatchNorm weights, 1 = other weights,",
        "2 = biases), *names* (module names), *sparsity* (a float in [0, 1), a list, or `{sparsity: [params]}`),",
        "*mask_type* (`unstructured`, `block4`, `N:M`, `tensorrt` or a block shape `[a, b]`), *dict*, *any*.",
        "",
        "| kind | category | run by `recipec train` | summary |",
        "|---|---|---|---|",
    ]
    ordered = sorted(kinds, key=lambda c: CATEGORIES.index(c.category) if c.category in CATEGORIES else 99)
    for cls in ordered:
        summary = docstring_parts(cls)[0]
        lines.append(f"| [`{cls.kind}`](#{cls.kind.lower()}) | {cls.category} | "
                     f"{'run' if cls.runnable else 'checked only'} | {summary.replace('|', chr(92) + '|')} |")
    lines.append("")
    if RENAMED:
        lines += ["Obsolete or misspelt tags seen in real recipes are reported with the kind meant: "
                  + ", ".join(f"`!{a}` -> `!{b}`" for a, b in RENAMED.items()) + ".", ""]
    for cls in ordered:
        summary, body, passes, fails = docstring_parts(cls)
        lines += [f"## {cls.kind}", "", f"{summary}", ""]
        lines += [f"*Category:* {cls.category}. *Run by `recipec train`:* {'yes' if cls.runnable else 'no'}.", ""]
        if body:
            lines += [body, ""]
        lines += field_rows(cls) + [""]
        for label, items in (("Passes", passes), ("Fails", fails)):
            for item in items:
                lines.append(f"{label}: {item}  ")
        if passes or fails:
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_diagnostics() -> str:
    from recipec.diagnostics.docs import render

    return render()


# committed file (relative to the repository root) -> its generator
GENERATED: dict[str, Callable[[], str]] = {
    "docs/modifiers.md": render_modifiers,
    "docs/diagnostics.md": render_diagnostics,
}


def stale(root: Path = ROOT) -> list[str]:
    """The generated files whose committed text differs from what the code renders now."""
    return [rel for rel, fn in GENERATED.items()
            if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != fn()]


def register(app: typer.Typer) -> None:
    app.command("docs")(docs)


def docs(
    write: bool = typer.Option(False, "--write", help="Regenerate docs/modifiers.md and docs/diagnostics.md."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when a committed generated doc is out of date."),
    which: str = typer.Option(None, "--print", help="Print one generated doc: modifiers | diagnostics."),
) -> None:
    """Generate the reference docs from the code (modifier specs, diagnostic catalog)."""
    if which is not None:
        fn = GENERATED.get(f"docs/{which}.md")
        if fn is None:
            print(f"error: --print takes modifiers or diagnostics, got {which!r}", file=sys.stderr)
            raise typer.Exit(2)
        sys.stdout.write(fn())
        return
    if not (ROOT / "docs").is_dir():
        print(f"error: no docs/ folder next to the package ({ROOT}); --write and --check need a source checkout "
              "(use --print)", file=sys.stderr)
        raise typer.Exit(2)
    if write:
        for rel, fn in GENERATED.items():
            (ROOT / rel).write_text(fn(), encoding="utf-8")
            print(f"wrote {rel}")
        return
    bad = stale()
    for rel in bad:
        print(f"{rel} is out of date: run `recipec docs --write`", file=sys.stderr)
    if not bad:
        print("generated docs are up to date: " + ", ".join(GENERATED))
    raise typer.Exit(1 if bad else 0)
