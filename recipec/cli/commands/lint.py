"""`recipec lint`, `recipec explain` and `recipec compile`.

Kept light: `recipec/cli/app.py:main` dispatches these commands through `fast_main` without building
the typer app (typer 0.2x coerces every parameter through pydantic: ~0.15 s of imports and set-up, more
than the whole lint); `register(app)` exposes the same commands through typer for `--help`, completion
and error messages. Both read one table of options (`LINT_OPTIONS`, `COMPILE_OPTIONS`, `EXPLAIN_OPTIONS`).

Exit codes: 0 = no errors (warnings allowed unless `--strict`), 1 = findings, 2 = usage error or
an unreadable file.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

FORMATS = ("concise", "full", "json", "sarif", "github")
MODELS = ("auto", "none") + tuple(f"yolov5{s}{v}" for v in ("", "-v5") for s in "nsmlx")
RECIPE_SUFFIXES = (".yaml", ".yml", ".md")


class UsageError(Exception):
    pass


# -- the work, independent of the argument parser ------------------------------------------------


def _codes(spec: list[str] | None) -> tuple[str, ...]:
    """`--select/--ignore` values: comma-separated codes or code prefixes (`RC2`, `RC203`)."""
    if not spec:
        return ()
    from recipec.diagnostics.codes import CATALOG

    out = []
    for item in spec or []:
        for code in item.split(","):
            code = code.strip().upper()
            if not code:
                continue
            if not re.fullmatch(r"RC\d{0,3}", code) or not any(c.startswith(code) for c in CATALOG):
                raise UsageError(f"unknown diagnostic code {code!r} (see `recipec explain`)")
            out.append(code)
    return tuple(out)


def _expand(paths: list[str]) -> list[str]:
    """Paths to lint: a folder stands for the recipe files (.yaml/.yml/.md) under it, and must hold some."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(str(f) for f in Path(p).rglob("*") if f.suffix.lower() in RECIPE_SUFFIXES and f.is_file())
            if not found:
                raise UsageError(f"no recipe files ({', '.join(RECIPE_SUFFIXES)}) found in {p}")
            out.extend(found)
        elif os.path.exists(p):
            out.append(p)
        else:  # a bare name that is no file here may be an example shipped with recipec
            from recipec.examples import resolve_recipe_arg

            out.append(resolve_recipe_arg(p))
    return out


def _parse_sets(sets: list[str] | None) -> dict[str, float]:
    out = {}
    for item in sets or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            num = float(value)
        except ValueError:
            raise UsageError(f"--set {name}: {value!r} is not a number") from None
        out[name.strip()] = int(num) if num.is_integer() and "." not in value and "e" not in value.lower() else num
    return out


def lint(paths: list[str], *, fmt: str | None = None, strict: bool = False, select: list[str] | None = None,
         ignore: list[str] | None = None, model: str = "auto", color: bool | None = None,
         sets: list[str] | None = None, out=None, fix: bool = False, diff: bool = False,
         unsafe_fixes: bool = False) -> int:
    """Lint recipe files, print the findings in `fmt`, return the exit code.

    `fix`: rewrite the files with the safe fixes (`unsafe_fixes`: the schedule-changing ones too;
    see recipec/fix/), then report what is left. `diff`: print the fixes as a unified diff and
    write nothing (exit 1 when there is something to fix)."""
    out = out or sys.stdout
    if (diff or unsafe_fixes) and not fix:
        fix = True  # --diff / --unsafe-fixes imply --fix
    if fmt is None:
        fmt = "full" if out.isatty() else "concise"
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    if not paths:
        raise UsageError("no recipe given")
    sel, ign = _codes(select), _codes(ignore)
    overrides = _parse_sets(sets)
    from recipec.frontend import compile_recipe

    files = _expand(paths)
    fix_code = 0
    if fix:
        from recipec.fix.run import fix_paths

        keep = lambda code: (not sel or code.startswith(sel)) and not (ign and code.startswith(ign))
        fix_code, changed = fix_paths(files, diff=diff, unsafe=unsafe_fixes, keep=keep,
                                      overrides=overrides or None, model=model, out=out)
        if diff:
            return fix_code or (1 if changed else 0)
    diags, sources, unreadable = [], {}, fix_code == 2
    fixable = {} if fmt == "json" else None
    for path in files:
        res = compile_recipe(path, overrides=overrides or None, model=model)
        if res.recipe is not None:
            sources[path] = res.recipe.text
            if fixable is not None:
                from recipec.fix import find_fixes

                fixable.update(find_fixes(res.recipe, res.recipe.text, res.diagnostics))
        for d in res.diagnostics:
            if d.code == "RC001":
                unreadable = True
            if sel and not d.code.startswith(sel):
                continue
            if ign and d.code.startswith(ign):
                continue
            diags.append(d)
    _emit(diags, fmt, sources, out, color, fixable)
    if unreadable:
        return 2
    failing = ("error", "warning") if strict else ("error",)
    return 1 if any(d.severity in failing for d in diags) else 0


