"""Every view shows the same race: after a surface switch the old runs leave the view, the leaderboard, the
charts and the legend in one turn, "computing…" stands in while the new race runs, and the new result reaches
every read-out in one turn. While a learned surface computes, the view says which stage runs, with time left and
Cancel, instead of a flat stand-in surface."""

from __future__ import annotations

import dataclasses
import time

import pytest

from optviz.app.readouts import metrics
from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.scene import LEARNED, OptimizerEntry, Scene


def _runs_everywhere(window) -> dict[str, int]:
    """How many optimizers each read-out draws right now."""
    view = window.view_panel.scene_view
    m_count = 1 if window.model.result is None else window.model.result.positions.shape[1]
    return {
        "view": view.trail_count // m_count,
        "leaderboard": window.leaderboard.rowCount(),
        "charts": max(len(plot.runs) for plot in window.charts.plots),
    }


def test_a_surface_switch_drops_the_old_runs_from_every_view_at_once(window, qtbot, monkeypatch):
    from optviz.app.race import scheduler

    model = window.model
    assert all(n == len(model.optimizers) for n in _runs_everywhere(window).values())
    old_losses = [s.loss for s in window.leaderboard.standings]
    monkeypatch.setattr(scheduler, "RENDEZVOUS_S", 0.0)  # the new race cannot land within the call

    model.set_surface_kind("himmelblau")  # no event processed in between: the same frame
    assert model.result is None
    assert _runs_everywhere(window) == {"view": 0, "leaderboard": 0, "charts": 0}

    assert window.scheduler.wait(60)  # the result lands: every read-out shows it in that same turn
    k_count = len(model.optimizers)
    assert _runs_everywhere(window) == {"view": k_count, "leaderboard": k_count, "charts": k_count}
    expected = metrics.ranking(model.result, int(model.cursor), model.shown_runs())
    assert [s.loss for s in window.leaderboard.standings] == [s.loss for s in expected]
    assert [s.loss for s in window.leaderboard.standings] != old_losses  # Himmelblau's, not Rosenbrock's


def test_a_race_that_lands_at_once_reaches_every_view_in_the_same_turn(window, qtbot):
    model = window.model
    model.set_surface_kind("himmelblau")
    assert model.result is not None  # the scheduler's rendezvous: a fast race lands inside the call
    k_count = len(model.optimizers)
    assert _runs_everywhere(window) == {"view": k_count, "leaderboard": k_count, "charts": k_count}
    expected = metrics.ranking(model.result, int(model.cursor), model.shown_runs())
    assert [s.loss for s in window.leaderboard.standings] == [s.loss for s in expected]


def test_a_parameter_of_the_same_surface_keeps_the_paths_while_they_re_race(window, qtbot):
    model = window.model
    model.set_surface_param("b", 50.0)
    assert model.result is not None  # a dragged surface slider redraws the paths in place, not from nothing
    assert window.view_panel.scene_view.trail_count > 0
    assert window.settle(60)


def test_a_slow_analytic_race_shows_computing_in_the_view(window, qtbot, monkeypatch):
    from optviz.app.race import scheduler

    overlay = window.view_panel.computing
    model = window.model
    session = window.scheduler.session
    compute = session.compute

    def slow(*args, **kwargs):
        time.sleep(0.8)  # a busy machine
        return compute(*args, **kwargs)

    monkeypatch.setattr(scheduler, "RENDEZVOUS_S", 0.0)
    monkeypatch.setattr(session, "compute", slow)
    model.set_surface_kind("rastrigin")
    assert not overlay.isVisible()  # a grace period first: a race that lands within it flashes nothing
    qtbot.waitUntil(overlay.isVisible, timeout=2000)
    assert overlay.title.text() == "Computing the race…"
    assert not overlay.cancel.isVisible()  # an analytic race is never long enough to need one
    assert window.settle(60)
    assert not overlay.isVisible() and model.result is not None


SMALL = LearnedRecipe(model="mlp", dataset="moons", plane="pca", resolution=7)


@pytest.fixture
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path / "cache"))


def test_learned_surface_progress_is_shown_in_the_view_with_cancel(make_window, qtbot, monkeypatch, _cache_dir):
    scene = Scene(
        surface=LEARNED,
        learned=SMALL,
        optimizers=[OptimizerEntry("adam", {"lr": 0.02}), OptimizerEntry("sgd", {"lr": 0.3})],
        steps=12,
    )
    window = make_window()
    model, view = window.model, window.view_panel
    overlay = view.computing
    seen: list[tuple[str, str, bool]] = []

    def record(text: str, done: int, total: int) -> None:
        seen.append((overlay.stage.text(), overlay.left.text(), view.scene_view.surface_item.visible()))

    model.learnedProgress.connect(record)
    model.replace_scene(scene)
    assert overlay.isVisible() or model.busy
    assert window.settle(240)
    training = [s for s in seen if s[0].startswith("1 of 2")]
    grid = [s for s in seen if s[0].startswith("2 of 2")]
    assert training and grid, seen
    assert "Adam" in training[0][0] and "(1 of 2)" in training[0][0]  # the model's names, counted
    assert "7 × 7 grid" in grid[-1][0]
    assert not any(visible for _, _, visible in seen)  # no flat stand-in surface while it computes
    assert not overlay.isVisible() and view.scene_view.surface_item.visible()

    # Cancel from the view: a new recipe drops the drawn surface; cancelled, the box says nothing was computed
    # and offers to compute it.
    # The job is held at its first report until the click lands: on a loaded machine the small grid could
    # otherwise finish before the click, and there would be nothing left to cancel.
    session, compute = window.scheduler.session, window.scheduler.session.compute

    def held_until_cancelled(scene, cancelled, progress):
        def report_then_hold(*report):
            progress(*report)
            deadline = time.monotonic() + 30
            while not cancelled() and time.monotonic() < deadline:
                time.sleep(0.005)

        return compute(scene, cancelled, report_then_hold)

    monkeypatch.setattr(session, "compute", held_until_cancelled)
    model.set_learned(dataclasses.replace(SMALL, seed=1))
    assert model.result is None
    qtbot.waitUntil(lambda: overlay.isVisible() and overlay.cancel.isVisible(), timeout=5000)
    overlay.cancel.click()
    assert window.settle(120)
    assert model.result is None
    assert overlay.isVisible() and overlay.again.isVisible() and not overlay.cancel.isVisible()
    assert "not computed" in overlay.title.text()
    monkeypatch.setattr(session, "compute", compute)
    overlay.again.click()
    assert window.settle(240)
    assert model.result is not None and not overlay.isVisible()
