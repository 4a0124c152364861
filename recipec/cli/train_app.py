"""The application side of `recipec train`: resolve the inputs, compile the recipe, plan it, run the engine.

Top to bottom (``run_training``), each step a short function here or in ``engine.train``:

1. ``engine.train.open_run``      ranks, device, seed;
2. ``_resume``                    ``--resume``: the checkpoint found and read once, its arguments put back (else the
                                  project folder checked before the long set-up);
3. ``engine.train.load_hyp_for``  hyperparameters;
4. ``_run_recipe``                the recipe (file, zoo: stub or shipped example; on resume the checkpoint's), or
                                  YOLOv5's schedule for ``--epochs`` without one, compiled once by the front end
                                  with ``--epochs`` and ``--set`` as variable overrides;
5. ``_data``                      the data YAML;
6. ``_start``                     the starting weights (``engine.start.load_start``), the recipe stored in them
                                  compiled here, and SparseML's rules for it (``engine.start.check_start``);
7. ``engine.train.prepare_loaders``  the loader: ``steps_per_epoch``;
8. ``_plan``                      ``recipec.plan.build_plan`` at that ``steps_per_epoch``; its findings printed;
9. ``engine.train.train``         the run, on the typed Plan.

Data flows down only: the engine receives a compiled Recipe and a Plan, never text to compile. This module imports
torch (through the engine): only the train command imports it, when it runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.start import Start
from engine.train import (Resume, RunRecipe, Say, TrainArgs, TrainError, TrainSetup, load_hyp_for, open_run,
                          prepare_loaders, read_resume, train)
from recipec.ir.recipe import Recipe
from recipec.plan.model import Plan


def run_training(a: TrainArgs, log: Say = print) -> Path:
    """Run one training; returns the run folder. Raises TrainError on bad input."""
    env = open_run(a, log)
    resume = _resume(a)
    hyp = load_hyp_for(a, resume)
    recipe, plan_kw = _run_recipe(a, resume, hyp, env.say)
    data = _data(a)
    start, already_quantized = _start(a, resume, data, recipe.recipe, env.say)
    setup = TrainSetup(a, env, hyp, data, recipe, start, resume, already_quantized)
    loaders = prepare_loaders(setup)
    return train(setup, loaders, _plan(setup, loaders.steps_per_epoch, plan_kw))


@contextmanager
def _as_train_error(*errors: type[Exception]) -> Iterator[None]:
    """The engine's and yolo's own input errors, as the one error `recipec train` reports (their messages are
    complete)."""
    try:
        yield
    except errors as e:
        raise TrainError(str(e)) from None


def _resume(a: TrainArgs) -> Resume | None:
    """``--resume [PATH]``: the run folder, arguments and recipe come from its checkpoint."""
    from engine.run_dir import RunDirError, check_project
    from recipec.cli.run_paths import find_resume

    if a.resume is None:
        with _as_train_error(RunDirError):
            check_project(a.project)  # a file or a read-only folder in the way: say so before the long set-up
        return None
    path = find_resume(a.resume, a.project)
    if path is None:
        raise TrainError(f"--resume: no last.pt found under {a.project}/*/weights/")
    resume = read_resume(path)
    resume.restore(a)
    return resume


def _run_recipe(a: TrainArgs, resume: Resume | None, hyp: dict[str, Any], say: Say) -> tuple[RunRecipe, dict]:
    """The run's recipe, compiled, and the ``build_plan`` keywords ``--epochs`` adds."""
    path, text = recipe_source(a.recipe)
    if resume is not None:
        text = check_recipe_change(resume.ck, text, a.allow_recipe_change, say)
        path = path or resume.ck.get("recipe_path")
    if text is None:
        if a.epochs is None:
            raise TrainError("give --recipe (a file or zoo: stub) or --epochs N to train without one")
        from recipec.cli.default_recipe import epoch_recipe

        text = epoch_recipe(a.epochs, hyp)  # its epochs are written in: no override
        return RunRecipe(compile_for_training(path, text, None, say)[0], text, path), {}
    recipe, plan_kw = compile_for_training(path, text, a.epochs, say, overrides=a.overrides)
    return RunRecipe(recipe, text, path), plan_kw


def recipe_source(arg: str | None) -> tuple[str | None, str | None]:
    """(path, text) of ``--recipe``: a file, a zoo: stub, or the bare name of an example shipped with recipec."""
    if not arg:
        return None, None
    from engine import zoo

    try:
        if zoo.is_stub(arg):
            path = zoo.resolve_recipe(arg)
        else:  # a bare name that is no file here may be an example shipped with recipec
            from recipec.examples import resolve_recipe_arg

            path = Path(resolve_recipe_arg(arg))
    except zoo.ZooError as e:
        raise TrainError(str(e)) from None
    try:
        return str(path), path.read_text()
    except OSError as e:
        raise TrainError(f"cannot read recipe {path}: {e.strerror or e}") from None


