"""Hyperparameter controls: a dragged learning-rate slider re-simulates that optimizer's path and no other."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.readouts.leaderboard import STATUS_COLUMN
from tests.app.helpers import drag_slider, handle_rect


def _spy(monkeypatch, obj, name):
    calls = []
    original = getattr(obj, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, spy)
    return calls


def test_dragging_a_learning_rate_slider_changes_only_that_path(window, qtbot, monkeypatch):
    model = window.model
    k = 2  # Adam in the default scene
    model.select(k)
    before = model.result.positions.copy()
    lr_before = model.hyperparams(k)["lr"]
    view = window.view_panel.scene_view
    updated = _spy(monkeypatch, view, "update_trail")
    rebuilt = _spy(monkeypatch, view, "set_race")

    slider = window.race_panel.editor.form.slider("lr")
    drag_slider(qtbot, slider, 60)
    assert window.settle(60)

    assert model.hyperparams(k)["lr"] > lr_before
    after = model.result.positions
    assert not np.allclose(after[k], before[k])
    for other in range(len(model.optimizers)):
        if other != k:
            np.testing.assert_array_equal(after[other], before[other])
    assert updated and {args[0] for args in updated} == {k}
    assert not rebuilt
    edit = window.race_panel.editor.form.rows["lr"].edit
    assert float(edit.text()) == model.hyperparams(k)["lr"]


def test_typed_value_and_reset(window, qtbot):
    model = window.model
    model.select(3)
    form = window.race_panel.editor.form
    edit = form.rows["lr"].edit
    edit.setText("0.005")
    edit.editingFinished.emit()
    assert window.settle(60)
    assert model.hyperparams(3)["lr"] == 0.005
    assert form.rows["lr"].reset.isEnabled()

    edit.setText("banana")
    edit.editingFinished.emit()  # as focus leaving the box does: the value in force comes back
    assert edit.text() == "0.005" and edit.property("invalid") is False
    assert "not a number" in window.statusBar().currentMessage()
    assert "not a number" in form.message.text()
    assert model.hyperparams(3)["lr"] == 0.005

    window.race_panel.editor.reset_button.click()
    assert window.settle(60)
    assert model.optimizers[3].hyperparams == {}
    assert not form.rows["lr"].reset.isEnabled()
    assert edit.property("invalid") is False


def test_checkbox_and_library_rejection_show_inline(window, qtbot):
    model = window.model
    model.select(0)  # plain SGD: nesterov without momentum is refused by torch
    form = window.race_panel.editor.form
    form.rows["nesterov"].check.click()
    assert window.settle(60)
    assert model.optimizers[0].hyperparams["nesterov"] is True
    assert model.result.status[0, 0] == "diverged"
    assert "momentum" in model.result.reasons[0, 0].lower()
    model.set_cursor(model.steps)
    window.leaderboard.refresh()
    row = window.leaderboard.row_of(0)
    assert window.leaderboard.item(row, STATUS_COLUMN).text().startswith("diverged")


def test_a_diverged_optimizer_is_shown_as_diverged(window, qtbot):
    model = window.model
    model.set_hyperparam(0, "lr", 0.05)  # SGD on Rosenbrock: overshoots and blows up
    assert window.settle(60)
    assert model.result.status[0, 0] == "diverged"
    model.set_cursor(model.steps)
    window.leaderboard.refresh()
    row = window.leaderboard.row_of(0)
    assert row == len(model.optimizers) - 1  # diverged runs rank last
    assert window.leaderboard.item(row, STATUS_COLUMN).text().startswith("diverged")
    assert "diverged" in window.view_panel.legend.text()


def test_a_log_slider_is_fine_under_the_hand_and_coarse_with_shift(window, qtbot):
    """Dragging the handle of a log slider moves the value by ~1 % per pixel (10 % with Shift), wherever the
    handle sits; a wheel notch is one fine step, Shift+wheel a coarse one."""
    model = window.model
    model.select(2)
    slider = window.race_panel.editor.form.slider("lr")
    lr = lambda: model.hyperparams(2)["lr"]  # noqa: E731
    before = lr()
    drag_slider(qtbot, slider, 5)
    assert 1.0 < lr() / before <= 1.02**5
    before = lr()
    start = handle_rect(slider).center()
    qtbot.mousePress(slider, QtCore.Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(slider, pos=start + QtCore.QPoint(-3, 0))
    shift = QtCore.Qt.KeyboardModifier.ShiftModifier
    move = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPointF(start + QtCore.QPoint(-3, 0)),
        QtCore.QPointF(slider.mapToGlobal(start + QtCore.QPoint(-3, 0))),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.LeftButton,
        shift,
    )
    QtWidgets.QApplication.sendEvent(slider, move)
    qtbot.mouseRelease(slider, QtCore.Qt.MouseButton.LeftButton, pos=start + QtCore.QPoint(-3, 0))
    assert 1.1**-3 * 0.98 <= lr() / before < 1.1**-2  # three coarse steps down
    for modifiers, ratio in ((QtCore.Qt.KeyboardModifier.NoModifier, 1.01), (shift, 1.1)):
        before = lr()
        wheel = QtGui.QWheelEvent(
            QtCore.QPointF(start),
            QtCore.QPointF(slider.mapToGlobal(start)),
            QtCore.QPoint(0, 0),
            QtCore.QPoint(0, 120),
            QtCore.Qt.MouseButton.NoButton,
            modifiers,
            QtCore.Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QtWidgets.QApplication.sendEvent(slider, wheel)
        assert lr() / before == pytest.approx(ratio, rel=0.01)


def test_a_refused_value_says_why_under_the_form_and_focus_leaving_restores_the_value(window, qtbot):
    model = window.model
    model.select(2)
    form = window.race_panel.editor.form
    edit = form.rows["lr"].edit
    before = model.hyperparams(2)["lr"]
    with qtbot.waitActive(window):  # focus exists only in the active window
        window.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    edit.setText("1e9")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    assert edit.property("invalid")
    assert form.message.isVisible() and "out of range" in form.message.text()
    assert model.hyperparams(2)["lr"] == before
    window.race_panel.editor.form.rows["momentum" if "momentum" in form.rows else "beta1"].edit.setFocus()
    qtbot.waitUntil(lambda: not edit.hasFocus())
    assert not edit.property("invalid")
    assert float(edit.text()) == before  # back to the value in force
    assert form.message.isVisible()  # the reason stays until the next change
    edit.setFocus()
    edit.setText("0.002")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    assert model.hyperparams(2)["lr"] == 0.002
    assert not form.message.isVisible()
