"""One definition of the lint/explain/compile options: lint.py's tables drive both the fast path's parser and
the typer commands (`--help`, completion)."""

from __future__ import annotations

import pytest

from recipec.cli.commands import lint as L


def _typer_options(name: str) -> dict[str, tuple[str, ...]]:
    import typer

    from recipec.cli import build_app

    group = typer.main.get_command(build_app())
    return {p.name: tuple(p.opts) + tuple(p.secondary_opts) for p in group.commands[name].params
            if p.param_type_name == "option"}


@pytest.mark.parametrize("name, table", [("lint", L.LINT_OPTIONS), ("compile", L.COMPILE_OPTIONS),
                                         ("explain", L.EXPLAIN_OPTIONS)])
def test_typer_commands_take_exactly_the_table(name, table):
    assert _typer_options(name) == {o.key: o.flags for o in table}


def test_fast_parser_reads_every_kind():
    pos, o = L._parse(["a.yaml", "-f", "json", "--select=RC2", "--select", "RC3", "--no-color", "--strict",
                       "--set", "x=1", "--", "--b.yaml"], L.LINT_OPTIONS)
    assert pos == ["a.yaml", "--b.yaml"]
    assert (o["fmt"], o["select"], o["color"], o["strict"], o["sets"]) == ("json", ["RC2", "RC3"], False, True,
                                                                          ["x=1"])
    assert (o["model"], o["ignore"], o["fix"]) == ("auto", None, False)  # defaults from the table
    assert L._parse(["a.yaml", "--color"], L.LINT_OPTIONS)[1]["color"] is True
    assert L._parse(["a.yaml", "--bogus"], L.LINT_OPTIONS) is None  # left to typer's error message
    assert L._parse(["a.yaml", "--model"], L.LINT_OPTIONS) is None  # value missing
    assert L._parse(["x.yaml"], L.COMPILE_OPTIONS)[1] == {"fmt": "yaml", "model": "auto", "sets": None}
