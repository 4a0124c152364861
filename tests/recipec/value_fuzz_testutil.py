"""Value-edge fuzzing of every field of every modifier kind, through lint, compile and plan.

Each case is one recipe: an EpochRangeModifier plus the kind's "Passes:" example (its module
docstring) with one field, one entry of a list/mapping field, or one sparsity-mapping key replaced
by an edge value (huge ints, 1e308, nan, inf, null, negative, 0, empty string/list/mapping).
`run_case` runs it through the functions the CLI uses (`lint`, `compile_cmd`, and `plan` through
the typer app) and classifies each run: "clean" (an exit code, no traceback), "traceback" (an
exception escaped, or the CLI's crash guard fired) or "hang" (over `SLOW_S` seconds).

Also a script: `python tests/recipec/value_fuzz_testutil.py [--every N]` prints the counts (run it
with `PYTHONPATH=OLD_CHECKOUT` to measure an older version: it uses only long-standing APIs).
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HUGE = "1" + "0" * 310  # a whole number too large for a float
EDGES = {
    "huge_int": HUGE,
    "neg_huge_int": "-" + HUGE,
    "1e308": "1.0e+308",
    "1e308_text": "1.0e308",  # a string to YAML 1.1 that recipec reads as a number (RC213)
    "-1e308": "-1.0e+308",
    "nan": ".nan",
    "inf": ".inf",
    "-inf": "-.inf",
    "null": "null",
    "negative": "-5",
    "neg_float": "-2.5",
    "zero": "0",
    "empty_str": '""',
    "empty_list": "[]",
    "empty_map": "{}",
    "eval_huge": "eval(2 ** 1000)",
}
SLOW_S = 2.0  # a run slower than this counts as a hang
HARD_S = 20  # a run is interrupted after this many seconds
STEPS_PER_EPOCH = "3"


@dataclass(frozen=True)
class Case:
    kind: str
    target: str  # "field", "field[i]", "field.key" or "field{key}"
    edge: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.target}={self.edge}"


def _example_fields(kind: str) -> list[tuple[str, str]]:
    """(field, raw YAML text) of the kind's first "Passes:" example, in order."""
    import yaml

    from recipec.cli.commands.schema import docstring_parts
    from recipec.modifiers import REGISTRY

    ex = docstring_parts(REGISTRY[kind])[2][0].strip("`")
    body = ex.split(f"!{kind}", 1)[1].strip()
    node = yaml.compose(body, Loader=yaml.SafeLoader)
    return [(k.value, body[v.start_mark.index:v.end_mark.index]) for k, v in node.value]


def _recipe(kind: str, fields: list[tuple[str, str]]) -> str:
    lines = ["num_epochs: 10", "m_modifiers:", "  - !EpochRangeModifier {start_epoch: 0, end_epoch: eval(num_epochs)}",
             f"  - !{kind}"]
    lines += [f"    {k}: {v}" for k, v in fields]
    if not fields:
        lines[-1] += " {}"
    return "\n".join(lines) + "\n"


def _replace(fields, name: str, raw: str) -> list[tuple[str, str]]:
    out = [(k, raw if k == name else v) for k, v in fields]
    return out if any(k == name for k, _ in fields) else out + [(name, raw)]


def _inner_variants(raw: str, edge: str) -> list[tuple[str, str]]:
    """Mutations inside a list or mapping value: each entry's value replaced by `edge`."""
    import yaml

    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    out = []
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.append((f"[{i}]", raw[:item.start_mark.index] + edge + raw[item.end_mark.index:]))
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out.append((f".{k.value}", raw[:v.start_mark.index] + edge + raw[v.end_mark.index:]))
    return out


