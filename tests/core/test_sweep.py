"""Sweeps: every cell equals the race it stands for, chunking changes nothing, tuning picks the best grid
point, axes refuse bad input with one line."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.race import RunConfig, run_race
from optviz.core.race.clip import Clip
from optviz.core.race.lr_schedule import LrSchedule
from optviz.core.race.perturb import Perturbation
from optviz.core.surfaces import get_surface
from optviz.core.sweep import (
    CellSummaries,
    RunConditions,
    SweepAxis,
    default_axis,
    parse_axis,
    progressive,
    sweep_hyperparams,
    sweep_starts,
    tune,
)
from optviz.core.sweep import run as sweep_run
from optviz.core.sweep.run import SweepCancelled
from optviz.core.sweep.tune import random_starts

STEPS = 150


def single(surface, name, hp, starts, steps=STEPS, seed=0):
    """The race a cell stands for, summarised: K=1, (M,) fields."""
    race = run_race(surface, [RunConfig(name, get_optimizer(name).resolve(hp, surface.name))], starts, steps, seed)
    return CellSummaries.from_race(race, surface).reshape(-1)


def assert_same(cells: CellSummaries, index, ref: CellSummaries, r: int):
    assert cells.status[index] == ref.status[r]
    assert cells.stopped_at[index] == ref.stopped_at[r]
    assert cells.minimum[index] == ref.minimum[r]
    assert cells.steps_to_tolerance[index] == ref.steps_to_tolerance[r]
    for field in ("final_loss", "best_loss"):
        got, want = getattr(cells, field)[index], getattr(ref, field)[r]
        assert (np.isnan(got) and np.isnan(want)) or abs(got - want) <= 1e-9 * max(1.0, abs(want)), field
    np.testing.assert_allclose(cells.final[index], ref.final[r], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["adam", "momentum", "novograd"])
def test_map_cells_equal_single_races(name):
    surface = get_surface("rosenbrock")
    spec = get_optimizer(name)
    second = "beta1" if "beta1" in spec.schema.names else "momentum"
    x = SweepAxis("lr", 1e-4, 0.5, 7, log=True)
    y = default_axis(spec.schema, second, 5)
    starts = np.array([surface.start, (0.5, 2.5)])
    sweep = sweep_hyperparams(surface, name, {}, x, y, starts, STEPS)
    assert sweep.cells.final_loss.shape == (5, 7, 2)
    finite = sweep.cells.final_loss[np.isfinite(sweep.cells.final_loss)]
    assert finite.max() > 10 * finite.min(), "the map shows one outcome everywhere: it tests too little"
    for j, i in [(0, 0), (2, 3), (4, 6), (1, 5)]:
        ref = single(surface, name, {"lr": x.values[i], second: y.values[j]}, starts)
        for s in range(2):
            assert_same(sweep.cells, (j, i, s), ref, s)


def test_basin_cells_equal_single_races_and_find_every_minimum():
    surface = get_surface("himmelblau")
    sweep = sweep_starts(surface, "adam", {"lr": 0.1}, 12, 10, 300)
    assert sweep.cells.minimum.shape == (10, 12)
    assert set(np.unique(sweep.cells.minimum)) >= {0, 1, 2, 3}  # Himmelblau's four minima all have a basin
    for j, i in [(0, 0), (5, 7), (9, 11), (3, 2)]:
        start = sweep.starts[j * 12 + i]
        ref = single(surface, "adam", {"lr": 0.1}, start[None], steps=300)
        assert_same(sweep.cells, (j, i), ref, 0)


def test_noisy_cells_see_the_noise_their_race_sees():
    surface = get_surface("rosenbrock", {"noise": 0.5})
    x = SweepAxis("lr", 1e-3, 1e-2, 3, log=True)
    y = SweepAxis("beta1", 0.5, 0.9, 2, log=False)
    starts = np.array([surface.start, (1.5, -0.5), (0.0, 0.0)])
    sweep = sweep_hyperparams(surface, "adam", {}, x, y, starts, STEPS, seed=7)
    ref = single(surface, "adam", {"lr": x.values[2], "beta1": y.values[1]}, starts, seed=7)
    for s in range(3):
        assert_same(sweep.cells, (1, 2, s), ref, s)
    basins = sweep_starts(surface, "adam", {"lr": 0.01}, 3, 2, STEPS, seed=7)
    assert_same(basins.cells, (1, 2), single(surface, "adam", {"lr": 0.01}, basins.starts[5][None], seed=7), 0)


def test_chunks_change_nothing(monkeypatch):
    surface = get_surface("rosenbrock")
    x, y = SweepAxis("lr", 1e-3, 0.1, 6, log=True), SweepAxis("beta2", 0.9, 0.999, 4, log=False)
    whole = sweep_hyperparams(surface, "adam", {}, x, y, np.array([surface.start]), STEPS)
    monkeypatch.setattr(sweep_run, "CHUNK_BYTES", 5 * (STEPS + 1) * sweep_run.BYTES_PER_POINT)  # 5 rows a chunk
    chunked = sweep_hyperparams(surface, "adam", {}, x, y, np.array([surface.start]), STEPS)
    np.testing.assert_array_equal(whole.cells.status, chunked.cells.status)
    # A chunk may hold one value of an axis only (then a plain number, not an array): round-off apart.
    np.testing.assert_allclose(whole.cells.final_loss, chunked.cells.final_loss, rtol=1e-12)


def test_cancel_stops_between_chunks():
    surface = get_surface("rosenbrock")
    with pytest.raises(SweepCancelled):
        sweep_starts(surface, "adam", {}, 8, 8, STEPS, cancelled=lambda: True)


def test_progressive_yields_coarse_then_fine():
    surface = get_surface("himmelblau")
    sizes = [s.cells.status.shape for s in progressive(lambda n: sweep_starts(surface, "sgd", {}, n, n, 50), (4, 8))]
    assert sizes == [(4, 4), (8, 8)]


def test_tune_picks_the_grid_point_with_the_best_objective():
    surface = get_surface("rosenbrock")
    starts = random_starts(surface, 4, seed=3)
    results = tune(surface, [("adam", {}), ("sgd", {})], 6, starts, STEPS, lr_range=(1e-4, 1.0))
    for result in results:
        lrs = result.lr.values
        brute = []
        for lr in lrs:
            cells = single(surface, result.optimizer, {"lr": lr}, starts)
            brute.append(np.median(np.where(np.isnan(cells.final_loss), np.inf, cells.final_loss)))
        np.testing.assert_allclose(result.objective[0], brute, rtol=1e-9)
        assert result.best["lr"] == lrs[int(np.argmin(brute))]
        assert result.best_objective == min(brute)


def test_tune_leaves_out_learning_rates_outside_an_optimizers_range():
    surface = get_surface("rosenbrock")
    low = get_optimizer("adam").schema.get("lr").low
    (result,) = tune(surface, [("adam", {})], 4, np.array([surface.start]), 20, lr_range=(low / 100, 1e-2))
    assert np.isinf(result.objective[0, 0])  # below adam's range: not tried
    assert np.isfinite(result.objective[0, 1:]).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope=1:2:3", "nope"),
        ("amsgrad=0:1:3", "real-valued"),
        ("lr=1:0.1:8", "LO must be less than HI"),
        ("lr=1e-4:1:1", "N must be 2 to 512"),
        ("lr=1e-4:1:9999", "N must be 2 to 512"),
        ("lr=1e-4:1:2.5", "whole number"),
        ("lr=a:1:8", "must be numbers"),
        ("lr=1e-4:1e9:8", "out of range"),
        ("beta1=0:0.9:8:log", "LO > 0"),
        ("beta1=0.1:0.9:8:cubic", "log or linear"),
        ("lr=1:2", "NAME=LO:HI:N"),
        ("=1:2:3", "NAME=LO:HI:N"),
    ],
)
def test_bad_axes_are_one_line(text, message):
    with pytest.raises(OptvizError, match=message) as info:
        parse_axis(text, get_optimizer("adam").schema)
    assert "\n" not in str(info.value)


def test_axes_default_to_the_schemas_range_and_scale():
    schema = get_optimizer("adam").schema
    lr = parse_axis("lr", schema)
    assert (lr.low, lr.high, lr.log) == (schema.get("lr").low, schema.get("lr").high, True)
    beta = parse_axis("beta1=0.5:0.99:5", schema)
    assert not beta.log and beta.values[0] == 0.5 and beta.values[-1] == 0.99
    with pytest.raises(OptvizError, match="different hyperparameters"):
        sweep_hyperparams(get_surface("rosenbrock"), "adam", {}, lr, lr, np.zeros((1, 2)), 10)


def test_shorter_budgets_score_the_same_runs_as_shorter_races():
    surface = get_surface("rosenbrock")
    starts = random_starts(surface, 3, seed=5)
    (long,) = tune(surface, [("adam", {})], 5, starts, STEPS, lr_range=(1e-3, 1.0), budgets=(40, 90))
    assert sorted(long.by_budget) == [40, 90, STEPS]
    for budget in (40, 90):
        (short,) = tune(surface, [("adam", {})], 5, starts, budget, lr_range=(1e-3, 1.0))
        objective, best, best_objective = long.by_budget[budget]
        np.testing.assert_allclose(objective, short.objective, rtol=1e-12)
        assert best == short.best and best_objective == short.best_objective
    np.testing.assert_array_equal(long.by_budget[STEPS][0], long.objective)
    with pytest.raises(OptvizError, match="step budget"):
        tune(surface, [("adam", {})], 5, starts, STEPS, budgets=(STEPS + 1,))


CONDITIONS = {
    "spike": RunConditions(perturbation=Perturbation.make("spike", {"factor": 1e3, "at": 40})),
    "sparse-clipped": RunConditions(perturbation=Perturbation.make("sparse", {"p": 0.5}), clip=Clip("norm", 1.0)),
    "heavy-scheduled": RunConditions(
        perturbation=Perturbation.make("heavy", {"df": 2.0, "scale": 1.0}),
        schedule=LrSchedule("one-cycle"),
    ),
}


def conditioned(surface, name, hp, starts, conditions, steps=STEPS, seed=0):
    """The race a cell stands for under `conditions`, summarised: K=1, (M,) fields."""
    config = RunConfig(
        name,
        get_optimizer(name).resolve(hp, surface.name),
        clip=conditions.clip,
        schedule=conditions.schedule,
    )
    race = run_race(surface, [config], starts, steps, seed, perturbation=conditions.perturbation)
    return CellSummaries.from_race(race, surface).reshape(-1)


@pytest.mark.parametrize("case", list(CONDITIONS))
def test_cells_see_their_race_s_pathology_clipping_and_schedule(case):
    conditions = CONDITIONS[case]
    surface = get_surface("rosenbrock")
    x = SweepAxis("lr", 1e-3, 0.3, 5, log=True)
    y = SweepAxis("beta1", 0.5, 0.9, 2, log=False)
    starts = np.array([surface.start, (0.5, 2.5), (1.5, -0.5)])
    sweep = sweep_hyperparams(surface, "adam", {}, x, y, starts, STEPS, seed=3, conditions=conditions)
    plain = sweep_hyperparams(surface, "adam", {}, x, y, starts, STEPS, seed=3)
    assert not np.allclose(sweep.cells.final, plain.cells.final, equal_nan=True), "the conditions changed nothing"
    for j, i in [(0, 0), (1, 2), (1, 4)]:
        ref = conditioned(surface, "adam", {"lr": x.values[i], "beta1": y.values[j]}, starts, conditions, seed=3)
        for s in range(3):
            assert_same(sweep.cells, (j, i, s), ref, s)
    basins = sweep_starts(surface, "adam", {"lr": 0.05}, 3, 2, STEPS, seed=3, conditions=conditions)
    start = basins.starts[4]
    assert_same(basins.cells, (1, 1), conditioned(surface, "adam", {"lr": 0.05}, start[None], conditions, seed=3), 0)
    (tuned,) = tune(surface, [("adam", {})], 4, starts, STEPS, seed=3, lr_range=(1e-3, 0.3), conditions=[conditions])
    lrs = SweepAxis("lr", 1e-3, 0.3, 4, log=True).values
    finals = [np.median(conditioned(surface, "adam", {"lr": lr}, starts, conditions, seed=3).final_loss) for lr in lrs]
    assert tuned.best["lr"] == pytest.approx(lrs[int(np.nanargmin(finals))])
