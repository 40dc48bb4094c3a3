"""Find lr: the shared window marks both suggestions and Apply hands over the chosen one; in the race panel the
exact lr sweep runs on a worker thread and Apply sets the lr through the model (one undo step); in the Training
panel the range test runs on the panel's set-up and Apply sets that row's lr slider; Cancel leaves both usable."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore

from optviz.app.training.training_panel import TrainingPanel
from optviz.app.widgets.lr_finder import LrCurve, LrFinderDialog
from optviz.app.widgets.param_controls import tidy
from optviz.core.optimizers import get_optimizer
from optviz.core.sweep.lr_sweep import suggest

WAIT_S = 120


def _curve() -> LrCurve:
    lrs = np.geomspace(1e-5, 1.0, 40)
    losses = 1.0 / (1.0 + np.exp(3 * (np.log10(lrs) + 2.5))) + np.where(lrs > 0.1, (lrs * 10) ** 2, 0.0)
    return LrCurve(list(lrs), list(losses), suggest(lrs, losses), (1e-5, 1.0), "loss", current_lr=1e-3)


def test_the_window_marks_both_suggestions_and_applies_the_chosen_one(qtbot):
    dialog = LrFinderDialog()
    qtbot.addWidget(dialog)
    applied: list[float] = []
    dialog.on_apply = lambda lr: applied.append(lr) or ""
    dialog.begin("Find lr: test", "running")
    assert dialog.progress.isVisibleTo(dialog) and dialog.cancel_button.isVisibleTo(dialog)
    assert not dialog.apply_button.isEnabled()
    curve = _curve()
    dialog.show_curve(curve)
    s = curve.suggestions
    assert s.steepest_lr is not None and s.valley_lr is not None
    for key, lr in (("steepest", s.steepest_lr), ("valley", s.valley_lr)):
        line = dialog.marks[key]
        assert line.isVisibleTo(dialog.plot.getPlotItem())
        assert line.value() == pytest.approx(math.log10(lr))  # a log x axis: the mark sits at log10(lr)
    assert not dialog.progress.isVisibleTo(dialog)
    assert dialog.steepest.isChecked() and dialog.chosen_lr() == s.steepest_lr  # steepest by default
    dialog.valley.click()
    assert dialog.apply() and applied == [s.valley_lr]


def test_an_apply_refused_says_why_and_keeps_the_window(qtbot):
    dialog = LrFinderDialog()
    qtbot.addWidget(dialog)
    dialog.on_apply = lambda lr: "lr is out of range"
    dialog.show()
    dialog.show_curve(_curve())
    assert not dialog.apply()
    assert dialog.isVisible() and dialog.note.text() == "lr is out of range"


def test_race_find_lr_sweeps_and_apply_is_one_undo_step(window, qtbot):
    model, panel = window.model, window.race_panel
    k = model.selected
    before = model.hyperparams(k)["lr"]
    qtbot.mouseClick(panel.editor.find_lr_button, QtCore.Qt.MouseButton.LeftButton)
    finder = panel.lr_finder
    assert finder.job.wait(WAIT_S)
    dialog = finder.dialog
    assert dialog.isVisible() and dialog.curve is not None
    s = dialog.curve.suggestions
    assert s.steepest_lr is not None and s.valley_lr is not None
    assert all(dialog.marks[key].isVisible() for key in ("steepest", "valley"))
    assert len(dialog.smooth_line.getData()[0]) == len(dialog.curve.lrs)
    expected = tidy(get_optimizer(model.optimizers[k].name).schema.get("lr"), s.steepest_lr)
    qtbot.mouseClick(dialog.apply_button, QtCore.Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert model.hyperparams(k)["lr"] == expected != before
    assert float(panel.editor.form.rows["lr"].edit.text()) == pytest.approx(expected, rel=1e-3)
    assert window.undo_action.text().replace("&", "").startswith("Undo Find lr")
    window.undo_action.trigger()
    assert model.hyperparams(k)["lr"] == before


def test_race_find_lr_cancel_leaves_the_panel_usable(window, qtbot):
    finder = window.race_panel.lr_finder
    finder.find(window.model.selected)
    finder.dialog.cancel_button.click()
    assert not finder.job.running and "Cancelled" in finder.dialog.note.text()
    assert finder.dialog.curve is None
    finder.find(window.model.selected)  # a second search runs to the end
    assert finder.job.wait(WAIT_S) and finder.dialog.curve is not None
    finder.dialog.close()


@pytest.fixture
def panel(qtbot):
    widget = TrainingPanel()
    widget.resize(1300, 700)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.setup.model.setCurrentText("mlp")
    widget.setup.dataset.setCurrentText("xor")
    widget.setup.batch.setValue(32)
    widget.lr_finder.steps = 30  # a tiny range test
    yield widget
    widget.shutdown()


def test_training_find_lr_runs_on_the_set_up_and_apply_sets_that_rows_slider(panel, qtbot):
    optimizers = panel.optimizers
    optimizers.list.setCurrentRow(1)  # the second row: Apply must reach this one, not the first
    name = optimizers.entries[1].name
    qtbot.mouseClick(optimizers.find_lr_button, QtCore.Qt.MouseButton.LeftButton)
    finder = panel.lr_finder
    assert finder.job.wait(WAIT_S)
    dialog = finder.dialog
    assert dialog.curve is not None, dialog.note.text()
    assert "xor" in dialog.heading.text() and get_optimizer(name).title in dialog.heading.text()
    assert 2 <= len(dialog.curve.lrs) <= 30
    lr = dialog.chosen_lr()
    assert lr is not None
    first_before = dict(optimizers.entries[0].hp)
    qtbot.mouseClick(dialog.apply_button, QtCore.Qt.MouseButton.LeftButton)
    expected = tidy(get_optimizer(name).schema.get("lr"), lr)
    assert optimizers.entries[1].hp["lr"] == expected
    assert optimizers.entries[0].hp == first_before
    assert float(optimizers.form.rows["lr"].edit.text()) == pytest.approx(expected, rel=1e-3)


def test_training_find_lr_cancel_leaves_the_panel_usable(panel, qtbot):
    finder = panel.lr_finder
    finder.steps = 2000  # long enough to still be running when Cancel is pressed
    finder.find(0)
    finder.dialog.cancel_button.click()
    assert not finder.job.running and "Cancelled" in finder.dialog.note.text()
    assert panel.run_button.isEnabled() and panel.optimizers.find_lr_button.isEnabled()
    finder.steps = 20
    assert finder.find(0) and finder.job.wait(WAIT_S) and finder.dialog.curve is not None