def cases() -> list[Case]:
    from recipec.modifiers import REGISTRY

    out = []
    for kind in sorted(REGISTRY):
        cls = REGISTRY[kind]
        base = _example_fields(kind)
        given = dict(base)
        for f in cls.spec_fields():
            for edge, raw in EDGES.items():
                out.append(Case(kind, f.name, edge, _recipe(kind, _replace(base, f.name, raw))))
                if f.name in given:
                    for where, inner in _inner_variants(given[f.name], raw):
                        out.append(Case(kind, f.name + where, edge, _recipe(kind, _replace(base, f.name, inner))))
                if f.metadata["kind"] == "sparsity":  # the `{sparsity: [params]}` form, with the key mutated
                    mapping = "{" + raw + ": [re:model.0.conv.weight]}"
                    out.append(Case(kind, f.name + "{key}", edge, _recipe(kind, _replace(base, f.name, mapping))))
    for edge, raw in EDGES.items():  # the variable every epoch of the base recipes follows
        text = _recipe("GMPruningModifier", _example_fields("GMPruningModifier")).replace(
            "num_epochs: 10", f"num_epochs: {raw}", 1).replace("end_epoch: 40", "end_epoch: eval(num_epochs)")
        out.append(Case("variables", "num_epochs", edge, text))
    return out


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


_APP = None


def _app():
    global _APP
    if _APP is None:
        from recipec.cli import build_app

        _APP = build_app()
    return _APP


def _run_one(fn) -> tuple[str, float, str]:
    """Run `fn` (returns (exit code, output)); classify it."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_S)
    t = time.perf_counter()
    try:
        code, text = fn()
    except _Hang:
        return "hang", time.perf_counter() - t, "interrupted"
    except SystemExit as exc:
        code, text = exc.code, ""
    except BaseException as exc:  # noqa: BLE001 - an escaped exception is what we count
        return "traceback", time.perf_counter() - t, f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    dt = time.perf_counter() - t
    if "Traceback" in text or "internal error" in text:
        return "traceback", dt, text[-300:]
    if code not in (0, 1, 2):
        return "traceback", dt, f"exit code {code!r}"
    if dt > SLOW_S:
        return "hang", dt, f"{dt:.1f} s"
    return "clean", dt, ""


def _lint(path: Path):
    from recipec.cli.commands.lint import lint

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = lint([str(path)], fmt="json", out=out)
    return code, err.getvalue()


def _compile(path: Path):
    from recipec.cli.commands.lint import compile_cmd

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = compile_cmd(str(path), fmt="json", out=out)
    return code, err.getvalue()


def _plan(path: Path, *extra: str):
    from typer.testing import CliRunner

    r = CliRunner().invoke(_app(), ["plan", str(path), "-S", STEPS_PER_EPOCH, "--model", "none", *extra])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


COMMANDS = {"lint": _lint, "compile": _compile, "plan": _plan}


def run_case(case: Case, tmp: Path, commands=tuple(COMMANDS)) -> dict[str, tuple[str, float, str]]:
    """{command: (outcome, seconds, detail)} for one case."""
    path = tmp / "fuzz.yaml"
    path.write_text(case.text, encoding="utf-8")
    if "plan" in commands:
        _app()  # built once, outside the timed runs
    return {c: _run_one(lambda c=c: COMMANDS[c](path)) for c in commands}


def tally(results) -> dict[str, int]:
    counts = {"tried": 0, "clean": 0, "traceback": 0, "hang": 0}
    for res in results:
        for outcome, _, _ in res.values():
            counts["tried"] += 1
            counts[outcome] += 1
    return counts


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--every", type=int, default=1, help="run every Nth case")
    ap.add_argument("--show", type=int, default=20, help="print this many failures")
    a = ap.parse_args(argv)
    all_cases = cases()[::a.every]
    results, bad = [], []
    with tempfile.TemporaryDirectory() as d:
        for c in all_cases:
            res = run_case(c, Path(d))
            results.append(res)
            bad += [(c.name, cmd, r) for cmd, r in res.items() if r[0] != "clean"]
    print(f"{len(all_cases)} cases x {len(COMMANDS)} commands: {tally(results)}")
    for cmd in COMMANDS:
        print(f"  {cmd}: {tally([{cmd: r[cmd]} for r in results])}")
    for name, cmd, (outcome, dt, detail) in bad[:a.show]:
        print(f"  {outcome:9} {cmd:7} {name}: {detail.splitlines()[-1] if detail else ''} ({dt:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
