"""The example recipes shipped with recipec, read with `importlib.resources`.

`examples/recipes/` of the source tree is the one copy; pyproject.toml installs it as the data package
`recipec._examples` (`[tool.setuptools.package-dir]`), in the wheel and in editable installs alike. A source
tree whose editable install predates that mapping falls back to the checkout's folder.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = "recipec._examples"
SUFFIXES = (".yaml", ".yml", ".md")


def recipe_dir() -> Path:
    """The folder holding the shipped example recipes (it may be missing in a broken install)."""
    from importlib import resources

    try:
        return Path(str(resources.files(PACKAGE)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "examples" / "recipes"


def list_recipes() -> list[str]:
    """File names of the shipped example recipes, sorted."""
    d = recipe_dir()
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def recipe_path(name: str) -> Path:
    """The shipped example recipe `name` (a file name such as `demo_dense.yaml`); FileNotFoundError names the
    shipped ones when there is no such example."""
    p = recipe_dir() / name
    if Path(name).name != name or p.suffix.lower() not in SUFFIXES or not p.is_file():
        have = ", ".join(list_recipes()) or "none: the package is incomplete, reinstall recipec"
        raise FileNotFoundError(f"no example recipe named {name!r} ships with recipec (shipped: {have})")
    return p


def resolve_recipe_arg(arg: str) -> str:
    """A recipe argument as the user gave it, or the shipped example of that name when `arg` is a bare file
    name (no folder part) that is not a file here. Anything else comes back unchanged."""
    if not arg or Path(arg).exists() or Path(arg).name != arg or Path(arg).suffix.lower() not in SUFFIXES:
        return arg
    p = recipe_dir() / arg
    return str(p) if p.is_file() else arg
