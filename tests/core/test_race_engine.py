"""Race engine behaviour: arrays and statuses, determinism, noise, divergence that never raises."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.optimizers import get_optimizer, surface_optimizers
from optviz.core.race import RunConfig, RunStatus, grid_starts, run_race
from optviz.core.surfaces import SURFACES, get_surface

SURFACE_OPTIMIZERS = [s.name for s in surface_optimizers()]


def config(name, surface="rosenbrock", **hp):
    return RunConfig(name, get_optimizer(name).resolve(hp, surface))


def assert_status_agrees_with_arrays(result, surface):
    """Each run's status is what its arrays show, not merely one of the three names: a diverged run has a reason,
    finite losses up to its step and NaN after, and stays at its last finite point; a converged run is within
    tolerance (of a minimum, or of a flat gradient where the surface has none) first at its step; a running one
    never is, and has finite losses throughout."""
    near = result.distances if surface.minima else result.grad_norms
    for k, m in np.ndindex(result.status.shape):
        status, s, losses = result.status[k, m], int(result.stopped_at[k, m]), result.losses[k, m]
        where = (result.configs[k].optimizer, m, status, s)
        if status == RunStatus.DIVERGED:
            assert 0 < s <= result.steps and result.reasons[k, m], where
            assert np.isfinite(losses[:s]).all() and np.isnan(losses[s:]).all(), where
            assert (result.positions[k, m, s:] == result.positions[k, m, s - 1]).all(), where
            continue
        assert np.isfinite(losses).all() and not result.reasons[k, m], where
        if status == RunStatus.CONVERGED:
            assert 0 <= s <= result.steps and near[k, m, s] <= result.tolerance < near[k, m, :s].min(initial=np.inf)
        else:
            assert status == RunStatus.RUNNING and s == -1, where
            assert (near[k, m] > result.tolerance).all(), where


def test_shapes_and_start():
    surface = get_surface("rosenbrock")
    starts = grid_starts(surface.domain, 4, 3)
    result = run_race(surface, [config("adam"), config("sgd")], starts, 50)
    assert result.positions.shape == (2, 12, 51, 2)
    assert result.losses.shape == result.grad_norms.shape == result.update_norms.shape == (2, 12, 51)
    np.testing.assert_array_equal(result.positions[:, :, 0], np.broadcast_to(starts, (2, 12, 2)))
    assert (result.update_norms[:, :, 0] == 0).all()
    np.testing.assert_allclose(result.losses, surface.value_np(result.positions))


def test_deterministic_and_seeded_noise():
    surface = get_surface("rastrigin", {"noise": 3.0})
    configs = [config("sgd", "rastrigin"), config("sgd", "rastrigin"), config("adam", "rastrigin")]
    a = run_race(surface, configs, np.array([surface.start]), 200, seed=1)
    b = run_race(surface, configs, np.array([surface.start]), 200, seed=1)
    c = run_race(surface, configs, np.array([surface.start]), 200, seed=2)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert not np.allclose(a.positions, c.positions)
    # Every optimizer of a race sees the same noise: identical configs give identical paths.
    np.testing.assert_array_equal(a.positions[0], a.positions[1])
    clean = run_race(get_surface("rastrigin"), configs[:1], np.array([surface.start]), 200, seed=1)
    assert not np.allclose(a.positions[0], clean.positions[0])


def test_noise_reaches_library_optimizers_identically():
    """The fast path and the library add the same noise: both engines agree on a noisy surface."""
    surface = get_surface("booth", {"noise": 2.0})
    starts = np.array([surface.start, (1.0, 1.0)])
    fast = run_race(surface, [config("adam", "booth")], starts, 100, seed=5)
    lib = run_race(surface, [config("adam", "booth")], starts, 100, seed=5, engine="library")
    assert fast.engines == ["fast"] and lib.engines == ["library"]
    np.testing.assert_allclose(fast.positions, lib.positions, atol=1e-9)


def test_divergence_is_marked_not_raised():
    surface = get_surface("rosenbrock")
    result = run_race(surface, [config("sgd", lr=1.0)], np.array([surface.start]), 100)
    assert result.status[0, 0] == RunStatus.DIVERGED
    s = result.stopped_at[0, 0]
    assert 0 < s <= 100 and result.reasons[0, 0]
    assert np.isfinite(result.positions).all(), "diverged runs stay at their last finite point"
    assert (result.positions[0, 0, s:] == result.positions[0, 0, s - 1]).all()
    assert np.isnan(result.losses[0, 0, s:]).all() and np.isfinite(result.losses[0, 0, :s]).all()
    record = result.run_record(0, 0)
    assert record["status"] == "diverged" and record["stopped_at"] == s and len(record["positions"]) == s


def test_convergence_step_and_tolerance():
    surface = get_surface("quadratic", {"condition": 4.0})
    result = run_race(surface, [config("lbfgs", "quadratic", lr=1.0)], np.array([surface.start]), 100, tolerance=1e-6)
    assert result.status[0, 0] == RunStatus.CONVERGED
    s = result.stopped_at[0, 0]
    assert result.distances[0, 0, s] <= 1e-6 < result.distances[0, 0, s - 1]


def test_saddle_has_no_minimum_so_convergence_means_a_flat_gradient():
    surface = get_surface("saddle")
    result = run_race(surface, [config("sgd", "saddle", lr=0.01)], np.array([[0.5, 0.0]]), 2000)
    # Exactly on the ridge y = 0 plain gradient descent falls into the saddle point: "converged" there.
    assert result.status[0, 0] == RunStatus.CONVERGED
    assert result.grad_norms[0, 0, result.stopped_at[0, 0]] <= result.tolerance


def test_schedule_free_draws_the_averaged_point():
    """Schedule-Free is drawn at x (what `.eval()` gives), not at the gradient point y."""
    import torch

    spec = get_optimizer("schedulefree_adamw")
    surface = get_surface("rosenbrock")
    hp = spec.resolve({}, "rosenbrock")
    result = run_race(surface, [RunConfig(spec.name, hp)], np.array([surface.start]), 30)
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = spec.build([p], hp)
    opt.train()
    for _ in range(30):
        opt.zero_grad()
        surface.value_torch(p).backward()
        opt.step()
    y = p.detach().numpy().copy()
    opt.eval()
    x = p.detach().numpy().copy()
    np.testing.assert_allclose(result.positions[0, 0, -1], x, atol=1e-12)
    assert np.abs(x - y).max() > 1e-6


@pytest.mark.parametrize("surface_name", [s for s in SURFACES])
@pytest.mark.parametrize("lr", [1e-8, 10.0])
def test_extreme_learning_rates_never_raise(surface_name, lr):
    surface = get_surface(surface_name)
    configs = [config(name, surface_name, lr=lr) for name in SURFACE_OPTIMIZERS]
    result = run_race(surface, configs, np.array([surface.start]), 40)
    assert set(result.status.ravel()) <= {"running", "converged", "diverged"}
    assert np.isfinite(result.positions).all()
    assert_status_agrees_with_arrays(result, surface)
    if lr < 1:
        # Far too small a step to blow up, or to reach a minimum from the suggested start.
        # Except where the library itself breaks down (Shampoo's SVD of a nearly singular statistic gives NaN on
        # some CPUs): then the race says what the library does.
        statuses = dict(zip(SURFACE_OPTIMIZERS, result.status[:, 0], strict=True))
        broken = [k for k in range(len(configs)) if result.status[k, 0] != RunStatus.RUNNING.value]
        for k in broken:
            alone = run_race(surface, [configs[k]], np.array([surface.start]), 40, engine="library")
            assert alone.status[0, 0] == result.status[k, 0], statuses
    else:
        # Far too large for some: their divergence is caught and marked, not raised.
        assert (result.status == RunStatus.DIVERGED.value).any()


@pytest.mark.parametrize("name", ["adam", "sgd", "lamb", "lbfgs"])
def test_extreme_other_hyperparameters(name):
    spec = get_optimizer(name)
    surface = get_surface("beale")
    for p in spec.schema:
        if p.kind in ("float", "int"):
            for value in p.slider_bounds:  # the accepted ends
                cfg = RunConfig(name, spec.resolve({p.name: value}, "beale"))
                result = run_race(surface, [cfg], np.array([surface.start]), 30)
                assert result.status[0, 0] in ("running", "converged", "diverged")
                assert np.isfinite(result.positions).all(), (p.name, value)
                assert_status_agrees_with_arrays(result, surface)


def test_cancel_stops_library_runs():
    surface = get_surface("rosenbrock")
    starts = grid_starts(surface.domain, 4, 4)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    result = run_race(surface, [config("lbfgs")], starts, 50, engine="library", cancelled=cancelled)
    # Only the first two starts ran; the rest never started (NaN, so they count as diverged at step 1).
    assert np.isfinite(result.losses[0, :2, -1]).all()
    assert len(calls) == 3


# Sign-based and fixed-step methods move by about lr every step, so with a constant learning rate they
# hover at a distance ~lr from the minimum instead of converging to a tolerance far below it.
HOVERS = {
    "lion": "sign update: every coordinate moves by lr each step",
    "signsgd": "sign update: every coordinate moves by lr each step",
    "muon": "orthogonalised update of a 1x2 matrix: a step of length lr each time",
}


@pytest.mark.parametrize("name", SURFACE_OPTIMIZERS)
def test_converges_on_a_quadratic(name):
    """Every optimizer, at its tuned learning rate, reaches the minimum of a well-conditioned bowl."""
    surface = get_surface("quadratic", {"condition": 10.0})
    result = run_race(surface, [config(name, "quadratic")], np.array([surface.start]), 3000, tolerance=1e-3)
    if name in HOVERS:
        assert result.status[0, 0] != RunStatus.DIVERGED
        assert np.nanmin(result.distances[0, 0]) < 0.2, HOVERS[name]
        return
    assert result.status[0, 0] == RunStatus.CONVERGED, (
        f"{name}: {result.status[0, 0]}, closest {np.nanmin(result.distances[0, 0]):.3g}"
    )