def _emit(diags, fmt: str, sources: dict, out, color: bool | None, fixable=None) -> None:
    from recipec.diagnostics import render

    if fmt == "concise":
        text = "\n".join(render.render_concise(diags))
    elif fmt == "json":
        text = render.render_json(diags, fixable)
    elif fmt == "sarif":
        text = render.render_sarif(diags)
    elif fmt == "github":
        text = "\n".join(render.render_github(diags))
    else:
        if color is None:
            color = out.isatty() and "NO_COLOR" not in os.environ
        for d in diags:  # the code frame needs the text even where compilation stopped early
            p = d.span.path if d.span else None
            if p and p not in sources:
                try:
                    sources[p] = Path(p).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    sources[p] = ""
        text = render.render_full(diags, sources, color=color).rstrip("\n")
        n_err = sum(d.severity == "error" for d in diags)
        n_warn = sum(d.severity == "warning" for d in diags)
        if diags:
            text += f"\n\nFound {n_err} error(s) and {n_warn} warning(s)."
    if text:
        print(text, file=out)


def explain(code: str, out=None) -> int:
    from recipec.diagnostics.codes import CATALOG, explain as explain_code

    out = out or sys.stdout
    text = explain_code(code)
    if text is None:
        from recipec.diagnostics import did_you_mean

        hint = did_you_mean(code.upper(), CATALOG)
        print(f"error: unknown code {code!r}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    print(text, file=out)
    return 0


def list_codes(out=None) -> int:
    from recipec.diagnostics.codes import CATALOG

    out = out or sys.stdout
    for code, info in sorted(CATALOG.items()):
        print(f"{code}  {info.title}", file=out)
    return 0


def compile_cmd(recipe: str, *, fmt: str = "yaml", model: str = "auto", sets: list[str] | None = None,
                out=None) -> int:
    """Print the canonical form; diagnostics go to stderr; errors give exit 1 and no output."""
    from recipec.diagnostics.render import render_concise
    from recipec.frontend import compile_recipe
    from recipec.ir import canonical

    out = out or sys.stdout
    if fmt not in ("yaml", "json"):
        raise UsageError(f"unknown format {fmt!r}; choose yaml or json")
    res = compile_recipe(recipe, overrides=_parse_sets(sets) or None, model=model)
    for line in render_concise(res.diagnostics):
        print(line, file=sys.stderr)
    if any(d.code == "RC001" for d in res.diagnostics):
        return 2
    if not res.ok:
        return 1
    print(canonical.to_yaml(res.recipe) if fmt == "yaml" else canonical.to_json(res.recipe), file=out, end="")
    if fmt == "json":
        print(file=out)
    return 0


# -- the options: one table, read by the fast path below and by the typer wiring (lint_app.py) ---------


class Opt(NamedTuple):
    """One command-line option. `key` is the keyword of `lint()` / `compile_cmd()`; `kind` is "value",
    "list" (repeatable value), "flag" (sets True) or "switch" (`flags` = the on and the off spelling)."""

    key: str
    flags: tuple[str, ...]
    kind: str
    default: object
    help: str


_SETS = Opt("sets", ("--set",), "list", None, "Override a recipe variable: NAME=VALUE.")
LINT_OPTIONS = (
    Opt("fmt", ("--format", "-f"), "value", None,
        "concise | full | json | sarif | github (default: full on a terminal)."),
    Opt("strict", ("--strict",), "flag", False, "Warnings fail too (exit 1)."),
    Opt("select", ("--select",), "list", None, "Only these codes/prefixes (comma-separated)."),
    Opt("ignore", ("--ignore",), "list", None, "Drop these codes/prefixes (comma-separated)."),
    Opt("model", ("--model",), "value", "auto", "auto | none | yolov5n|s|m|l|x (add -v5 for the v5.0 layout)."),
    Opt("color", ("--color", "--no-color"), "switch", None, "Colour the full format."),
    _SETS,
    Opt("fix", ("--fix",), "flag", False, "Rewrite the files with the safe fixes (only the fixed spans change), "
                                          "then report what is left."),
    Opt("diff", ("--diff",), "flag", False, "With --fix: print a unified diff, write nothing (exit 1 when "
                                            "something would change)."),
    Opt("unsafe_fixes", ("--unsafe-fixes",), "flag", False, "Also apply fixes that change the schedule, and "
                                                            "print their plan diff."),
)
COMPILE_OPTIONS = (
    Opt("fmt", ("--format", "-f"), "value", "yaml", "yaml | json"),
    Opt("model", ("--model",), "value", "auto", "Model for the model-aware checks."),
    _SETS,
)
EXPLAIN_OPTIONS = (Opt("list_all", ("--list",), "flag", False, "List every code with its title."),)


# -- fast path (no typer: building the typer app costs more than the whole lint) ----------------------


def _parse(args: list[str], options: tuple[Opt, ...]) -> tuple[list[str], dict] | None:
    """(positional arguments, {key: value} with every option's default filled in), or None for anything
    the table does not know (typer then reports it)."""
    by_flag = {}
    for o in options:
        for i, flag in enumerate(o.flags):
            by_flag[flag] = (o, i == 0)
    pos, opts = [], {o.key: o.default for o in options}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            pos.extend(args[i + 1:])
            break
        name, eq, val = a.partition("=")
        hit = by_flag.get(name)
        if hit is not None and hit[0].kind in ("value", "list"):
            if not eq:
                i += 1
                if i >= len(args):
                    return None
                val = args[i]
            o = hit[0]
            if o.kind == "list":
                opts[o.key] = [*(opts[o.key] or []), val]
            else:
                opts[o.key] = val
        elif a in by_flag:
            o, first = by_flag[a]
            opts[o.key] = first  # a flag, or a switch's on (first) / off spelling
        elif a.startswith("-") and a != "-":
            return None  # unknown: let typer report it
        else:
            pos.append(a)
        i += 1
    return pos, opts


def fast_main(argv: list[str]) -> int | None:
    """Run `lint`/`explain`/`compile` without typer; None means 'let typer handle it'."""
    if not argv or any(a in ("--help", "-h") for a in argv):
        return None
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "lint":
            parsed = _parse(args, LINT_OPTIONS)
            if parsed is None or not parsed[0]:
                return None
            return lint(parsed[0], **parsed[1])
        if cmd == "explain":
            parsed = _parse(args, EXPLAIN_OPTIONS)
            if parsed is None:
                return None
            pos, o = parsed
            if o["list_all"] and not pos:
                return list_codes()
            if len(pos) != 1:
                return None
            return explain(pos[0])
        if cmd == "compile":
            parsed = _parse(args, COMPILE_OPTIONS)
            if parsed is None or len(parsed[0]) != 1:
                return None
            return compile_cmd(parsed[0][0], **parsed[1])
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return None
