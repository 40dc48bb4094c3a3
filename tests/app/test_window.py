"""The window opens on the default scene; the view shows the surface and each optimizer's trail in its colour."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from optviz.core.scene import default_scene
from tests.app.helpers import grab_gl, near_color

BACKGROUND = "#15171c"


def test_opens_on_the_default_scene(window):
    scene = default_scene()
    model = window.model
    assert [e.name for e in model.optimizers] == [e.name for e in scene.optimizers]
    assert model.result is not None and model.result.shape == (4, 1, scene.steps)
    assert not model.dirty
    assert "optviz" in window.windowTitle()
    for dock in window.docks.values():
        assert dock.isVisible()
    assert len(window.race_panel.rows) == 4
    assert window.leaderboard.rowCount() == 4
    assert "Rosenbrock" in window.view_panel.legend.text()


def test_view_shows_surface_and_trails_in_their_colours(window, qtbot):
    model = window.model
    view = window.view_panel.scene_view
    model.set_cursor(model.steps)
    qtbot.waitUntil(lambda: view.cursor == model.steps)
    image = grab_gl(window)
    # The surface fills a good part of the frame, not a flat background.
    background = near_color(image, BACKGROUND, 14).mean()
    assert 0.15 < background < 0.8
    assert image.std() > 25

    # From above nothing hides a trail. Hide them: what disappears is drawn in each optimizer's colour.
    model.set_top_down(True)
    qtbot.waitUntil(lambda: view.top_down)
    image = grab_gl(window)
    for i in range(view.trail_count):
        view.set_trail_visible(i, False)
    window.view_panel.gl.update()
    qtbot.waitUntil(lambda: (grab_gl(window) != image).any())
    bare = grab_gl(window)
    changed = np.abs(image.astype(int) - bare.astype(int)).sum(-1) > 30
    assert changed.sum() > 200
    for color in model.colors():
        assert (near_color(image, color, 60) & changed).sum() >= 8, color


def test_every_control_has_a_tooltip(window):
    from PySide6 import QtWidgets

    kinds = (
        QtWidgets.QAbstractSlider,
        QtWidgets.QAbstractButton,
        QtWidgets.QLineEdit,
        QtWidgets.QComboBox,
        QtWidgets.QAbstractSpinBox,
    )
    missing = []
    for widget in window.findChildren(QtWidgets.QWidget):
        if not isinstance(widget, kinds) or not widget.isVisible():
            continue
        action = widget.defaultAction() if isinstance(widget, QtWidgets.QToolButton) else None
        if action is not None and action.toolTip():
            continue
        if widget.parent() is not None and type(widget.parent()).__name__ in ("QDockWidget", "QTabBar"):
            continue  # Qt's own dock title buttons
        if isinstance(widget.parent(), QtWidgets.QAbstractSpinBox | QtWidgets.QComboBox):
            continue  # the line edit inside a spin box or combo box: its owner has the tooltip
        if not widget.toolTip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} {getattr(widget, 'text', str)()!r}")
    assert not missing, missing


def test_about_box_lists_versions(window, monkeypatch):
    from PySide6 import QtWidgets

    shown = {}
    monkeypatch.setattr(QtWidgets.QMessageBox, "about", lambda parent, title, text: shown.update(text=text))
    window.about()
    assert "optviz" in shown["text"] and "pyqtgraph" in shown["text"] and "Qt" in shown["text"]


def test_help_lists_every_shortcut_the_menus_have(window, qtbot):
    from PySide6 import QtGui

    from optviz.app.shell.help import help_html, shortcut_rows, show_help

    rows = dict(shortcut_rows(window))
    assert rows["Space"].lower().startswith("play")
    assert rows["F1"].startswith("Getting started")
    assert "Tune all" in rows.values()
    text = help_html(window)
    assert "Getting started" in text and "Keyboard shortcuts" in text
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            if keys:
                assert keys in rows, action.text()
    dialog = show_help(window)
    qtbot.addWidget(dialog)
    assert dialog.isVisible()


def test_in_2d_a_drag_pans_and_never_turns_the_map(window, qtbot):
    view = window.view_panel.scene_view
    gl = window.view_panel.gl
    window.model.set_top_down(True)
    qtbot.waitUntil(lambda: view.top_down)
    assert "drag: pan" in window.view_panel.hint.text()
    before = view.camera_state()
    left = QtCore.Qt.MouseButton.LeftButton
    start = QtCore.QPoint(gl.width() // 2, gl.height() // 2)
    qtbot.mousePress(gl, left, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(gl, pos=start + QtCore.QPoint(12 * i, 6 * i))
    qtbot.mouseRelease(gl, left, pos=start + QtCore.QPoint(60, 30))
    after = view.camera_state()
    assert (after["azimuth"], after["elevation"]) == (before["azimuth"], before["elevation"])
    assert after["center"] != before["center"]