def check_recipe_change(resume_ck: dict, new_text: str | None, allow: bool, say: Say) -> str:
    """The recipe to resume with: the checkpoint's, or with ``--allow-recipe-change`` a new one (diff shown)."""
    from engine.checkpoint import sha256_text

    old = resume_ck.get("recipe") or ""
    if new_text is None or new_text == old:
        return old
    if not allow:
        raise TrainError("the recipe differs from the one the checkpoint was trained with "
                         f"(sha256 {sha256_text(old)[:12]} -> {sha256_text(new_text)[:12]}); "
                         "pass --allow-recipe-change to resume with the new one")
    diff = "\n".join(difflib.unified_diff(old.splitlines(), new_text.splitlines(), "checkpoint recipe",
                                          "new recipe", lineterm="", n=0))
    say("resuming with a changed recipe (--allow-recipe-change):\n" + diff)
    return new_text


def compile_for_training(path: str | None, text: str, epochs: int | None, say: Say = print,
                         overrides: dict[str, float] | None = None) -> tuple[Recipe, dict[str, Any]]:
    """Compile once, exactly as ``recipec plan`` does: ``--epochs`` is the override of ``num_epochs``, `overrides`
    set other top-level variables. Returns the recipe and the extra ``build_plan`` keywords. Errors become
    TrainError; warnings are printed."""
    from recipec.cli.recipe_epochs import compile_with_epochs
    from recipec.diagnostics.render import render_concise

    src = path or "<recipe>"
    overrides = dict(overrides or {})
    res, has_num_epochs, fixed = compile_with_epochs(src, text=text, epochs=epochs, overrides=overrides)
    if not has_num_epochs:
        raise TrainError(f"--epochs {epochs}: the recipe has no `num_epochs` variable, so its epochs are "
                         "fixed; edit the recipe or drop --epochs")
    plan_kw: dict[str, Any] = {}
    if epochs is not None and res.recipe is not None:
        plan_kw = {"fixed_from_epochs": fixed, "epochs_override": epochs}
    if not res.ok:
        lines = render_concise(res.errors[:10])
        from recipec.plan.epochs_fit import epochs_fit_hint

        hint = epochs_fit_hint(src, text, epochs, overrides) if plan_kw else None
        if hint is not None:  # the recipe is fine as written (lint shows nothing); --epochs N is what breaks it
            raise TrainError(f"--epochs {epochs}: {hint}\n  " + "\n  ".join(lines))
        raise TrainError("the recipe has errors (run `recipec lint` for details):\n  " + "\n  ".join(lines))
    for line in render_concise(d for d in res.diagnostics if d.severity == "warning"):
        say(f"warning: {line}")
    return res.recipe, plan_kw


def _data(a: TrainArgs) -> Any:
    from yolo.data.yaml import DataError, load_data_yaml

    if not a.data:
        raise TrainError("--data DATA.yaml is required")
    with _as_train_error(DataError):
        return load_data_yaml(a.data)


def _start(a: TrainArgs, resume: Resume | None, data: Any, recipe: Recipe, say: Say) -> tuple[Start, bool]:
    """The starting model (and what its checkpoint carried), and whether it is already quantized."""
    from engine.start import StartError, check_start, load_start

    with _as_train_error(StartError):
        start = load_start(a.weights, resume.ck if resume is not None else None, data, say, recipe_arg=a.recipe,
                           init=a.init)
        old = compile_stored_recipe(start.recipe_text, say, start.source) if start.recipe_text else None
        return start, check_start(start, old, recipe, resume is not None, say)


def compile_stored_recipe(text: str, say: Say, source: str = "the checkpoint") -> Recipe | None:
    """A checkpoint's own recipe, compiled; None (with a warning) when it has errors. A compiler crash on it (the
    text is untrusted input) is a TrainError naming the checkpoint, never a traceback."""
    from recipec.cli.stored_recipe import StoredRecipeError, compile_stored

    try:
        recipe = compile_stored(text)
    except StoredRecipeError as e:
        raise TrainError(f"the recipe stored in {source} cannot be compiled ({e}); start from another checkpoint, "
                         "or report this with the file") from None
    if recipe is None:
        say("warning: the checkpoint's own recipe does not compile; its structure is not re-applied")
    return recipe


def _plan(s: TrainSetup, S: int, plan_kw: dict[str, Any]) -> Plan:
    """The recipe planned at the loader's ``S`` steps per epoch (what `recipec plan` prints for it)."""
    from recipec.diagnostics.render import render_concise
    from recipec.plan.build import build_plan

    plan = build_plan(s.recipe.recipe, S, base_lr=s.hyp["lr0"], num_groups=3, **plan_kw)
    for d in plan.diagnostics:
        if d.severity in ("error", "warning"):
            s.env.say(f"plan {d.severity}: {render_concise([d])[0]}")
    s.env.say(f"plan: {plan.epochs} epochs x {S} steps = {plan.total_steps} optimizer steps")
    return plan
