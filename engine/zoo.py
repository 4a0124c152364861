"""SparseZoo stubs: parse them ourselves, resolve them offline when we can.

SparseZoo reached end of life in 2025, so a stub is treated as an opaque identifier (SPEC §7). This module
parses both stub grammars and the query string with the same keys, values and error texts as
`sparsezoo.parse_zoo_stub`, then resolves files in this order:

1. a local cache folder named by the environment variable ``RECIPEC_ZOO_DIR`` (offline, preferred);
2. the ``sparsezoo`` package, when it is importable (optional extra ``recipec[zoo]``; needs the network);
3. otherwise a :class:`ZooError` saying the zoo is unreachable and how to pass a local file instead.

Local cache layout (one folder per stub, mirroring the stub's path)::

    $RECIPEC_ZOO_DIR/
      cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94/   # a v1 stub
        training/model.pt          # final weights (post-QAT when the model is quantized)
        training/model.ckpt.pt     # optional: pre-QAT checkpoint meant for transfer learning
        recipe/recipe.md           # the default recipe
        recipe/recipe_transfer_learn.md   # selected by ?recipe_type=transfer_learn (prefix match)
      yolov5-s-coco-pruned75_quantized/                                              # a v2 stub
        training/...  recipe/...

Weights choice follows the SparseML YOLOv5 integration (SPEC §6.2, the "transfer" rule): the recipe name is the
``--recipe`` argument, else the stub's ``recipe_type`` or ``recipe`` query value; if it contains ``transfer``
(case-insensitive) ``training/model.ckpt.pt`` is taken when present, otherwise ``training/model.pt``.
``?checkpoint=preqat`` asks for ``model.ckpt.pt`` explicitly, ``postqat`` for ``model.pt``.

Character classes: we accept ``[A-Za-z0-9._]`` in path parts (plus ``-`` in the sparse tag). SparseZoo's regex
writes ``A-z``, which also admits ``[ \\ ] ^ _`` and a backtick; we do not copy that accident.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ZOO_ENV = "RECIPEC_ZOO_DIR"

# Allowed query keys and their allowed values (None = free text), as SparseZoo's PARAM_DICT.
QUERY_KEYS: dict[str, tuple[str, ...] | None] = {
    "checkpoint": ("prepruning", "postpruning", "preqat", "postqat"),
    "deployment": ("default",),
    "recipe": None,
    "recipe_type": None,
}

_W = r"[.A-Za-z0-9_]+"
_V1 = re.compile(
    rf"^(?P<domain>{_W})/(?P<sub_domain>{_W})/(?P<architecture>{_W})(-(?P<sub_architecture>{_W}))?"
    rf"/(?P<framework>{_W})/(?P<repo>{_W})/(?P<dataset>{_W})(-(?P<training_scheme>{_W}))?"
    rf"/(?P<sparse_tag>[.A-Za-z0-9_-]+)$"
)
_V2 = re.compile(r"^[.A-Za-z0-9_-]+$")


class ZooError(ValueError):
    """A stub that does not parse or cannot be resolved. The message is meant for the user."""


@dataclass(frozen=True)
class ZooStub:
    """A parsed stub. ``path`` is the folder the stub names (v1: the seven parts joined by '/'; v2: the name)."""

    text: str
    version: int
    path: str
    params: dict[str, str] = field(default_factory=dict)
    parts: dict[str, str | None] = field(default_factory=dict)

    @property
    def recipe_name(self) -> str | None:
        """The ``recipe_type`` or ``recipe`` query value, if any."""
        return self.params.get("recipe_type") or self.params.get("recipe")


def is_stub(value: str | os.PathLike | None) -> bool:
    """True when ``value`` is a string starting with ``zoo:``."""
    return isinstance(value, str) and value.startswith("zoo:")


def parse_stub(text: str) -> ZooStub:
    """Parse ``zoo:...[?k=v&...]``; raise :class:`ZooError` with SparseZoo's messages on bad input."""
    body = text[4:] if text.startswith("zoo:") else text
    if body.count("?") > 1:
        raise ZooError(f"Invalid SparseZoo stub, query string must be preceded by only one '?'given {text}")
    path, _, query = body.partition("?")
    params: dict[str, str] = {}
    if query:
        for pair in query.split("&"):
            key, sep, value = pair.partition("=")
            if not sep:
                raise ZooError(f"Invalid SparseZoo stub query part {pair!r} in {text}: expected key=value")
            if key not in QUERY_KEYS:
                raise ZooError(
                    f"String argument {key} not found in the expected set of string arguments "
                    f"{list(QUERY_KEYS)}!"
                )
            allowed = QUERY_KEYS[key]
            if allowed is not None and value not in allowed:
                raise ZooError(
                    f"String argument {key} has value {value}, cannot be found in the expected set of "
                    f"values {list(allowed)}!"
                )
            params[key] = value
    m = _V1.match(path)
    if m:
        return ZooStub(text=text, version=1, path=path, params=params, parts=m.groupdict())
    if "/" not in path and _V2.match(path):
        return ZooStub(text=text, version=2, path=path, params=params, parts={"repo_name": path})
    raise ZooError(
        f"Invalid SparseZoo stub {text!r}: expected zoo:<domain>/<sub_domain>/<architecture>[-<sub>]/"
        "<framework>/<repo>/<dataset>[-<scheme>]/<sparse_tag> (v1) or zoo:<name> (v2)"
    )


