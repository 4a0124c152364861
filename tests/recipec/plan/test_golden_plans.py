"""Golden JSON plans of the shipped recipes at S = 7 (see tests/golden/plans/README.md).

Regenerate only on purpose: `RECIPEC_UPDATE_GOLDEN=1 python -m pytest tests/recipec/plan/test_golden_plans.py`.
"""

from pathlib import Path

import pytest

from conftest import REPO, check_golden
from recipec.frontend import compile_recipe
from recipec.plan import build_plan
from recipec.plan.render_json import plan_to_json

GOLDEN = REPO / "tests" / "golden" / "plans"
S = 7


def recipes() -> list[Path]:
    from conftest import SHARED

    out = sorted((SHARED / "external" / "recipes").glob("*.md")) if SHARED.is_dir() else []
    ex = REPO / "examples" / "recipes"
    out += sorted(p for p in ex.glob("*") if p.suffix in (".yaml", ".md"))
    return out


def golden_name(path: Path) -> str:
    origin = "examples" if path.parent.name == "recipes" and path.parent.parent.name == "examples" else "external"
    return f"{origin}__{path.stem}.json"


@pytest.mark.parametrize("path", recipes(), ids=lambda p: p.name)
def test_golden_plan(path: Path):
    res = compile_recipe(path, model="none")
    assert res.recipe is not None, res.diagnostics
    text = plan_to_json(build_plan(res.recipe, S))
    check_golden(GOLDEN / golden_name(path), text, f"the plan of {path.name}")


def test_golden_dir_has_no_orphans():
    from conftest import SHARED

    names = {golden_name(p) for p in recipes()}
    goldens = GOLDEN.glob("*.json")
    if not SHARED.is_dir():  # the external recipes' goldens cannot be matched without ../shared
        goldens = (g for g in goldens if not g.name.startswith("external__"))
    orphans = [p.name for p in goldens if p.name not in names]
    assert not orphans, f"goldens without a recipe: {orphans}"
