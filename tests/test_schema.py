"""`recipec schema`: the JSON Schema built from the modifier registry accepts real recipes and rejects bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import jsonschema  # a test dependency (pyproject [test])
import yaml
from typer.testing import CliRunner

from recipec.cli import build_app
from recipec.cli.commands.schema import build_schema, custom_tags
from recipec.modifiers import REGISTRY

REPO = Path(__file__).resolve().parents[1]


class _TagLoader(yaml.SafeLoader):
    """Reads `!Kind` mappings as plain mappings, as yaml-language-server does with `yaml.customTags`."""


_TagLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_mapping(node, deep=True))


def _load(path: Path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = text.split("---")[1]
    return yaml.load(text, Loader=_TagLoader)


@pytest.fixture(scope="module")
def validator():
    schema = build_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_kind_and_field_is_in_the_schema():
    defs = build_schema()["$defs"]
    for kind in REGISTRY:
        cls = REGISTRY[kind]
        assert set(cls.field_names()) <= set(defs[kind]["properties"]), kind
        assert defs[kind]["required"] == cls.required_fields()
    assert custom_tags() == [f"!{k} mapping" for k in REGISTRY]


def test_example_recipes_validate(validator):
    files = sorted((REPO / "examples" / "recipes").glob("*.yaml"))
    assert len(files) >= 4
    for f in files:
        errors = [e.message for e in validator.iter_errors(_load(f))]
        assert not errors, (f.name, errors[:3])


def test_sparseml_yolov5_recipes_validate(validator, external_dir):
    files = sorted((external_dir / "recipes").glob("*.md"))
    assert files
    for f in files:
        errors = [e.message for e in validator.iter_errors(_load(f))]
        assert not errors, (f.name, errors[:3])


@pytest.mark.parametrize("item, why", [
    ({"start_epoch": 0, "end_epoch": 2, "lr_func": "constant", "init_lr": 0.1, "final_lr": 0.01}, "bad lr_func"),
    ({"start_epoch": 0, "end_epoch": 2, "lr_func": "linear", "init_lr": 0.1, "final_lr": 0.01, "bogus": 1},
     "unknown field"),
    ({"start_epoch": 0, "init_lr": 0.1}, "required fields missing"),
    ({"start_epoch": "soon", "end_epoch": 2, "lr_func": "linear", "init_lr": 0, "final_lr": 0.1}, "text epoch"),
])
def test_bad_modifiers_are_rejected(validator, item, why):
    assert not validator.is_valid({"training_modifiers": [item]}), why
    assert validator.is_valid({"training_modifiers": [{"start_epoch": 0, "end_epoch": 2, "lr_func": "linear",
                                                       "init_lr": 0, "final_lr": "eval(init_lr * 2)"}]})


def test_cli_prints_the_schema_and_the_custom_tags(tmp_path):
    r = CliRunner().invoke(build_app(), ["schema"])
    assert r.exit_code == 0 and json.loads(r.output) == build_schema()
    r = CliRunner().invoke(build_app(), ["schema", "--custom-tags"])
    assert json.loads(r.output)["yaml.customTags"][0] == "!EpochRangeModifier mapping"
    r = CliRunner().invoke(build_app(), ["schema", "--out", str(tmp_path / "s.json")])
    assert r.exit_code == 0 and json.loads((tmp_path / "s.json").read_text()) == build_schema()
    r = CliRunner().invoke(build_app(), ["schema", "--out", str(tmp_path / "no" / "dir" / "s.json")])
    assert r.exit_code == 2 and "cannot write" in r.output


@pytest.mark.slow
def test_every_clean_corpus_recipe_validates(validator, corpus_dir):
    """Every corpus recipe that compiles without errors is valid under the schema (about 300 files)."""
    from recipec.frontend import compile_recipe

    def str_keys(o):
        if isinstance(o, dict):
            return {str(k): str_keys(v) for k, v in o.items()}
        return [str_keys(x) for x in o] if isinstance(o, list) else o

    checked, bad = 0, []
    for f in sorted(corpus_dir.rglob("*")):
        if f.suffix not in (".yaml", ".md") or not compile_recipe(f).ok:
            continue
        try:
            doc = _load(f)
        except yaml.YAMLError:
            continue
        if doc is None:
            continue
        checked += 1
        if not validator.is_valid(str_keys(doc)):
            bad.append(f.name)
    assert checked > 200 and not bad, bad[:5]
