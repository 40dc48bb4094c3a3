"""The Sensitivity panel: a live map of the selected optimizer, clicks on it set both sliders, the crosshair
follows the sliders, small multiples, Tune all and its Undo, and nothing stale or half-drawn."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from optviz.core.scene import OptimizerEntry, Scene


@pytest.fixture
def panel(window, qtbot):
    window.show_sensitivity()
    panel = window.sensitivity
    panel.pages.setCurrentIndex(0)
    qtbot.waitExposed(panel)
    assert window.settle(120)
    yield panel
    panel.pages.setCurrentIndex(0)
    window.docks["charts"].raise_()


def test_map_of_the_selected_optimizer(window, panel):
    window.model.select(2)  # Adam in the default race
    assert window.settle(120)
    sweep = panel.sweep
    assert sweep is not None and sweep.optimizer == "adam"
    assert (sweep.x.name, sweep.y.name) == ("lr", "beta1")  # lr x beta1 by default
    assert sweep.cells.final_loss.shape == (64, 64, 1)  # refined after the coarse 16 x 16
    assert sweep.steps == window.model.steps
    # The map shows what a single race at a cell's values gives (its key equals the scene's).
    assert panel.current_request().key == panel._request.key
    assert "reach the minimum" in panel.info.text()


def test_a_setting_mapped_before_is_drawn_again_without_a_sweep(window, panel):
    model = window.model
    model.select(2)
    assert window.settle(120)
    first = panel.sweep
    model.set_hyperparam(2, "beta2", 0.9)  # not on the map's axes: a new map
    assert panel.worker.busy
    assert window.settle(120)
    assert panel.sweep is not first and panel.sweep.cells.final_loss.shape == (64, 64, 1)
    model.set_hyperparam(2, "beta2", first.hyperparams["beta2"])  # back: the kept map, at once
    assert not panel.worker.busy
    assert panel.sweep is first
    assert "reach the minimum" in panel.info.text() and "refining" not in panel.info.text()


def test_the_map_sees_the_race_s_spike_and_clipping(window, panel):
    """A map cell is the race at its values: a gradient spike or clipping in the race is in the map too."""
    from optviz.core.race.clip import Clip

    model = window.model
    model.select(1)  # SGD + momentum: thrown out by a spike at step 100 at its default settings
    assert window.settle(120)
    plain = panel.sweep.cells.final_loss
    model.set_perturbation("spike", {"factor": 1e3, "at": 100})
    assert window.settle(120)
    spiked = panel.sweep.cells.final_loss
    assert np.isnan(spiked).sum() > np.isnan(plain).sum()  # more settings diverge after the spike
    model.set_clip(1, Clip("norm", 1.0))
    assert window.settle(120)
    assert np.isnan(panel.sweep.cells.final_loss).sum() < np.isnan(spiked).sum()  # clipping saves some
    model.set_perturbation(None)
    model.set_clip(1, None)
    assert window.settle(120)
    np.testing.assert_array_equal(panel.sweep.cells.final_loss, plain)


def test_click_on_the_map_sets_both_sliders_and_the_path(window, panel, qtbot):
    window.model.select(2)
    assert window.settle(120)
    k = window.model.selected
    before = window.model.result.positions[k].copy()
    view = panel.map
    x_axis = view.x
    target = (float(np.sqrt(x_axis.low * x_axis.high)), 0.5)  # mid lr on its log axis, beta1 0.5
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view.view_point(*target))
    assert window.settle(120)
    hp = window.model.hyperparams(k)
    assert hp["lr"] == pytest.approx(target[0], rel=0.05)
    assert hp["beta1"] == pytest.approx(target[1], abs=0.02)
    form = window.race_panel.editor.form
    beta1 = form.slider("beta1")
    assert beta1.value() == pytest.approx(
        beta1.minimum() + 0.5 * (beta1.maximum() - beta1.minimum()), abs=0.03 * beta1.maximum()
    )
    assert float(form.rows["lr"].edit.text()) == pytest.approx(hp["lr"], rel=1e-3)
    assert not np.allclose(window.model.result.positions[k], before)  # the path followed
    assert view.crosshair() == pytest.approx((hp["lr"], hp["beta1"]), rel=1e-6)


def test_crosshair_follows_a_slider_without_recomputing(window, panel):
    window.model.select(2)
    assert window.settle(120)
    sweep = panel.sweep
    window.model.set_hyperparam(2, "beta1", 0.7)
    assert window.settle(120)
    assert panel.map.crosshair()[1] == pytest.approx(0.7)
    assert panel.sweep is sweep  # moving a swept value keeps the map


def test_a_change_of_surface_replaces_the_map_and_never_draws_a_stale_one(window, panel):
    window.model.select(2)
    window.model.set_surface_kind("himmelblau")  # requested while the first map may still compute
    assert window.settle(120)
    assert panel.sweep is not None
    assert panel._request.key[0] == "himmelblau"
    assert panel.current_request().key == panel._request.key


def test_optimizer_without_a_second_real_hyperparameter_says_so(window, panel):
    from optviz.core.optimizers import get_optimizer

    names = [n for n in ("lbfgs",) if get_optimizer(n).on_surfaces]
    window.model.replace_scene(Scene(optimizers=[OptimizerEntry(n) for n in names]))
    assert window.settle(120)
    assert panel.sweep is None and panel.info.text()


def test_small_multiples_share_one_colour_scale(window, panel):
    panel.pages.setCurrentIndex(1)
    assert window.settle(120)
    shown = [k for k in window.model.shown_runs()]
    assert len(panel.small_views) == len(shown)
    assert all("reach the minimum" in label.text() for label, _ in panel.small_views)
    assert "one log colour scale" in panel.info.text()


def test_tune_all_sets_each_best_and_undo_restores(window, panel):
    model = window.model
    before = {k: dict(e.hyperparams) for k, e in enumerate(model.optimizers)}
    window.tune_all()
    assert window.settle(240)
    assert panel.tune_results
    for k, result in panel.tune_results:
        assert model.hyperparams(k)["lr"] == pytest.approx(result.best["lr"])
        assert result.best_objective == np.min(result.objective)
        assert model.tuned(k)
    names = [window.leaderboard.item(row, 0).text() for row in range(window.leaderboard.rowCount())]
    assert any(name.endswith("(tuned)") for name in names)
    panel.undo_button.click()
    assert window.settle(120)
    assert {k: dict(e.hyperparams) for k, e in enumerate(model.optimizers)} == before
    assert not any(model.tuned(k) for k in range(len(model.optimizers)))


def test_tune_all_with_a_second_hyperparameter_sets_both_and_undo_restores(window, panel):
    model = window.model
    before = {k: dict(e.hyperparams) for k, e in enumerate(model.optimizers)}
    panel.tune_second_action.setChecked(True)
    window.tune_all()
    assert window.settle(240)
    seconds = [(k, r) for k, r in panel.tune_results if r.second is not None]
    assert seconds, "no racing optimizer had a second hyperparameter to tune"
    for k, result in seconds:
        assert result.objective.shape == (len(result.second.values), len(result.lr.values))
        assert result.best_objective == np.min(result.objective)
        hp = model.hyperparams(k)
        assert hp["lr"] == pytest.approx(result.best["lr"])
        assert hp[result.second.name] == pytest.approx(result.best[result.second.name])
        assert result.second.name in model.tuned(k)
    assert "of a second hyperparameter" in panel.tune_plot.plotItem.titleLabel.text
    panel.undo_button.click()
    assert window.settle(120)
    assert {k: dict(e.hyperparams) for k, e in enumerate(model.optimizers)} == before


def test_a_hand_on_a_slider_removes_the_tuned_mark(window, panel):
    window.tune_all()
    assert window.settle(240)
    k = panel.tune_results[0][0]
    assert window.model.tuned(k)
    window.model.set_hyperparam(k, "lr", 0.001)
    assert not window.model.tuned(k)


def test_a_map_behind_the_charts_waits_until_its_tab_is_in_front(window, qtbot):
    panel = window.sensitivity
    window.docks["charts"].raise_()
    qtbot.waitUntil(lambda: not panel.active)
    window.model.select(2)
    window.model.set_hyperparam(2, "beta2", 0.95)
    assert window.settle(120)
    assert not panel.worker.busy and (panel.sweep is None or panel.sweep.hyperparams.get("beta2") != 0.95)
    window.show_sensitivity()
    assert panel.active and panel.worker.busy  # in front: its map starts at once
    assert window.settle(120)
    assert panel.sweep.optimizer == "adam" and panel.sweep.hyperparams["beta2"] == 0.95
    window.docks["charts"].raise_()
