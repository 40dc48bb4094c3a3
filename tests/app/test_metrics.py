"""Leaderboard and chart numbers, from race arrays (no Qt)."""

from __future__ import annotations

import math

import numpy as np

from optviz.app.readouts import metrics
from optviz.core.race import RunConfig, run_race
from optviz.core.surfaces import get_surface


def _race(lrs, starts=((-1.5, 2.0),), steps=300):
    surface = get_surface("rosenbrock")
    configs = [
        RunConfig("sgd", {"lr": lr, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False})
        for lr in lrs
    ]
    return run_race(surface, configs, np.array(starts), steps)


def test_ranking_puts_diverged_last_with_the_reason():
    result = _race([1e-3, 0.05, 3e-4])
    assert result.status[1, 0] == "diverged"
    rows = metrics.ranking(result, result.steps, [0, 1, 2])
    assert [r.k for r in rows][-1] == 1
    assert rows[-1].diverged and rows[-1].detail.startswith(f"diverged at step {result.stopped_at[1, 0]}")
    assert rows[0].loss <= rows[1].loss
    # Before the divergence step the run is still shown as running.
    early = metrics.standing(result, 1, 0)
    assert early.status == "running" and math.isfinite(early.loss)


def test_several_starts_use_the_median_and_count_runs():
    result = _race([1e-3], starts=((-1.5, 2.0), (0.5, 0.5), (1.2, 1.2)), steps=2000)
    row = metrics.standing(result, 0, result.steps)
    assert row.loss == np.nanmedian(result.losses[0, :, -1])
    assert "of 3" in row.detail or row.detail == "running"
    assert metrics.series(result, 0, "losses").shape == (2001,)


def test_formatting():
    assert metrics.format_value(float("nan")) == "—"
    assert metrics.format_value(0.0123) == "0.0123"
    assert metrics.format_value(1.5e-7) == "1.50e-07"
    assert metrics.format_bytes(16) == "16 B"
    assert metrics.format_bytes(56e9) == "56 GB"


def test_distance_from_start_grows_from_zero_and_is_blank_after_divergence():
    result = _race([1e-3, 0.05], starts=((-1.5, 2.0), (1.0, -0.5)))
    for k in range(2):
        moved = metrics.distance_from_start(result, k)
        assert moved.shape == result.losses[k].shape
        assert np.all(moved[:, 0] == 0.0)
        assert np.array_equal(np.isnan(moved), np.isnan(result.grad_norms[k]))
        step = 50
        expected = np.hypot(*(result.positions[k, :, step] - result.starts).T)
        expected[np.isnan(result.grad_norms[k, :, step])] = np.nan
        np.testing.assert_allclose(moved[:, step], expected, equal_nan=True)
    assert np.isnan(metrics.distance_from_start(result, 1)[0, -1])  # lr 0.05 diverges
    assert np.isfinite(metrics.distance_from_start(result, 0)[:, 50]).all()
    median = metrics.series(result, 0, metrics.FROM_START)
    assert median.shape == (result.steps + 1,) and median[0] == 0.0
    assert metrics.title(metrics.FROM_START) == "Distance from start"
