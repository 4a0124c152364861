"""`recipec lint`, `recipec explain` and `recipec compile`.

Kept light: `recipec/cli.py:main` dispatches these commands through `fast_main` without building
the typer app (startup time is most of a lint's cost); `register(app)` exposes the same commands,
options and behaviour through typer for `--help` and completion.

Exit codes: 0 = no errors (warnings allowed unless `--strict`), 1 = findings, 2 = usage error or
an unreadable file.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

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
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(str(f) for f in Path(p).rglob("*") if f.suffix.lower() in RECIPE_SUFFIXES and f.is_file())
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
         sets: list[str] | None = None, out=None) -> int:
    """Lint recipe files, print the findings in `fmt`, return the exit code."""
    out = out or sys.stdout
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

    diags, sources, unreadable = [], {}, False
    for path in _expand(paths):
        res = compile_recipe(path, overrides=overrides or None, model=model)
        if res.recipe is not None:
            sources[path] = res.recipe.text
        for d in res.diagnostics:
            if d.code == "RC001":
                unreadable = True
            if sel and not d.code.startswith(sel):
                continue
            if ign and d.code.startswith(ign):
                continue
            diags.append(d)
    _emit(diags, fmt, sources, out, color)
    if unreadable:
        return 2
    failing = ("error", "warning") if strict else ("error",)
    return 1 if any(d.severity in failing for d in diags) else 0


def _emit(diags, fmt: str, sources: dict, out, color: bool | None) -> None:
    from recipec.diagnostics import render

    if fmt == "concise":
        text = "\n".join(render.render_concise(diags))
    elif fmt == "json":
        text = render.render_json(diags)
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


# -- fast path (no typer) ---------------------------------------------------------------------------

_VALUE_OPTS = {"--format": "fmt", "-f": "fmt", "--select": "select", "--ignore": "ignore", "--model": "model",
               "--set": "sets"}
_FLAG_OPTS = {"--strict": ("strict", True), "--color": ("color", True), "--no-color": ("color", False)}
_LISTS = ("select", "ignore", "sets")


def _parse(args: list[str], value_opts: dict, flag_opts: dict) -> tuple[list[str], dict] | None:
    pos, opts = [], {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            pos.extend(args[i + 1:])
            break
        name, eq, val = a.partition("=")
        if name in value_opts:
            if not eq:
                i += 1
                if i >= len(args):
                    return None
                val = args[i]
            key = value_opts[name]
            if key in _LISTS:
                opts.setdefault(key, []).append(val)
            else:
                opts[key] = val
        elif a in flag_opts:
            key, value = flag_opts[a]
            opts[key] = value
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
            parsed = _parse(args, _VALUE_OPTS, _FLAG_OPTS)
            if parsed is None or not parsed[0]:
                return None
            pos, o = parsed
            return lint(pos, fmt=o.get("fmt"), strict=o.get("strict", False), select=o.get("select"),
                        ignore=o.get("ignore"), model=o.get("model", "auto"), color=o.get("color"),
                        sets=o.get("sets"))
        if cmd == "explain":
            parsed = _parse(args, {}, {"--list": ("list", True)})
            if parsed is None:
                return None
            pos, o = parsed
            if o.get("list") and not pos:
                return list_codes()
            if len(pos) != 1:
                return None
            return explain(pos[0])
        if cmd == "compile":
            parsed = _parse(args, {"--format": "fmt", "-f": "fmt", "--model": "model", "--set": "sets"}, {})
            if parsed is None or len(parsed[0]) != 1:
                return None
            pos, o = parsed
            return compile_cmd(pos[0], fmt=o.get("fmt", "yaml"), model=o.get("model", "auto"), sets=o.get("sets"))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return None


# -- typer registration ------------------------------------------------------------------------------


def register(app) -> None:
    """Add `lint`, `explain` and `compile` to the typer app (see `lint_app.py`)."""
    from recipec.commands.lint_app import register_commands

    register_commands(app)
