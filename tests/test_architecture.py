"""The layering of docs/architecture.md, checked on the imports of every module (parsed, never imported).

Layers, top to bottom: the CLI layer (`recipec.cli` and its subpackages, `recipec.__main__`) may import
everything; the front end (the rest of `recipec`) imports neither torch, `engine` nor `yolo`; `engine` uses the
front end's results only (the typed Plan, the IR and modifier specs), never the compiler or the CLI layer;
`yolo` imports nothing of ours. No two modules import each other, directly or in a circle. Every import
counts, also one inside a function (a deferred import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGES = ("recipec", "engine", "yolo")
CLI_LAYER = ("recipec.cli", "recipec.__main__")
# What the engine may use of `recipec` (besides the package's version): the Plan and its schedules, the IR's
# Recipe and the modifier specs (kinds, categories, fields); not the planner's checks, renderings or diff.
ENGINE_MAY_USE = ("recipec.plan", "recipec.ir.recipe", "recipec.modifiers", "recipec.span")
ENGINE_EXCEPT = ("recipec.plan.build", "recipec.plan.checks", "recipec.plan.diff", "recipec.plan.epochs_fit",
                 "recipec.plan.render_json", "recipec.plan.render_table", "recipec.plan.render_diff", "recipec.plan.plot")
THIRD_PARTY_HEAVY = ("torch", "torchvision", "onnx", "onnxruntime", "engine", "yolo")


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_files(root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> file, for every module of our three packages."""
    out = {}
    for pkg in PACKAGES:
        for p in sorted((root / pkg).rglob("*.py")):
            parts = list(p.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = p
    return out


def imports_of(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Every module this module imports (absolute names), wherever the import statement is.

    `from pkg import sub` imports `pkg` and, when there is one, the module `pkg.sub`: a submodule that imports
    a sibling from its package this way depends on the package's `__init__` (a circle when that imports it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods)
    return out


def ours(target: str, mods: dict[str, Path]) -> str | None:
    """The module of ours that an imported name belongs to (the longest matching module), if any."""
    parts = target.split(".")
    while parts:
        if ".".join(parts) in mods:
            return ".".join(parts)
        parts.pop()
    return None


def graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    g = {}
    for name, path in mods.items():
        deps = {ours(t, mods) for t in imports_of(name, path, mods)}
        g[name] = {d for d in deps if d is not None and d != name}
    return g


def layer_violations(mods: dict[str, Path]) -> list[str]:
    bad = []
    for name, path in mods.items():
        for target in sorted(imports_of(name, path, mods)):
            top = target.split(".")[0]
            if _under(name, CLI_LAYER):
                continue
            if name.startswith("recipec"):
                if top in THIRD_PARTY_HEAVY or _under(target, CLI_LAYER):
                    bad.append(f"front end {name} imports {target}")
            elif name.startswith("engine"):
                if top == "recipec" and target != "recipec" and (not _under(target, ENGINE_MAY_USE)
                                                                 or _under(target, ENGINE_EXCEPT)):
                    bad.append(f"engine {name} imports {target}")
            elif name.startswith("yolo") and top in ("recipec", "engine"):
                bad.append(f"yolo {name} imports {target}")
    return sorted(set(bad))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in g:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_layers_import_only_downwards():
    assert layer_violations(module_files()) == []


def test_no_import_cycles():
    assert cycles(graph(module_files())) == []


def test_the_checker_sees_a_circle_and_a_layer_broken(tmp_path):
    """The two tests above can fail: a circle through a package's `__init__`, and imports that go up."""
    files = {
        "recipec/__init__.py": "",
        "recipec/plan/__init__.py": "from recipec.plan.model import Plan\n",
        "recipec/plan/model.py": "from recipec.plan import clock\nPlan = 1\n",
        "recipec/plan/clock.py": "def f():\n    import torch\n",
        "engine/__init__.py": "",
        "engine/train.py": "from recipec.frontend import compile_recipe\nfrom recipec.plan.model import Plan\n",
        "recipec/frontend.py": "",
        "yolo/__init__.py": "",
        "yolo/model.py": "import engine.train\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    mods = module_files(tmp_path)
    assert cycles(graph(mods)) == [["recipec.plan", "recipec.plan.model"]]
    assert layer_violations(mods) == ["engine engine.train imports recipec.frontend",
                                      "front end recipec.plan.clock imports torch",
                                      "yolo yolo.model imports engine.train"]
