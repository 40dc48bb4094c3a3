"""The re-simulation session without Qt: only what changed is simulated and scored, stale outcomes are dropped,
bad settings become failed runs, and the assembled race equals one computed from scratch."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.race import run_race
from optviz.core.race.result import RaceResult
from optviz.core.race.session import RaceSession, RunCache, changed_runs, compute_race
from optviz.core.scene import OptimizerEntry, Scene, run_config


def _scene(**overrides) -> Scene:
    scene = Scene(
        surface="rosenbrock",
        optimizers=[OptimizerEntry("adam"), OptimizerEntry("sgd", {"lr": 1e-3}), OptimizerEntry("lion")],
        starts=[(-1.0, 1.5), (0.5, -0.5)],
        steps=40,
    )
    for name, value in overrides.items():
        setattr(scene, name, value)
    return scene


def _assert_same(a: RaceResult, b: RaceResult) -> None:
    for name in RaceResult.PER_RUN:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.configs == b.configs and a.engines == b.engines


def test_outcome_equals_a_race_from_scratch():
    scene = _scene()
    outcome = RaceSession().compute(scene)
    surface = scene.build_surface()
    fresh = run_race(surface, scene.run_configs(), scene.start_points(surface), scene.steps, scene.seed)
    _assert_same(outcome.result, fresh)
    assert outcome.simulated == [0, 1, 2]


def test_only_the_changed_optimizer_is_simulated_and_redrawn():
    session = RaceSession()
    scene = _scene()
    first = session.compute(scene)
    first.revision = 1
    verdict = session.accept(first, 1, displayed_runs=None)
    assert verdict.result is first.result and verdict.changed is None  # nothing shown yet: draw everything

    scene.optimizers[1].hyperparams["lr"] = 2e-3
    second = session.compute(scene)
    assert second.simulated == [1]
    second.revision = 2
    verdict = session.accept(second, 2, displayed_runs=3)
    assert verdict.changed == frozenset({1})
    # The cached runs are bit for bit those of a race from scratch, and the cache is never handed out.
    _assert_same(second.result, RaceSession().compute(scene).result)
    second.result.positions[0] += 1.0
    third = session.compute(scene)
    assert third.simulated == []
    _assert_same(third.result, RaceSession().compute(scene).result)


def test_stale_outcomes_are_dropped_and_do_not_count_as_applied():
    session = RaceSession()
    outcome = session.compute(_scene())
    outcome.revision = 4
    verdict = session.accept(outcome, 5, displayed_runs=None)
    assert verdict.stale and verdict.result is None and not verdict.error
    assert session.applied_revision == -1
    outcome.revision = 5
    assert session.accept(outcome, 5, displayed_runs=None).result is outcome.result
    assert session.applied_revision == 5


def test_a_display_that_dropped_runs_is_redrawn_whole():
    session = RaceSession()
    scene = _scene()
    shown = session.compute(scene)
    shown.revision = 1
    session.accept(shown, 1, displayed_runs=None)
    del scene.optimizers[2]
    fewer = session.compute(scene)
    fewer.revision = 2
    assert session.accept(fewer, 2, displayed_runs=2).changed is None  # another run count
    again = session.compute(scene)
    again.revision = 3
    assert session.accept(again, 3, displayed_runs=2).changed == frozenset()


def test_moving_the_start_redraws_everything():
    shown = compute_race(_scene(), RunCache())
    moved = compute_race(_scene(starts=[(0.0, 0.0)]), RunCache())
    assert changed_runs(shown, moved) is None
    assert changed_runs(shown, compute_race(_scene(), RunCache())) == frozenset()


def test_a_bad_setting_is_a_run_that_diverged_and_the_rest_still_race():
    scene = _scene()
    scene.optimizers[1] = OptimizerEntry("sgd", {"nesterov": True})  # the library wants momentum for nesterov
    outcome = compute_race(scene, RunCache())
    result = outcome.result
    assert list(result.status[1]) == ["diverged", "diverged"]
    assert "nesterov" in str(result.reasons[1, 0]).lower()
    assert set(result.status[0]) <= {"running", "converged"}
    # A value the registry itself refuses has no cache key: it is always reported afresh.
    scene.optimizers[1] = OptimizerEntry("adam", {"lr": -1.0})
    outcome = compute_race(scene, RunCache())
    assert outcome.keys[1] is None and "lr" in str(outcome.result.reasons[1, 0])


def test_an_unknown_surface_is_an_error_not_an_exception():
    outcome = RaceSession().compute(_scene(surface="nope"))
    assert outcome.result is None and "nope" in outcome.error
    outcome.revision = 1
    verdict = RaceSession().accept(outcome, 1, displayed_runs=None)
    assert verdict.error == outcome.error and verdict.result is None


def test_cancelling_returns_nothing():
    assert compute_race(_scene(), RunCache(), cancelled=lambda: True) is None


def test_run_cache_is_a_bounded_lru():
    cache = RunCache(limit=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_select_and_concat_are_inverse():
    result = RaceSession().compute(_scene()).result
    parts = [result.select([k]) for k in range(3)]
    _assert_same(RaceResult.concat(parts), result)
    picked = result.select([2, 0])
    assert [c.optimizer for c in picked.configs] == ["lion", "adam"]
    np.testing.assert_array_equal(picked.positions[0], result.positions[2])
    with pytest.raises(ValueError):
        RaceResult.concat([])


def test_hyperparameters_are_resolved_in_one_place():
    scene = _scene()
    entry = scene.optimizers[0]
    # The per-surface learning rate, then the scene's own values over it.
    assert scene.run_config(0) == run_config(entry, "rosenbrock")
    entry.hyperparams["lr"] = 0.123
    assert scene.run_config(0).hyperparams["lr"] == 0.123


def test_a_schedule_is_part_of_a_runs_key():
    """Two runs with the same hyperparameters, one scheduled, are two runs; changing the schedule re-simulates
    that optimizer alone."""
    from optviz.core.race.lr_schedule import LrSchedule

    session = RaceSession()
    scene = _scene(optimizers=[OptimizerEntry("adam"), OptimizerEntry("adam", schedule=LrSchedule("one-cycle"))])
    first = session.compute(scene)
    assert not np.array_equal(first.result.positions[0], first.result.positions[1])
    scene.optimizers[1].schedule = LrSchedule("step")
    second = session.compute(scene)
    assert second.simulated == [1]
    _assert_same(second.result, RaceSession().compute(scene).result)
