"""Adding (through the searchable picker), duplicating, removing, disabling and recolouring optimizers."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from optviz.core.palette import PALETTE


def test_add_from_the_searchable_picker(window, qtbot):
    model = window.model
    panel = window.race_panel
    panel.add_button.click()
    picker = panel.picker
    assert picker.isVisible()
    qtbot.keyClicks(picker.search, "rmsprop")
    assert "rmsprop" in picker.visible_names() and "adam" not in picker.visible_names()
    assert picker.current_name() == "rmsprop"  # the best match, first
    tip = picker.list.currentItem().toolTip(0)
    assert "RMS" in tip and "θ" in tip  # description and update rule on hover
    qtbot.keyClick(picker.search, QtCore.Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert window.settle(60)
    assert [e.name for e in model.optimizers][-1] == "rmsprop"
    assert len(panel.rows) == 5 and model.result.positions.shape[0] == 5
    assert len(set(model.colors())) == 5
    assert model.selected == 4
    assert window.race_panel.editor.form.rows.keys() >= {"lr", "alpha", "eps", "centered"}
    assert window.leaderboard.rowCount() == 5


def test_picker_filters_by_family_and_description(window, qtbot):
    picker = window.race_panel.picker
    window.race_panel.open_picker()
    qtbot.keyClicks(picker.search, "sign")
    names = picker.visible_names()
    assert "lion" in names and "adam" not in names
    picker.hide()


def test_duplicate_races_a_second_copy(window, qtbot):
    model = window.model
    model.set_hyperparam(2, "lr", 0.05)
    assert window.settle(60)
    window.race_panel.rows[2].duplicate_button.click()
    assert window.settle(60)
    assert len(model.optimizers) == 5
    assert model.optimizers[4].name == model.optimizers[2].name
    assert model.optimizers[4].hyperparams == {"lr": 0.05}
    np.testing.assert_array_equal(model.result.positions[4], model.result.positions[2])
    assert model.display_name(2).endswith("#1") and model.display_name(4).endswith("#2")
    # Now race it with other settings: only the copy's path moves.
    before = model.result.positions.copy()
    model.set_hyperparam(4, "lr", 0.01)
    assert window.settle(60)
    np.testing.assert_array_equal(model.result.positions[2], before[2])
    assert not np.allclose(model.result.positions[4], before[4])


def test_remove_keeps_the_other_colours(window, qtbot):
    model = window.model
    colors = model.colors()
    positions = model.result.positions.copy()
    window.race_panel.rows[0].remove_button.click()
    # The trail disappears at once (the result drops the run), before any re-race.
    assert model.result.positions.shape[0] == 3
    assert window.view_panel.scene_view.trail_count == 3
    assert window.settle(60)
    assert model.colors() == colors[1:]
    np.testing.assert_array_equal(model.result.positions, positions[1:])
    assert len(window.race_panel.rows) == 3


def test_the_last_optimizer_cannot_be_removed(window, qtbot):
    model = window.model
    for _ in range(3):
        model.remove_optimizer(0)
    assert window.settle(60)
    assert not window.race_panel.rows[0].remove_button.isEnabled()
    model.remove_optimizer(0)
    assert len(model.optimizers) == 1
    assert "at least one" in window.statusBar().currentMessage()


def test_at_most_a_palette_of_optimizers(window, qtbot):
    model = window.model
    while len(model.optimizers) < len(PALETTE):
        assert model.add_optimizer("adam") >= 0
    assert not window.race_panel.add_button.isEnabled()
    assert "remove one" in window.race_panel.add_button.toolTip()  # a greyed button says why
    assert model.add_optimizer("adam") == -1
    assert window.settle(60)
    assert len(set(model.colors())) == len(PALETTE)


def test_racing_optimizers_never_share_a_colour(window):
    """Entries without a colour of their own (the default race, a scene file) and added ones alike."""
    model = window.model
    model.remove_optimizer(1)
    for name in ("prodigy", "muon", "lamb"):
        assert model.add_optimizer(name) >= 0
    model.remove_optimizer(0)
    assert model.add_optimizer("sgd") >= 0
    colors = model.colors()
    assert len(set(colors)) == len(colors)
    assert [model.color(k) for k in range(len(colors))] == colors


def test_disable_hides_the_run(window, qtbot):
    model = window.model
    view = window.view_panel.scene_view
    window.race_panel.rows[1].enabled_box.click()
    assert not model.optimizers[1].enabled
    assert not view.trails._visible[1]
    assert window.leaderboard.rowCount() == 3
    assert not window.charts.plots[0].runs[1].isVisible()
    assert "SGD + momentum" not in window.view_panel.legend.text()
    window.race_panel.rows[1].enabled_box.click()
    assert view.trails._visible[1] and window.leaderboard.rowCount() == 4


def test_pick_a_colour(window, qtbot, monkeypatch):
    from PySide6 import QtGui

    model = window.model
    monkeypatch.setattr(QtWidgets.QColorDialog, "getColor", lambda *a, **k: QtGui.QColor("#123456"))
    window.race_panel.rows[3].color_button.click()
    assert model.color(3) == "#123456"
    assert model.optimizers[3].color == "#123456"
    assert window.charts.plots[0].runs[3].opts["pen"].color().name() == "#123456"
