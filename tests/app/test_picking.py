"""A click on the surface moves every optimizer's start; shift + drag moves it continuously."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

LEFT = QtCore.Qt.MouseButton.LeftButton
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier


def _pixel_of(window, x: float, y: float) -> QtCore.QPoint:
    px, py = window.view_panel.scene_view.screen_position(x, y)
    return QtCore.QPoint(round(px), round(py))


def test_click_on_the_surface_sets_the_start(window, qtbot):
    model = window.model
    gl = window.view_panel.gl
    target = (0.5, -0.5)
    qtbot.mouseClick(gl, LEFT, pos=_pixel_of(window, *target))
    assert window.settle(60)
    ((sx, sy),) = model.scene.starts
    assert abs(sx - target[0]) < 0.05 and abs(sy - target[1]) < 0.05
    starts = model.result.positions[:, :, 0]
    np.testing.assert_allclose(starts, np.broadcast_to([sx, sy], starts.shape))
    assert model.dirty


def test_a_drag_orbits_and_does_not_move_the_start(window, qtbot):
    model = window.model
    gl = window.view_panel.gl
    starts = list(model.scene.starts)
    azimuth = gl.opts["azimuth"]
    p = _pixel_of(window, 0.0, 0.0)
    qtbot.mousePress(gl, LEFT, pos=p)
    for i in range(1, 6):
        qtbot.mouseMove(gl, pos=p + QtCore.QPoint(12 * i, 0))
    qtbot.mouseRelease(gl, LEFT, pos=p + QtCore.QPoint(60, 0))
    assert gl.opts["azimuth"] != azimuth
    assert model.scene.starts == starts


def test_shift_drag_moves_the_start_continuously(window, qtbot):
    model = window.model
    gl = window.view_panel.gl
    azimuth = gl.opts["azimuth"]
    path = [(-1.0, 2.0), (-0.5, 1.5), (0.0, 1.0), (0.5, 0.5)]
    pixels = [_pixel_of(window, *xy) for xy in path]
    picks = window.view_panel.picks
    qtbot.mousePress(gl, LEFT, SHIFT, pos=pixels[0])
    for p in pixels[1:]:
        qtbot.mouseMove(gl, pos=p)
        qtbot.wait(20)  # the race of the previous point lands while the hand moves
    qtbot.mouseRelease(gl, LEFT, SHIFT, pos=pixels[-1])
    assert window.settle(60)
    assert window.view_panel.picks - picks == len(path)
    assert gl.opts["azimuth"] == azimuth  # no orbit while moving the start
    ((sx, sy),) = model.scene.starts
    assert abs(sx - 0.5) < 0.05 and abs(sy - 0.5) < 0.05
    np.testing.assert_allclose(model.result.starts[0], [sx, sy])
