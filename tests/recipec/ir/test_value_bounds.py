"""Issue 17, items 1-6: numbers out of range are diagnostics with a position (or usage errors), never a
traceback, and whatever lint accepts `recipec plan` plans without crashing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from recipec.cli import build_app
from recipec.ir.values import MAX_EPOCH
from recipec_testutil import compile_text

HUGE = "1" + "0" * 310  # too large for a float
HEAD = "num_epochs: 10\nm_modifiers:\n  - !EpochRangeModifier {start_epoch: 0, end_epoch: eval(num_epochs)}\n"
GMP = ("  - !GMPruningModifier\n    start_epoch: 0\n    end_epoch: 5\n    init_sparsity: 0.05\n"
       "    final_sparsity: {final}\n    update_frequency: {freq}\n    params: __ALL_PRUNABLE__\n")
STEPLR = ("  - !LearningRateModifier\n    start_epoch: 0\n    end_epoch: 5\n    lr_class: StepLR\n"
          "    lr_kwargs: {{step_size: {step}, gamma: {gamma}}}\n    init_lr: 0.01\n")


def errors_at(src: str) -> list[tuple[str, int, int]]:
    res = compile_text(src)
    return [(d.code, d.span.line, d.span.col) for d in res.diagnostics if d.severity == "error"]


def plan(tmp_path, src: str, *args: str):
    p = tmp_path / "r.yaml"
    p.write_text(src)
    r = CliRunner().invoke(build_app(), ["plan", str(p), "--model", "none", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.output


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "eval(" + HUGE[:300] + " * 10 ** 9)"])
def test_huge_int_epoch_is_a_diagnostic(value):
    src = f"m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: {value}\n"
    assert [(c, line) for c, line, _ in errors_at(src)] == [("RC208", 4)]


def test_huge_int_in_float_fields_and_sparsity_key():
    assert ("RC208", 8, 21) in errors_at(HEAD + GMP.format(final=HUGE, freq=1))
    assert ("RC208", 8, 21) in errors_at(HEAD + GMP.format(final="{" + HUGE + ": [a.weight]}", freq=1))
    assert ("RC208", 9, 23) in errors_at(HEAD + GMP.format(final=0.5, freq=HUGE))


def test_nan_and_inf_sparsity_are_diagnostics():
    assert ("RC208", 8, 21) in errors_at(HEAD + GMP.format(final=".nan", freq=1))
    assert ("RC208", 8, 21) in errors_at(HEAD + GMP.format(final="{.inf: [a.weight]}", freq=1))


@pytest.mark.parametrize("value", ["1.0e308", "1.0e+308", "eval(2 ** 1000)", str(MAX_EPOCH + 1)])
def test_epoch_beyond_the_bound_is_an_error(tmp_path, value):
    src = f"m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: {value}\n"
    assert ("RC208", 4, 16) in errors_at(src)
    code, out = plan(tmp_path, src, "-S", "3")
    assert code == 1 and "not planned" in out


def test_epoch_at_the_bound_lints_and_plan_refuses_cleanly(tmp_path):
    src = f"m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: {MAX_EPOCH}\n"
    assert errors_at(src) == []
    code, out = plan(tmp_path, src, "-S", "1000")
    assert code == 2 and "handles at most" in out


def test_update_frequency_1e308_plans(tmp_path):
    src = HEAD + GMP.format(final=0.5, freq="1.0e+308")
    assert errors_at(src) == []
    code, out = plan(tmp_path, src, "-S", "3", "--format", "json")
    assert code == 0, out


def test_huge_lr_kwargs_gamma_is_a_diagnostic():
    assert ("RC208", 8, 16) in errors_at(HEAD + STEPLR.format(step=1, gamma=HUGE))
    assert ("RC208", 8, 16) in errors_at(HEAD + STEPLR.format(step=".nan", gamma=0.1))


def test_step_size_1e308_plans(tmp_path):
    src = HEAD + STEPLR.format(step="1.0e+308", gamma=0.1)
    assert errors_at(src) == []
    code, out = plan(tmp_path, src, "-S", "3", "--format", "json")
    assert code == 0, out


def test_required_field_null_is_an_error(tmp_path):
    src = HEAD + "  - !SetLearningRateModifier\n    start_epoch: 2\n    learning_rate: null\n"
    assert ("RC112", 6, 20) in errors_at(src)
    code, out = plan(tmp_path, src, "-S", "3")
    assert code == 1 and "not planned" in out


@pytest.mark.parametrize("args", [["--epochs", "1" + "0" * 400], ["--epochs", str(MAX_EPOCH + 1)],
                                  ["-S", "1" + "0" * 400], ["--base-lr", "1e400"]])
def test_plan_options_out_of_range_are_usage_errors(tmp_path, args):
    opts = args if "-S" in args else ["-S", "3", *args]
    code, out = plan(tmp_path, HEAD, *opts)
    assert code == 2 and "error:" in out and "Traceback" not in out


def test_set_override_out_of_range_is_a_diagnostic():
    res = compile_text(HEAD, overrides={"num_epochs": float("inf")})
    assert "RC208" in {d.code for d in res.errors}
    res = compile_text(HEAD, overrides={"num_epochs": int(HUGE)})
    assert "RC208" in {d.code for d in res.errors}


def test_clock_saturates_at_never():
    from recipec.plan.clock import NEVER, first_step_at_or_after
    from recipec.plan.lr_scheduler import step_size_steps

    assert first_step_at_or_after(1e308, 3) == NEVER
    assert first_step_at_or_after(float("inf"), 3) == NEVER
    assert first_step_at_or_after(1.36, 100) == 137  # unchanged below the bound
    assert step_size_steps(1e308, 3) == NEVER


def test_enum_null_is_an_error(tmp_path):
    src = HEAD + GMP.format(final=0.5, freq=1) + "    inter_func: null\n"
    assert ("RC309", 11, 17) in errors_at(src)
    code, out = plan(tmp_path, src, "-S", "3")
    assert code == 1 and "not planned" in out
