"""The `recipec lint --fix [--diff] [--unsafe-fixes]` driver: fix files in place or show the diff.

Per file: compile, find the fixes, apply them (whole fixes only; an edit whose text moved is
dropped), and repeat (a renamed tag can reveal a fixable value inside it) until nothing changes,
at most `MAX_PASSES` times. The file is rewritten atomically with its BOM and line endings;
nothing else in it changes. With `--diff` nothing is written: a unified diff goes to stdout.
Unsafe fixes (they change the schedule) are applied only with `unsafe=True`, and then the plan
diff of the change (`recipec diff` of the old and new text) is printed too.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from collections import Counter

MAX_PASSES = 4
PLAN_STEPS_PER_EPOCH = 100  # the plan diff of an unsafe fix is shown at this many steps per epoch


def fix_text(path: str, text: str, *, unsafe: bool = False, keep=lambda code: True, overrides=None,
             model: str = "auto"):
    """Fix `text` (read from `path`) -> (new text, applied fixes, unsafe fixes left out)."""
    from recipec.fix import apply_fixes, find_fixes
    from recipec.frontend import compile_recipe

    applied, skipped = [], []
    for _ in range(MAX_PASSES):
        res = compile_recipe(path, text=text, overrides=overrides, model=model)
        fixes = [f for d, f in find_fixes(res.recipe, text, res.diagnostics).items() if keep(d.code)]
        todo = [f for f in fixes if unsafe or not f.unsafe]
        skipped = [f for f in fixes if f.unsafe and not unsafe]
        if not todo:
            break
        text, done = apply_fixes(text, todo)
        if not done:
            break
        applied += done
    return text, applied, skipped


def _read(path: str) -> tuple[str | None, bytes, str | None]:
    from recipec.frontend import read_source

    text, diags = read_source(path)
    if text is None:
        return None, b"", diags[0].message if diags else "cannot read the file"
    with open(path, "rb") as fh:
        bom = b"\xef\xbb\xbf" if fh.read(3) == b"\xef\xbb\xbf" else b""
    return text, bom, None


def _write(path: str, text: str, bom: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".recipec-fix-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bom + text.encode("utf-8"))
        try:
            import shutil

            shutil.copymode(path, tmp)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def unified_diff(path: str, old: str, new: str) -> str:
    """`diff -u` of two texts; a last line without a newline is marked as diff marks it."""
    out = []
    for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _summary(fixes) -> str:
    n = Counter(f.code for f in fixes)
    return ", ".join(f"{c} x{k}" if k > 1 else c for c, k in sorted(n.items()))


def fix_paths(paths: list[str], *, diff: bool = False, unsafe: bool = False, keep=lambda code: True,
              overrides=None, model: str = "auto", out=None, err=None) -> tuple[int, bool]:
    """Fix every file; returns (exit code so far, whether any file changed / would change).

    Exit code 2 when a file cannot be read or written (the others are still fixed)."""
    out = out or sys.stdout
    err = err or sys.stderr
    code, changed_any = 0, False
    for path in paths:
        text, bom, problem = _read(path)
        if text is None:
            print(f"error: {path}: {problem}", file=err)
            code = 2
            continue
        new, applied, skipped = fix_text(path, text, unsafe=unsafe, keep=keep, overrides=overrides,
                                         model=model)
        if skipped:
            print(f"{path}: {len(skipped)} unsafe fix(es) not applied ({_summary(skipped)}); "
                  f"they change the schedule: rerun with --unsafe-fixes", file=err)
        if new == text:
            continue
        changed_any = True
        if diff:
            out.write(unified_diff(path, text, new))
            print(f"{path}: would fix {len(applied)} ({_summary(applied)})", file=err)
        else:
            try:
                _write(path, new, bom)
            except OSError as exc:
                print(f"error: cannot write {path}: {exc.strerror or exc}", file=err)
                code = 2
                continue
            print(f"{path}: fixed {len(applied)} ({_summary(applied)})", file=err)
        if any(f.unsafe for f in applied):  # what the unsafe fixes change, on top of the safe ones
            safe, _a, _s = fix_text(path, text, unsafe=False, keep=keep, overrides=overrides, model=model)
            _print_plan_diff(path, safe, new, overrides, out, err)
    return code, changed_any


def _print_plan_diff(path: str, old: str, new: str, overrides, out, err) -> None:
    """What the unsafe fixes change in the schedule, step by step."""
    from recipec.plan.diff import PlanDiffError, diff_texts
    from recipec.plan.render_diff import render_diff_text

    try:
        d = diff_texts(path, old, path, new, steps_per_epoch=PLAN_STEPS_PER_EPOCH, overrides=overrides)
    except PlanDiffError as exc:
        print(f"{path}: no plan diff: {exc}", file=err)
        return
    from dataclasses import replace

    d = replace(d, a_path=f"{path} (safe fixes only)", b_path=f"{path} (with the unsafe fixes)")
    out.write(f"plan diff of the unsafe fixes ({PLAN_STEPS_PER_EPOCH} steps per epoch):\n")
    out.write(render_diff_text(d))
