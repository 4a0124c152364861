"""Every corpus recipe that compiles also plans, at odd and round S, without an exception (slow)."""

import pytest

from recipec.frontend import compile_recipe
from recipec.plan import build_plan
from recipec.plan.render_json import plan_to_dict


@pytest.mark.slow
def test_corpus_plans_without_exceptions(corpus_dir):
    files = [p for p in sorted(corpus_dir.rglob("*")) if p.suffix in (".yaml", ".yml", ".md")]
    planned = 0
    for f in files:
        res = compile_recipe(f, model="none")
        if not res.ok:
            continue
        for s in (7, 100):
            if max(res.recipe.max_epochs, 0) * s > 2_000_000:
                continue
            plan = build_plan(res.recipe, s)
            assert all(d.code.startswith("RC5") for d in plan.diagnostics)
            if s == 7 and plan.total_steps < 3000:
                doc = plan_to_dict(plan)
                assert len(doc["steps"]) == plan.total_steps
        planned += 1
    assert planned > 200


def test_sample_of_corpus_plans(corpus_dir):
    files = [p for p in sorted(corpus_dir.rglob("*")) if p.suffix in (".yaml", ".md")][::40]
    for f in files:
        res = compile_recipe(f, model="none")
        if res.ok:
            build_plan(res.recipe, 7)
