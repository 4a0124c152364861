"""Docs that come from the code must match it: generated reference docs, the README's sample output, the
README's commands, the pre-commit hook.

`python3 tests/test_docs.py` rewrites the README's `<!-- sample: ... -->` blocks from the real commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SAMPLE = re.compile(r"(<!-- sample: (\w+) -->\n```text\n\$ (recipec [^\n]*)\n)(.*?)(```)", re.S)


def run_sample(cmd: str) -> str:
    """The output of a README sample command as a reader at a 100-column terminal sees it (stderr first)."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    r = subprocess.run([sys.executable, "-m", "recipec", *cmd.split()[1:]], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    text = r.stderr + r.stdout
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def render_readme(text: str) -> str:
    return SAMPLE.sub(lambda m: m.group(1) + run_sample(m.group(3)) + m.group(5), text)


def test_generated_reference_docs_match_the_code():
    from recipec.cli.commands.docs import GENERATED, stale

    assert set(GENERATED) == {"docs/modifiers.md", "docs/diagnostics.md"}
    assert stale() == [], "run: recipec docs --write"


def test_modifier_docs_cover_every_kind_and_field():
    from recipec.cli.commands.docs import render_modifiers
    from recipec.modifiers import REGISTRY

    text = render_modifiers()
    for kind in REGISTRY:
        section = text.split(f"\n## {kind}\n", 1)[1].split("\n## ", 1)[0]
        for name in REGISTRY[kind].field_names():
            assert f"| `{name}` |" in section, (kind, name)
        assert "Passes:" in section, kind


def test_docs_check_fails_on_drift(tmp_path, monkeypatch):
    from recipec.cli.commands import docs

    (tmp_path / "docs").mkdir()
    for rel, fn in docs.GENERATED.items():
        (tmp_path / rel).write_text(fn(), encoding="utf-8")
    assert docs.stale(tmp_path) == []
    (tmp_path / "docs" / "modifiers.md").write_text("edited by hand\n", encoding="utf-8")
    assert docs.stale(tmp_path) == ["docs/modifiers.md"]


def test_explain_prints_the_catalog_text_of_diagnostics_md():
    from recipec.diagnostics.codes import CATALOG

    r = subprocess.run([sys.executable, "-m", "recipec", "explain", "RC401"], capture_output=True, text=True)
    assert r.returncode == 0
    first = CATALOG["RC401"].explanation.split("\n")[0][:60]
    assert first in r.stdout.replace("\n", " ") or first in r.stdout
    assert first in (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")


def test_readme_samples_are_real_command_output():
    text = README.read_text(encoding="utf-8")
    names = [m.group(2) for m in SAMPLE.finditer(text)]
    assert names == ["lint", "plan"]
    assert render_readme(text) == text, "README samples are stale: run python3 tests/test_docs.py"


def test_readme_commands_match_ci_and_the_cli():
    text = README.read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").replace(" -q ", " ")  # CI adds -q to pip
    # the README opens with exactly two commands: install (torch pinned as CI pins it) + demo; tests as CI runs them
    setup = text.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(setup) == 2, setup
    install, demo = setup[0].split(" && ")
    assert demo == "recipec demo" and install.endswith(" .") and "python3 -m pip install torch==2.13.0" in install
    assert "python3 -m pip install torch==2.13.0\n" in ci
    extras, suite = setup[1].split(" && ")
    assert f"\n{extras}\n" in ci and ci.rstrip().endswith(f"\n{suite}")
    from typer.testing import CliRunner

    from recipec.cli import build_app

    app = build_app()
    for sub in ("lint", "plan", "train", "export", "bench", "demo", "schema", "docs", "val", "predict"):
        assert f"recipec {sub}" in text, sub
        assert CliRunner().invoke(app, [sub, "--help"]).exit_code == 0, sub
    for opt in ("--install-completion", "--show-completion"):
        assert opt in text and opt in CliRunner().invoke(app, ["--help"]).output


def test_pre_commit_hook_lints_recipes_only():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "recipec-lint" and hook["entry"] == "recipec lint" and hook["language"] == "python"
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])

    def picked(p: str) -> bool:
        return bool(files.search(p)) and not exclude.search(p)

    assert all(picked(p) for p in ("examples/recipes/yolov5s_transfer_pruned.yaml", "recipe.md", "my_recipe.yml"))
    assert not any(picked(p) for p in (".github/workflows/ci.yaml", "docs/plan.md", "recipes/README.md",
                                       "data.yaml"))
    for f in sorted((REPO / "examples" / "recipes").glob("*.yaml")):
        assert picked(str(f.relative_to(REPO)))


if __name__ == "__main__":
    README.write_text(render_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the samples in {README}")
