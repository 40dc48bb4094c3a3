"""Gradient pathologies and clipping: the fast path equals the library under the same perturbed and clipped
gradients (float64, one start and a batch), clipping equals torch's own functions, every optimizer sees the
same draw, and divergence reasons name the event."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.core.mathlib import NUMPY, SCALAR
from optviz.core.optimizers import get_optimizer
from optviz.core.race import RunConfig, run_race
from optviz.core.race.clip import Clip, clip_pair, clip_rows_torch
from optviz.core.race.perturb import Perturbation, draw_plan
from optviz.core.surfaces import get_surface

STEPS = 80
OPTIMIZERS = ("sgd", "momentum", "adam", "lion", "rmsprop", "lbfgs", "shampoo")
PERTURBATIONS = {
    "spike": {"at": 20, "every": 25, "p": 0.03},
    "vanish": {"from": 10, "to": 40, "factor": 1e-3},
    "sparse": {"p": 0.4},
    "nan": {"at": 30},
    "inf": {"at": 30},
    "heavy": {"df": 1.5, "scale": 0.5},
    "stale": {"lag": 4},
}
SURFACE = get_surface("rosenbrock")
STARTS = np.array([SURFACE.start, [0.5, 1.5], [-1.0, 0.5]])


def both_paths(name: str, perturbation: Perturbation | None, clip: Clip | None, starts: np.ndarray):
    config = RunConfig(name, get_optimizer(name).defaults_for("rosenbrock"), clip=clip)
    fast = run_race(SURFACE, [config], starts, STEPS, seed=3, engine="fast", perturbation=perturbation)
    library = run_race(SURFACE, [config], starts, STEPS, seed=3, engine="library", perturbation=perturbation)
    return fast, library


def assert_same(fast, library) -> None:
    a, b = fast.positions, library.positions
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    both = np.isfinite(a) & np.isfinite(b)
    assert np.abs(a - b)[both].max(initial=0.0) <= 1e-9
    assert fast.status.tolist() == library.status.tolist()
    assert fast.stopped_at.tolist() == library.stopped_at.tolist()


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fast_path_equals_library_under_each_perturbation(name, kind):
    perturbation = Perturbation.make(kind, PERTURBATIONS[kind])
    for starts in (STARTS[:1], STARTS):  # the scalar loop and the numpy loop
        assert_same(*both_paths(name, perturbation, None, starts))


@pytest.mark.parametrize("clip", [Clip("norm", 1.0), Clip("value", 0.5)], ids=["norm", "value"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fast_path_equals_library_with_clipping_under_spikes(name, clip):
    perturbation = Perturbation.make("spike", {"at": 15, "every": 20})
    for starts in (STARTS[:1], STARTS):
        assert_same(*both_paths(name, perturbation, clip, starts))


def test_a_perturbation_changes_the_path():
    """The truth tests would pass for a perturbation that does nothing: it must act."""
    for kind, values in PERTURBATIONS.items():
        plain, _ = both_paths("adam", None, None, STARTS[:1])
        perturbed, _ = both_paths("adam", Perturbation.make(kind, values), None, STARTS[:1])
        assert not np.array_equal(plain.positions, perturbed.positions, equal_nan=True), kind


ROWS = np.array([[3.0, 4.0], [0.1, -0.2], [1e200, 1e200], [np.inf, 1.0], [np.nan, 1.0], [0.0, 0.0], [-7.0, 0.3]])


@pytest.mark.parametrize("clip", [Clip("norm", 1.0), Clip("value", 0.5)], ids=["norm", "value"])
def test_clipping_is_torchs_per_start(clip):
    """Each start clipped as torch clips one 2-element parameter, on floats, numpy columns and torch rows."""
    expected = []
    for row in ROWS:
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(row, dtype=torch.float64)
        if clip.kind == "norm":
            torch.nn.utils.clip_grad_norm_([p], clip.threshold)
        else:
            torch.nn.utils.clip_grad_value_([p], clip.threshold)
        expected.append(p.grad.numpy())
    expected = np.array(expected)
    with np.errstate(all="ignore"):
        columns = np.stack(clip_pair(clip, ROWS[:, 0], ROWS[:, 1], NUMPY), -1)
        floats = np.array([clip_pair(clip, float(x), float(y), SCALAR) for x, y in ROWS])
    rows = clip_rows_torch(clip, torch.as_tensor(ROWS)).numpy()
    for ours in (columns, floats, rows):
        np.testing.assert_array_equal(ours, expected)


def test_every_optimizer_sees_the_same_draw():
    """Two optimizers with the same settings under random spikes and sparsity run the very same paths."""
    surface = get_surface("booth", {"noise": 1.0})
    starts = np.array([[1.0, 1.0], [-3.0, 2.0]])
    hp = get_optimizer("adam").defaults_for("booth")
    for kind, values in (("spike", {"p": 0.1, "at": 0}), ("sparse", {"p": 0.5})):
        result = run_race(
            surface,
            [RunConfig("adam", hp, "a"), RunConfig("adam", hp, "b")],
            starts,
            60,
            seed=5,
            perturbation=Perturbation.make(kind, values),
        )
        assert np.array_equal(result.positions[0], result.positions[1], equal_nan=True)
    plan = draw_plan(Perturbation.make("spike", {"p": 0.1, "at": 0}), 2, 60, seed=5)
    assert plan.events.any() and not np.array_equal(plan.events[0], plan.events[1])  # each start its own draw


def test_stale_gradient_is_the_one_of_lag_steps_ago():
    """Before step lag + 1 the run is the plain one; after, it differs."""
    plain, _ = both_paths("sgd", None, None, STARTS[:1])
    stale, _ = both_paths("sgd", Perturbation.make("stale", {"lag": 5}), None, STARTS[:1])
    assert np.array_equal(plain.positions[0, 0, :6], stale.positions[0, 0, :6])
    assert not np.array_equal(plain.positions[0, 0, 6:8], stale.positions[0, 0, 6:8])


def test_reasons_name_the_injected_gradient():
    result, _ = both_paths("adam", Perturbation.make("nan", {"at": 30}), None, STARTS[:1])
    assert result.stopped_at[0, 0] == 30
    assert result.reasons[0, 0] == "NaN from the injected NaN gradient at step 30"
    result, _ = both_paths("sgd", Perturbation.make("inf", {"at": 12}), None, STARTS[:1])
    assert result.reasons[0, 0].endswith("the injected infinite gradient at step 12")


def test_reason_names_the_spike_and_clipping_survives_it():
    """The example scene's story: momentum is thrown out by the spike; clipped momentum and Adam are not."""
    surface = get_surface("rosenbrock")
    hp = get_optimizer("momentum").defaults_for("rosenbrock")
    adam = RunConfig("adam", get_optimizer("adam").defaults_for("rosenbrock"))
    spike = Perturbation.make("spike", {"at": 100, "factor": 1e3})
    result = run_race(
        surface,
        [RunConfig("momentum", hp), RunConfig("momentum", hp, clip=Clip("norm", 1.0)), adam],
        np.array([surface.start]),
        300,
        perturbation=spike,
    )
    assert result.status[0, 0] == "diverged"
    assert result.reasons[0, 0] in {f"{what} after the spike at step 100" for what in ("NaN", "infinity", "exploded")}
    assert result.status[1, 0] != "diverged"
    assert result.status[2, 0] != "diverged"


@pytest.mark.parametrize(
    "kind, values",
    [("spike", {"factor": 0}), ("spike", {"p": 2}), ("nan", {"at": 0}), ("stale", {"lag": 1.5}), ("bogus", {})],
)
def test_bad_perturbations_are_one_line_errors(kind, values):
    from optviz.core.errors import OptvizError

    with pytest.raises(OptvizError) as info:
        Perturbation.make(kind, values)
    assert "\n" not in str(info.value)