def _unreachable(stub: ZooStub, what: str, looked: str) -> ZooError:
    return ZooError(
        f"cannot resolve the {what} of {stub.text}: the SparseZoo service is unreachable (end of life) and "
        f"{looked}. Pass a local file instead (--{what} path/to/file), or put the files in a local cache "
        f"folder and set {ZOO_ENV} (layout: $RECIPEC_ZOO_DIR/{stub.path}/training/model.pt, "
        f"model.ckpt.pt, recipe/recipe_<type>.md)"
    )


def _stub_dir(stub: ZooStub) -> Path | None:
    root = os.environ.get(ZOO_ENV)
    if not root:
        return None
    d = Path(root).expanduser() / stub.path
    return d if d.is_dir() else None


def _looked(stub: ZooStub) -> str:
    root = os.environ.get(ZOO_ENV)
    if not root:
        return f"{ZOO_ENV} is not set and the sparsezoo package is not installed"
    return f"{Path(root).expanduser() / stub.path} does not exist"


def choose_weights_file(folder: Path, stub: ZooStub, recipe_arg: str | None) -> Path:
    """Apply the "transfer" rule (SPEC §6.2) inside a stub folder; return the weights path."""
    training = folder / "training"
    ckpt, final = training / "model.ckpt.pt", training / "model.pt"
    wanted = stub.params.get("checkpoint")
    name = (recipe_arg or stub.recipe_name or "").lower()
    if (wanted == "preqat" or (wanted != "postqat" and "transfer" in name)) and ckpt.is_file():
        return ckpt
    if final.is_file():
        return final
    if ckpt.is_file():
        return ckpt
    raise ZooError(f"{stub.text}: no training/model.pt or training/model.ckpt.pt under {folder}")


def choose_recipe_file(folder: Path, stub: ZooStub) -> Path:
    """Select the recipe as SparseZoo's Recipes does: ``recipe`` by default, ``recipe_<type>`` by prefix."""
    rdir = folder / "recipe"
    files = sorted(p for p in rdir.glob("*") if p.suffix in (".md", ".yaml", ".yml")) if rdir.is_dir() else []
    if not files:
        raise ZooError("No recipes found, could not retrieve a default.")
    name = f"recipe_{stub.recipe_name}" if stub.recipe_name else "recipe"
    exact = [p for p in files if p.stem == name]
    if exact:
        return exact[0]
    prefixed = [p for p in files if p.stem.startswith(name)]
    if prefixed:
        return prefixed[0]
    warnings.warn(f"No default recipe {name} found, falling back to first listed recipe {files[0].name}")
    return files[0]


def _sparsezoo_folder(stub: ZooStub, what: str) -> Path | None:
    try:
        import sparsezoo  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        model = sparsezoo.Model(stub.text)
        folder = Path(model.path)
        if what == "weights":
            _ = model.training.path  # triggers the download of the training folder
        else:
            _ = model.recipes.default.path
        return folder
    except Exception as exc:  # network, service gone, unknown stub
        raise ZooError(
            f"sparsezoo could not resolve {stub.text}: {exc}. The service is end-of-life; pass a local file "
            f"or set {ZOO_ENV} to a cache folder"
        ) from None


def resolve_weights(text: str, recipe_arg: str | None = None) -> Path:
    """The local weights file for a stub (``recipe_arg`` = the ``--recipe`` string, used by the transfer rule)."""
    stub = parse_stub(text)
    folder = _stub_dir(stub) or _sparsezoo_folder(stub, "weights")
    if folder is None:
        raise _unreachable(stub, "weights", _looked(stub))
    return choose_weights_file(folder, stub, recipe_arg)


def resolve_recipe(text: str) -> Path:
    """The local recipe file for a stub (query ``recipe_type`` / ``recipe`` selects by prefix)."""
    stub = parse_stub(text)
    folder = _stub_dir(stub) or _sparsezoo_folder(stub, "recipe")
    if folder is None:
        raise _unreachable(stub, "recipe", _looked(stub))
    return choose_recipe_file(folder, stub)
