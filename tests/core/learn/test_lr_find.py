"""The lr finder on real training: every trainable optimizer runs it, it puts the model and optimizer back bit
for bit, stops once the loss blows up, and suggests an lr where the loss falls; the suggestion rules and the
analytic-surface sweep."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn.config import OptimizerRun
from optviz.core.learn.control import Cancelled
from optviz.core.learn.lr_find import lr_find, range_test
from optviz.core.learn.trial import TrialData, TrialSetup
from optviz.core.optimizers import REGISTRY
from optviz.core.scene import default_scene
from optviz.core.surfaces import get_surface
from optviz.core.sweep.lr_sweep import suggest, surface_lr_sweep

warnings.filterwarnings("ignore", category=UserWarning)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAINABLE = [name for name, spec in REGISTRY.items() if not spec.training_unavailable]
TINY = TrialSetup(model="mlp", dataset="moons", batch_size=32, device="cpu", seed=0)


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_trainable_optimizer_runs_the_range_test(name):
    result = lr_find(TINY, OptimizerRun(name), min_lr=1e-5, max_lr=1.0, steps=12)
    assert 1 <= len(result.lrs) <= 12 and len(result.losses) == len(result.smoothed) == len(result.lrs)
    assert result.lrs[0] == pytest.approx(1e-5) and np.all(np.diff(result.lrs) > 0)
    assert result.to_dict()["optimizer"] == name
    assert result.suggestions.valley_lr is not None or result.stop_reason


def snapshot(model, opt):
    """Copies of the weights, the optimizer's state and its groups' values (the finder changes some in place:
    torchao's lr tensor, L-BFGS's history lists)."""
    weights = [p.detach().clone() for p in model.parameters()]
    state = copy.deepcopy(opt.state_dict())
    return weights, state["state"], state["param_groups"]


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        if type(a) is not torch.Tensor:  # torchao's 8-bit state: compare what it stands for
            a, b = a.dequantize(), b.dequantize()
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("name", ["adam", "sgd", "adam8bit", "schedulefree_adamw", "lbfgs", "prodigy", "adahessian"])
def test_the_model_and_the_optimizer_are_put_back_bit_for_bit(name):
    data = TrialData(TINY)
    trial = data.trial(OptimizerRun(name))
    for _ in range(3):  # give the optimizer state worth keeping
        trial.step()
    before = snapshot(trial.model, trial.opt)
    torch.manual_seed(7)
    expected_draw = torch.rand(3)
    torch.manual_seed(7)
    result = range_test(trial.model, trial.opt, trial.spec, trial.next_batch, 1e-4, 10.0, steps=25)
    assert len(result.lrs) > 3
    after = snapshot(trial.model, trial.opt)
    for a, b in zip(before[0], after[0], strict=True):
        assert torch.equal(a, b)
    assert (before[1] or name == "sgd") and same(before[1], after[1])  # plain SGD keeps no state
    assert same(before[2], after[2])
    assert torch.equal(torch.rand(3), expected_draw)  # the caller's random stream is untouched


def test_it_stops_once_the_loss_blows_up():
    result = lr_find(TINY, OptimizerRun("sgd", {"momentum": 0.9}), min_lr=1e-3, max_lr=1e4, steps=100)
    assert len(result.lrs) < 100 and result.stopped_early
    assert "4x its minimum" in result.stop_reason or "became" in result.stop_reason
    assert result.lrs[-1] < 1e4


def test_steepest_suggestion_lies_where_the_smoothed_loss_falls():
    result = lr_find(TINY, OptimizerRun("adam"), min_lr=1e-5, max_lr=10.0, steps=60)
    s = result.suggestions
    assert s.steepest_index is not None and s.minimum_index is not None
    assert s.steepest_index < s.minimum_index
    smoothed = np.asarray(result.smoothed)
    slope = np.gradient(smoothed, np.log10(result.lrs))
    assert slope[s.steepest_index] < 0
    assert smoothed[s.steepest_index] > smoothed[s.minimum_index]
    assert s.valley_lr == pytest.approx(result.lrs[s.minimum_index] / 10)


def test_suggestion_rules_on_a_known_curve():
    lrs = np.geomspace(1e-4, 1.0, 41)
    x = np.log10(lrs)
    losses = 1.0 / (1.0 + np.exp(4 * (x + 2))) + 0.2 * np.maximum(0, x + 1) ** 2  # falls fastest at lr 1e-2
    s = suggest(lrs, losses)
    assert s.steepest_lr == pytest.approx(1e-2, rel=0.3)
    assert s.valley_lr == pytest.approx(lrs[int(np.argmin(losses))] / 10)
    flat = suggest(lrs, np.linspace(1.0, 2.0, 41))  # never falls: no steepest point
    assert flat.steepest_lr is None and flat.valley_lr == pytest.approx(1e-5)
    assert suggest(lrs, np.full(41, np.nan)).valley_lr is None
    # A blow-up after the minimum that falls back steeply is noise, not a place to train: not the steepest.
    noisy = np.concatenate([np.linspace(2.0, 1.0, 25), [1.5, 9.0, 3.0, 2.5], np.linspace(2.5, 4.0, 12)])
    s = suggest(lrs, noisy)
    assert s.minimum_index == 24 and 4 <= s.steepest_index < 24


def test_cancel_restores_and_raises():
    data = TrialData(TINY)
    trial = data.trial(OptimizerRun("adam"))
    weights = [p.detach().clone() for p in trial.model.parameters()]
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        range_test(
            trial.model, trial.opt, trial.spec, trial.next_batch, 1e-4, 1.0, 50, cancelled=lambda: next(calls) > 5
        )
    assert all(torch.equal(a, p) for a, p in zip(weights, trial.model.parameters(), strict=True))


@pytest.mark.parametrize(
    ("low", "high", "steps", "fragment"), [(1.0, 0.1, 10, "below the largest"), (1e-3, 1, 1, "2 to")]
)
def test_bad_ranges_are_one_line(low, high, steps, fragment):
    with pytest.raises(OptvizError, match=fragment):
        lr_find(TINY, OptimizerRun("adam"), low, high, steps)


def test_surface_lr_sweep_gives_final_losses_and_suggestions():
    lrs = np.geomspace(1e-5, 1.0, 24)
    result = surface_lr_sweep(get_surface("rosenbrock", {}), "adam", {}, None, 200, lrs)
    assert result.final_losses.shape == (24,) and result.status.shape == (24,)
    assert result.final_losses[0] > result.final_losses[15]  # a larger lr gets further in 200 steps
    s = result.suggestions
    assert s.steepest_index is not None and s.steepest_index <= s.minimum_index
    assert s.valley_lr == pytest.approx(lrs[int(np.nanargmin(result.final_losses))] / 10)
    from_scene = surface_lr_sweep(default_scene(), "sgd", {}, None, 50, lrs[:6])
    assert from_scene.start == tuple(default_scene().start_points(get_surface("rosenbrock", {}))[0])
    assert "final_loss" in from_scene.to_dict()


def test_surface_lr_sweep_refuses_a_decreasing_grid():
    with pytest.raises(OptvizError, match="increasing"):
        surface_lr_sweep(get_surface("rosenbrock", {}), "adam", {}, None, 10, [1e-2, 1e-3])
