"""Learned races: real training from one start, one shared plane, honest losses, divergence and cancelling."""

import numpy as np
import pytest

from optviz.core.learn import cache
from optviz.core.learn.learned_race import LearnedRaceResult
from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.learn.session import learned_race_steps, run_learned_race
from optviz.core.race.result import RaceResult
from optviz.core.scene import resolve_configs

STEPS = 15


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))


def _race(plane="three-point", entries=(("sgd", {"lr": 0.3}), ("adam", {"lr": 0.02})), steps=STEPS):
    recipe = LearnedRecipe(model="mlp", dataset="moons", plane=plane, resolution=7)
    return run_learned_race(recipe, resolve_configs(entries), steps)


def test_a_learned_race_is_a_race_result_with_honesty_readouts():
    result = _race()
    assert isinstance(result, LearnedRaceResult) and isinstance(result, RaceResult)
    assert result.positions.shape == (2, 1, STEPS + 1, 2) and result.shape == (2, 1, STEPS)
    assert result.plane_losses.shape == result.losses.shape == (2, 1, STEPS + 1)
    # One initialisation: every path starts at the same weights, so at the same point with the same loss.
    np.testing.assert_array_equal(result.positions[0, 0, 0], result.positions[1, 0, 0])
    assert result.losses[0, 0, 0] == result.losses[1, 0, 0]
    # The three-point plane contains the start and both end points: there the plane's loss is the true loss.
    for k in range(2):
        for t in (0, STEPS):
            assert result.plane_losses[k, 0, t] == pytest.approx(result.losses[k, 0, t], abs=1e-5)
            assert result.off_plane[k, 0, t] == pytest.approx(0.0, abs=1e-9)
    assert ((result.explained >= 0) & (result.explained <= 1)).all()
    # The surface is the grid, drawn over a domain that holds the paths.
    xs, ys, z = result.surface.grid(256)
    assert z.shape == (7, 7) and np.isfinite(z).all()
    (x0, x1), (y0, y1) = result.surface.domain
    p = result.positions[:, 0]
    assert (p[..., 0] >= x0).all() and (p[..., 0] <= x1).all() and (p[..., 1] >= y0).all() and (p[..., 1] <= y1).all()
    np.testing.assert_allclose(result.surface.value_np(np.stack(np.meshgrid(xs, ys), -1)), z)


def test_same_settings_give_the_same_path():
    result = _race(plane="pca", entries=(("adam", {"lr": 0.01}), ("adam", {"lr": 0.01}), ("sgd", {"lr": 0.1})))
    np.testing.assert_array_equal(result.positions[0], result.positions[1])
    np.testing.assert_array_equal(result.losses[0], result.losses[1])
    assert result.plane.explained_variance[0] > 0


def test_divergence_is_shown_not_raised():
    result = _race(plane="pca", entries=(("adam", {"lr": 0.01}), ("sgd", {"lr": 10.0})))
    assert result.status[0, 0] == "running"
    assert result.status[1, 0] == "diverged" and result.reasons[1, 0]
    s = int(result.stopped_at[1, 0])
    assert 1 <= s <= STEPS and np.isnan(result.losses[1, 0, s:]).all()
    assert np.isfinite(result.positions).all()  # frozen at the last good point, as analytic races do
    assert result.poorly_explained(threshold=1.01) == [0, 1]


def test_random_plane_is_centred_on_the_common_start():
    result = _race(plane="random", entries=(("adam", {"lr": 0.01}),))
    np.testing.assert_allclose(result.positions[0, 0, 0], [0.0, 0.0], atol=1e-9)
    assert result.surface.domain == ((-1.0, 1.0), (-1.0, 1.0))


def test_cancelling_stops_the_training_promptly():
    recipe = LearnedRecipe(model="mlp", dataset="moons", plane="pca", resolution=7)
    configs = resolve_configs([("adam", {}), ("sgd", {})])
    polls = {"n": 0}

    def cancelled():
        polls["n"] += 1
        return polls["n"] > 5

    reports = list(learned_race_steps(recipe, configs, 1000, cancelled=cancelled))
    assert all(r.result is None for r in reports)
    assert polls["n"] == 6, "the run checks between steps and stops at the first check that says so"


def test_a_learned_scene_runs_its_learned_race_and_draws_on_its_grid():
    from optviz.core.errors import OptvizError
    from optviz.core.scene import LEARNED, OptimizerEntry, Scene

    recipe = LearnedRecipe(model="mlp", dataset="moons", plane="three-point", resolution=7)
    scene = Scene(
        surface=LEARNED, learned=recipe, optimizers=[OptimizerEntry("sgd", {"lr": 0.3})], steps=STEPS
    ).validate()
    with pytest.raises(OptvizError, match="run its race first"):
        scene.build_surface()
    result = scene.run()
    assert isinstance(result, LearnedRaceResult) and result.positions.shape == (1, 1, STEPS + 1, 2)
    assert scene.race_surface(result) is result.surface
    # The same race as the learned-race API's, bit for bit.
    np.testing.assert_array_equal(result.positions, _race(entries=(("sgd", {"lr": 0.3}),)).positions)


def test_a_kept_session_retrains_only_what_changed_on_the_kept_plane_until_a_refit():
    from optviz.core.learn.session import LearnedSession

    recipe = LearnedRecipe(model="mlp", dataset="moons", plane="pca", resolution=7)
    session = LearnedSession()

    def race(entries):
        reports = list(session.race_steps(recipe, resolve_configs(entries), STEPS))
        return reports, reports[-1]

    reports, first = race([("sgd", {"lr": 0.3}), ("adam", {"lr": 0.02})])
    assert [r.stage for r in reports].count("train") == 2 and first.recomputed == (0, 1)
    reports, second = race([("sgd", {"lr": 0.3}), ("adam", {"lr": 0.05})])
    assert [r.stage for r in reports] == ["train", "done"]  # one training run, no new grid
    assert second.recomputed == (1,) and second.result.surface is first.result.surface
    assert second.keys[0] == first.keys[0] and second.keys[1] != first.keys[1]
    # The untouched path is bit for bit the one from the first race.
    np.testing.assert_array_equal(second.result.positions[0], first.result.positions[0])
    session.request_refit()
    reports, third = race([("sgd", {"lr": 0.3}), ("adam", {"lr": 0.05})])
    assert "grid" in [r.stage for r in reports] and "train" not in [r.stage for r in reports]
    assert third.recomputed == (0, 1) and third.result.surface is not second.result.surface
    assert session.frame_number == 2
