"""Modifier runtime on a toy model with a hand-written plan: LR per step, pruning on the plan's steps,
masks held through SGD momentum and the EMA, registry coverage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from torch import nn

from engine import loop, optim
from engine.checkpoint import RunRecord
from engine.ema import ModelEMA
from engine.runtime import Context, MaskRegistry, ModifierError, Runtime
from engine.runtime_registry import RUNTIMES, build_runtimes


@dataclass(frozen=True)
class Spec:
    kind: str
    params: object = "__ALL_PRUNABLE__"
    start_epoch: float = 0.0
    end_epoch: float = -1.0
    mask_type: object = "unstructured"
    leave_enabled: bool = True


@dataclass
class Sched:
    index: int
    update_steps: dict
    start_step: int
    end_step: int | None
    leave_enabled: bool = True


@dataclass
class FakePlan:
    S: int
    epochs: int
    pruning: list = field(default_factory=list)
    qat: object = None

    def lr_at(self, step):
        return (0.001 * (step + 1), 0.002 * (step + 1), 0.003 * (step + 1))


@dataclass
class Recipe:
    modifiers: tuple


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.c1, self.bn, self.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return self.c2(torch.relu(self.bn(self.c1(x))))


def toy_loss(pred, targets):
    loss = (pred - targets.mean()).pow(2).mean()
    return loss, torch.stack([loss.detach(), loss.detach() * 0, loss.detach() * 0])


def session(tmp_path: Path, recipe, plan, *, epochs=2, S=4, stop_after=None, logs=None):
    model = Toy()
    opt = optim.build_optimizer(model, optim.load_hyp(None))
    ctx = Context(model, opt, plan, MaskRegistry(), log=(logs.append if logs is not None else print))
    rt = Runtime(build_runtimes(recipe, ctx), ctx)
    g = torch.Generator().manual_seed(1)
    data = [(torch.rand(2, 3, 8, 8, generator=g), torch.rand(3, 6, generator=g)) for _ in range(S)]
    return loop.Session(model=model, optimizer=opt, runtime=rt, plan=plan,
                        train_loader_for=lambda e, first: data[first:], steps_per_epoch=S, loss_fn=toy_loss,
                        validate=None, save_dir=tmp_path, meta=RunRecord(nc=4), ema=ModelEMA(model), epochs=epochs,
                        progress=False, log=lambda m: None, stop_after=stop_after)


def record_lrs(opt):
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(tuple(g["lr"] for g in o.param_groups)))
    return seen


def test_lr_every_step_equals_plan(tmp_path):
    plan = FakePlan(4, 2)
    s = session(tmp_path, Recipe((Spec("EpochRangeModifier"), Spec("LearningRateFunctionModifier"),
                                  Spec("SetLearningRateModifier"))), plan)
    seen = record_lrs(s.optimizer)
    loop.run(s)
    assert seen == [plan.lr_at(i) for i in range(8)]
    assert len([m for m in s.runtime.modifiers if type(m).__name__ == "LearningRateRuntime"]) == 1


def test_gmp_on_plan_steps_and_masks_hold(tmp_path):
    sched = Sched(0, {0: 0.2, 2: 0.5, 4: 0.7}, 0, 4)
    plan = FakePlan(4, 2, pruning=[sched])
    s = session(tmp_path, Recipe((Spec("GMPruningModifier"),)), plan)
    loop.run(s)
    model = s.model
    for name in ("c1.weight", "c2.weight"):
        w = model.get_parameter(name)
        assert abs(float((w == 0).float().mean()) - 0.7) < 0.02
        zeros = w == 0
        assert torch.all(s.ema.ema.get_parameter(name)[zeros] == 0)
        buf = s.optimizer.state[w]["momentum_buffer"]
        assert torch.all(buf[zeros] == 0)
    ck = torch.load(tmp_path / "weights" / "last.pt", weights_only=True)
    assert set(ck["masks"]) == {"c1.weight", "c2.weight"} and ck["step"] == 8
    assert torch.equal(ck["masks"]["c1.weight"], ck["model"]["c1.weight"] != 0)


def test_constant_keeps_existing_zeros(tmp_path):
    plan = FakePlan(4, 1, pruning=[Sched(0, {}, 0, None)])
    s = session(tmp_path, Recipe((Spec("ConstantPruningModifier"),)), plan, epochs=1)
    w = s.model.c1.weight
    with torch.no_grad():
        w[w.abs() < 0.1] = 0
    zeros = (w == 0).clone()
    loop.run(s)
    assert torch.equal(w == 0, zeros) and zeros.any()
    assert torch.equal(s.ema.ema.c1.weight == 0, zeros)


def test_leave_enabled_false_releases(tmp_path):
    plan = FakePlan(4, 2, pruning=[Sched(0, {0: 0.5, 3: 0.6}, 0, 3, leave_enabled=False)])
    logs = []
    s = session(tmp_path, Recipe((Spec("GMPruningModifier"),)), plan, logs=logs)
    loop.run(s)
    assert any("released" in m for m in logs)
    assert float((s.model.c1.weight == 0).float().mean()) < 0.6  # weights regrow after release


@dataclass(frozen=True)
class DictSpec(Spec):
    final_sparsity: object = None


@pytest.mark.parametrize("final, expected", [
    ({0.8: ["re:c.*weight"], 0.6: ["c1.weight"]}, {"c1.weight": 0.8, "c2.weight": 0.8}),
    ({0.6: ["c1.weight"], 0.8: ["re:c.*weight"]}, {"c1.weight": 0.6, "c2.weight": 0.8}),
])
def test_dict_final_sparsity_first_matching_key_wins(final, expected):
    from engine.runtime_pruning import PruningRuntime

    model = Toy()
    ctx = Context(model, optim.build_optimizer(model, optim.load_hyp(None)),
                  FakePlan(4, 1, pruning=[Sched(0, {0: 0.5}, 0, 1)]), MaskRegistry())
    rt = PruningRuntime(DictSpec("GMPruningModifier", params=[], final_sparsity=final), ctx, 0)
    assert rt.per_param == expected and rt.names == list(expected)


def test_unknown_kind_and_unmatched_params():
    model = Toy()
    ctx = Context(model, optim.build_optimizer(model, optim.load_hyp(None)), FakePlan(4, 1), MaskRegistry())
    with pytest.raises(ModifierError, match="not run by recipec train"):
        build_runtimes(Recipe((Spec("DistillationModifier"),)), ctx)
    ctx.plan.pruning = [Sched(0, {0: 0.5}, 0, 1)]
    with pytest.raises(ModifierError, match="matched nothing"):
        build_runtimes(Recipe((Spec("GMPruningModifier", params=["model.99.weight"]),)), ctx)


def test_registry_matches_front_end_runnable():
    """Every kind the front end marks runnable has a runtime, and nothing else does."""
    from recipec.modifiers import REGISTRY

    runnable = {k for k, cls in REGISTRY.items() if getattr(cls, "runnable", False)}
    assert runnable == set(RUNTIMES)


def test_logging_modifier_ignored_with_a_note():
    model = Toy()
    logs = []
    ctx = Context(model, optim.build_optimizer(model, optim.load_hyp(None)), FakePlan(4, 1), MaskRegistry(),
                  log=logs.append)
    build_runtimes(Recipe((Spec("SparsificationLoggingModifier"),)), ctx)
    assert any("ignored" in m for m in logs)


def test_nonfinite_loss_names_step_and_keeps_checkpoint(tmp_path):
    plan = FakePlan(4, 2)
    s = session(tmp_path, Recipe(()), plan)
    calls = {"n": 0}

    def bad_loss(pred, t):
        calls["n"] += 1
        loss, items = toy_loss(pred, t)
        return (loss * float("nan") if calls["n"] == 6 else loss), items

    s.loss_fn = bad_loss
    with pytest.raises(loop.NonFiniteLoss, match="at step 5 .epoch 1, batch 1.") as ei:
        loop.run(s)
    kept = torch.load(ei.value.kept, weights_only=True)
    assert kept["step"] == 4 and all(torch.isfinite(v).all() for v in kept["model"].values()
                                     if v.is_floating_point())


def test_stop_and_resume_reproduces(tmp_path):
    def make(d, stop=None):
        plan = FakePlan(4, 3, pruning=[Sched(0, {0: 0.3, 4: 0.5, 8: 0.6}, 0, 8)])
        return session(d, Recipe((Spec("GMPruningModifier"), Spec("LearningRateFunctionModifier"))), plan,
                       epochs=3, stop_after=stop)

    full = make(tmp_path / "full")
    loop.run(full)
    part = make(tmp_path / "part", stop=6)
    with pytest.raises(loop.Stopped):
        loop.run(part)
    ck = torch.load(tmp_path / "part" / "weights" / "last.pt", weights_only=True)
    res = make(tmp_path / "part")
    res.model.load_state_dict(ck["model"])
    res.runtime.load_state_dict(ck["runtime"])
    res.optimizer.load_state_dict(ck["optimizer"])
    res.ema.load_state_dict(ck["ema"], ck["updates"])
    res.step = ck["step"]
    loop.run(res)
    assert res.step == full.step == 12
    for n, p in full.model.named_parameters():
        assert torch.equal(p == 0, res.model.get_parameter(n) == 0), n
        assert torch.equal(p, res.model.get_parameter(n)), n


@dataclass(frozen=True)
class QSpec:
    kind: str = "QuantizationModifier"
    start_epoch: float = 0.5
    submodules: object = None
    exclude_module_types: object = None
    quantize_conv_activations: bool = False
    freeze_bn_stats_epoch: float = -1
    disable_quantization_observer_epoch: float = -1


@dataclass(frozen=True)
class QSched:
    start_step: int
    freeze_bn_step: int | None
    disable_observer_step: int | None


def test_qat_on_plan_steps_turns_off_ema_and_keeps_masks(tmp_path):
    from engine.quant import is_qat

    plan = FakePlan(4, 2, pruning=[Sched(0, {0: 0.5}, 0, 0)], qat=QSched(2, 3, 5))
    logs = []
    s = session(tmp_path, Recipe((Spec("GMPruningModifier"), QSpec())), plan, logs=logs)
    updates = []
    orig = s.ema.update
    s.ema.update = lambda m: (updates.append(s.step), orig(m))
    loop.run(s)
    assert is_qat(s.model)
    assert updates == [0, 1]  # EMA stops when QAT starts at step 2
    assert any("EMA and AMP disabled" in m for m in logs)
    assert any("frozen at step 3" in m for m in logs) and any("observers disabled at step 5" in m for m in logs)
    w = s.model.get_parameter("c1.weight")
    assert abs(float((w == 0).float().mean()) - 0.5) < 0.02
    ck = torch.load(tmp_path / "weights" / "last.pt", weights_only=True)
    assert ck["qat"]["started"] and ck["ema"] is None
    assert torch.equal(ck["model"]["c1.weight"] == 0, ck["masks"]["c1.weight"] == 0)


def test_qat_submodules_checked_up_front():
    model = Toy()
    ctx = Context(model, optim.build_optimizer(model, optim.load_hyp(None)), FakePlan(4, 1, qat=QSched(0, None, None)),
                  MaskRegistry())
    with pytest.raises(ModifierError, match="not in the model: model.99"):
        build_runtimes(Recipe((QSpec(submodules=["model.99"]),)), ctx)


def test_qat_resume_keeps_the_checkpoints_layout(tmp_path):
    """A QAT run resumed under a recipe whose layout now maps differently (e.g. after a semantics fix) keeps the
    layout it was trained with (the spec stored in the checkpoint), and says so."""
    from engine.quant import is_qat

    def make(d, qspec, stop=None, logs=None):
        plan = FakePlan(4, 2, qat=QSched(1, None, None))
        return session(d, Recipe((qspec,)), plan, epochs=2, stop_after=stop, logs=logs)

    part = make(tmp_path / "part", QSpec(quantize_conv_activations=False), stop=3)
    with pytest.raises(loop.Stopped):
        loop.run(part)
    ck = torch.load(tmp_path / "part" / "weights" / "last.pt", weights_only=True)
    assert ck["runtime"]  # the QAT state travels in the runtime state
    logs = []
    res = make(tmp_path / "part", QSpec(quantize_conv_activations=True), logs=logs)
    res.model.load_state_dict(ck["model"])
    res.runtime.load_state_dict(ck["runtime"])
    assert is_qat(res.model)
    assert res.model._qat_spec.quantize_conv_activations is False
    assert any("resuming with the checkpoint's layout" in m for m in logs)
