"""The surface panel: surface choice, parameters, display options, and the custom formula's inline error."""

from __future__ import annotations

from PySide6 import QtCore

from optviz.app.readouts.leaderboard import STATUS_COLUMN
from tests.app.helpers import drag_slider


def test_choose_a_surface(window, qtbot):
    panel = window.surface_panel
    model = window.model
    index = panel.combo.findData("himmelblau")
    panel.combo.setCurrentIndex(index)
    assert model.scene.surface == "himmelblau"
    assert window.settle(60)
    assert model.result.starts.tolist() == [list(model.surface.start)]
    assert window.view_panel.scene_view.field.domain == model.surface.domain
    assert not panel.formula_box.isVisible()
    assert panel.combo.itemData(index, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert not panel.preview.pixmap().isNull()


def test_surface_parameter_slider_and_display_options(window, qtbot):
    panel = window.surface_panel
    model = window.model
    before = model.result.positions.copy()
    drag_slider(qtbot, panel.form.slider("b"), -40)
    assert window.settle(60)
    assert model.scene.surface_params["b"] < 100
    assert not (model.result.positions == before).all()
    panel.log_scale.click()
    assert model.scene.view.log_scale is False
    assert window.view_panel.scene_view.field.transform.log_scale is False
    panel.colormap.setCurrentIndex(panel.colormap.findData("magma"))
    assert model.scene.view.colormap == "magma"


def test_formula_error_is_shown_while_typing(window, qtbot):
    panel = window.surface_panel
    model = window.model
    panel.combo.setCurrentIndex(panel.combo.findData("custom"))
    assert window.settle(60)
    assert panel.formula_box.isVisible()
    good = model.scene.surface_params.get("formula", "x^2 + 3*y^2")
    box = panel.formula
    box.clear()
    qtbot.keyClicks(box, "x^2 + * y")
    assert panel.formula_error.isVisible()
    assert "column 7" in panel.formula_error.text()  # the '*' with nothing before it
    assert panel.formula_caret.text() == " " * 6 + "^"
    assert box.property("invalid") is True
    qtbot.wait(400)  # longer than the typing pause: a bad formula never reaches the model
    assert model.scene.surface_params.get("formula", good) == good

    box.clear()
    qtbot.keyClicks(box, "sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    assert not panel.formula_error.isVisible() and box.property("invalid") is False
    qtbot.waitUntil(lambda: model.scene.surface_params.get("formula") == "sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    assert window.settle(60)
    assert model.result.positions.shape[0] == 4
    assert window.statusBar().currentMessage() == ""


def test_noise_changes_paths_not_the_surface(window, qtbot, monkeypatch):
    model = window.model
    calls = []
    view = window.view_panel.scene_view
    original = view.set_surface
    monkeypatch.setattr(view, "set_surface", lambda *a, **k: calls.append(a) or original(*a, **k))
    before = model.result.positions.copy()
    model.set_surface_param("noise", 2.0)
    assert window.settle(60)
    qtbot.wait(20)
    assert not calls
    assert not (model.result.positions == before).all()
    window.surface_panel.seed.setValue(7)
    assert model.scene.seed == 7


def test_every_surface_races(window, qtbot):
    from optviz.core.surfaces import SURFACES

    model = window.model
    panel = window.surface_panel
    for name in SURFACES:
        panel.combo.setCurrentIndex(panel.combo.findData(name))
        assert window.settle(60), name
        assert model.scene.surface == name
        assert model.result.shape[:2] == (4, 1), name
        assert window.view_panel.scene_view.trail_count == 4, name
        assert window.statusBar().currentMessage() == "", (name, window.statusBar().currentMessage())


def test_a_grid_of_starts(make_window, qtbot):
    from optviz.core.scene import default_scene

    scene = default_scene()
    scene.grid = (3, 2)
    scene.steps = 200
    window = make_window(scene)
    model = window.model
    assert model.result.shape == (4, 6, 200)
    assert window.view_panel.scene_view.trail_count == 24
    assert window.charts.plots[0].runs[0].getData()[1].shape == (201,)  # the median over the starts
    assert window.memory_chart.rows[1][1] == 4 * 2 * 6  # SGD + momentum: one fp32 buffer per parameter
    model.set_hyperparam(1, "lr", 0.002)
    assert window.settle(60)
    assert window.view_panel.scene_view.trail_count == 24


def test_a_formula_undefined_on_part_of_the_domain(window, qtbot):
    panel = window.surface_panel
    model = window.model
    panel.combo.setCurrentIndex(panel.combo.findData("custom"))
    assert window.settle(60)
    assert not panel.undefined.isVisible() and not panel.start_undefined.isVisible()
    model.set_surface_param("formula", "log(x) + y^2")
    assert window.settle(60)
    # Half the domain is a hole in the view, and the panel says how much.
    assert panel.undefined.isVisible()
    assert panel.undefined.text() == "f is undefined on 50% of the domain (shown as holes)"
    assert window.view_panel.scene_view.field.has_holes
    assert not panel.start_undefined.isVisible()  # the suggested start moved to where f is defined
    # A click in the hole is refused, in one line.
    before = list(model.scene.starts)
    model.set_start(-1.0, 0.5)
    assert model.scene.starts == before
    assert window.statusBar().currentMessage().startswith("f is undefined at the start (-1, 0.5)")
    # A start that the formula leaves undefined is named in the panel, and its runs say why they stopped.
    model.set_start(1.0, 0.5)
    model.set_surface_param("formula", "log(-x) + y^2")
    assert window.settle(60)
    assert panel.start_undefined.isVisible()
    assert "f is undefined at the start (1, 0.5)" in panel.start_undefined.text()
    board = window.leaderboard
    board.refresh()
    assert board.item(0, STATUS_COLUMN).text() == "diverged"
    assert board.item(0, STATUS_COLUMN).toolTip() == "diverged at step 0: starts where f is undefined"
    model.set_surface_param("formula", "x^2 + y^2")
    assert window.settle(60)
    assert not panel.undefined.isVisible() and not panel.start_undefined.isVisible()
    assert not window.view_panel.scene_view.field.has_holes
