"""Render diagnostics: concise, full (code frame), json, sarif (2.1.0) and github annotations.

Pure functions from diagnostics (and source texts, for the full form) to text. Only the CLI
prints and picks exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recipec.diagnostics import Diagnostic

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m"}
_BOLD, _BLUE, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"


def _loc(d: Diagnostic) -> tuple[str, int, int, int, int]:
    s = d.span
    if s is None:
        return ("<unknown>", 1, 1, 1, 1)
    return (s.path, s.line, s.col, s.end_line, s.end_col)


def render_concise(diags: Iterable[Diagnostic]) -> list[str]:
    """One line per diagnostic: `PATH:LINE:COL: CODE message`."""
    out = []
    for d in diags:
        path, line, col, _, _ = _loc(d)
        out.append(f"{path}:{line}:{col}: {d.code} {d.message}")
    return out


def render_full(diags: Iterable[Diagnostic], sources: Mapping[str, str], *, color: bool = False) -> str:
    """Compiler-style blocks: header, location, the source line with carets, and `help:`."""
    blocks = []
    for d in diags:
        c = (lambda s, k: f"{k}{s}{_RESET}") if color else (lambda s, k: s)
        path, line, col, end_line, end_col = _loc(d)
        head = c(f"{d.severity}[{d.code}]", _COLORS[d.severity]) + c(f": {d.message}", _BOLD if color else "")
        lines = [head]
        text = sources.get(path)
        gutter = len(str(line))
        lines.append(" " * gutter + c("--> ", _BLUE) + f"{path}:{line}:{col}")
        src_lines = text.splitlines() if text is not None else []
        if 0 < line <= len(src_lines):
            src = src_lines[line - 1].replace("\t", " ")
            width = (end_col - col) if end_line == line else max(len(src) - col + 1, 1)
            width = max(1, min(width, max(len(src) - col + 1, 1)))
            pad = " " * gutter
            lines.append(pad + c(" |", _BLUE))
            lines.append(c(f"{line} |", _BLUE) + f" {src}")
            lines.append(pad + c(" |", _BLUE) + " " + " " * (col - 1) + c("^" * width, _COLORS[d.severity]))
        if d.help:
            lines.append(" " * gutter + c(" = help: ", _BLUE) + d.help)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def to_dicts(diags: Iterable[Diagnostic], fixes: Mapping | None = None) -> list[dict]:
    """One dict per diagnostic. `fixes` ({diagnostic: Fix}, from `recipec.fix.find_fixes`) gives
    `fixable` and `fix` ("safe" / "unsafe" / null: what `recipec lint --fix` would do)."""
    out = []
    fixes = fixes or {}
    for d in diags:
        path, line, col, end_line, end_col = _loc(d)
        f = fixes.get(d)
        out.append({"code": d.code, "severity": d.severity, "message": d.message, "path": path, "line": line,
                    "col": col, "end_line": end_line, "end_col": end_col, "help": d.help,
                    "fixable": f is not None, "fix": f.applicability if f is not None else None})
    return out


def render_json(diags: Iterable[Diagnostic], fixes: Mapping | None = None) -> str:
    import json

    return json.dumps(to_dicts(diags, fixes), indent=2)


def _esc_prop(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _esc_msg(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(diags: Iterable[Diagnostic]) -> list[str]:
    """GitHub Actions workflow commands: `::error file=...,line=...,col=...::message`."""
    kind = {"error": "error", "warning": "warning", "note": "notice"}
    out = []
    for d in diags:
        path, line, col, end_line, end_col = _loc(d)
        props = (f"file={_esc_prop(path)},line={line},col={col},endLine={end_line},endColumn={end_col},"
                 f"title={d.code}")
        msg = d.message + (f" (help: {d.help})" if d.help else "")
        out.append(f"::{kind[d.severity]} {props}::{_esc_msg(f'{d.code} {msg}')}")
    return out


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative, absolute ones become file:// URIs."""
    from pathlib import Path

    p = Path(path)
    return p.as_uri() if p.is_absolute() else path.replace("\\", "/")


def render_sarif(diags: list[Diagnostic], *, version: str = "0.1.0") -> str:
    """A SARIF 2.1.0 log with one run; rules come from the code catalog."""
    import json

    from recipec.diagnostics.codes import CATALOG

    codes = sorted({d.code for d in diags})
    index = {c: i for i, c in enumerate(codes)}
    rules = []
    for c in codes:
        info = CATALOG.get(c)
        rules.append({"id": c, "name": info.title if info else c,
                      "shortDescription": {"text": info.title if info else c},
                      "fullDescription": {"text": info.explanation if info else c},
                      "help": {"text": f"recipec explain {c}"}})
    level = {"error": "error", "warning": "warning", "note": "note"}
    results = []
    for d in diags:
        path, line, col, end_line, end_col = _loc(d)
        text = d.message + (f"\nhelp: {d.help}" if d.help else "")
        results.append({
            "ruleId": d.code, "ruleIndex": index[d.code], "level": level[d.severity],
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(path)},
                "region": {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}}}],
        })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "recipec", "version": version, "rules": rules}},
                  "results": results}],
    }
    return json.dumps(log, indent=2)
