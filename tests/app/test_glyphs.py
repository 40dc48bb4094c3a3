"""View > State glyphs: the menu turns each kind on and off, the glyphs sit at the heads of the cursor's step and
follow a scrub, and each is drawn in its optimizer's colour."""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui

from optviz.core.race.glyphs import step_for_cursor


def _near(image: np.ndarray, color: str, x: float, y: float, radius: int = 40, tol: float = 60.0) -> int:
    c = QtGui.QColor(color)
    h, w = image.shape[:2]
    x0, x1, y0, y1 = max(int(x) - radius, 0), min(int(x) + radius, w), max(int(y) - radius, 0), min(int(y) + radius, h)
    patch = image[y0:y1, x0:x1, :3].astype(float)
    return int((np.sqrt(((patch - [c.red(), c.green(), c.blue()]) ** 2).sum(-1)) < tol).sum())


def test_the_menu_turns_glyphs_on_and_they_follow_the_cursor(window, qtbot):
    model, view = window.model, window.view_panel
    layer = view.glyph_layer
    menu = window.glyph_menu
    menu.actions_by_kind["update"].setChecked(True)
    menu.actions_by_kind["gradient"].setChecked(True)
    assert model.scene.view.glyphs == ["gradient", "update"]
    model.set_cursor(40)
    layer.request()
    assert layer.wait(60)
    qtbot.waitUntil(lambda: layer.step == 41, timeout=5000)
    result = model.result
    for k, g in layer.glyphs.items():
        np.testing.assert_allclose(g.origin, result.positions[k, 0, 40], rtol=1e-12)  # at the head
        np.testing.assert_allclose(g.update, result.positions[k, 0, 41] - result.positions[k, 0, 40], rtol=1e-9)
    assert set(layer.glyphs) == set(model.shown_runs())
    assert layer.key.isVisible() and "step 41" in layer.key.text() and "update" in layer.key.text()
    assert view.scene_view.glyph_updates.path_count == len(layer.glyphs) * 2  # shaft and head per optimizer

    model.set_cursor(200)  # a scrub moves them
    layer.request()
    assert layer.wait(60)
    qtbot.waitUntil(lambda: layer.step == step_for_cursor(200, model.steps), timeout=5000)
    for k, g in layer.glyphs.items():
        np.testing.assert_allclose(g.origin, result.positions[k, 0, 200], rtol=1e-12)

    window.glyph_menu.actions()[-1].trigger()  # None
    assert model.scene.view.glyphs == [] and not layer.key.isVisible()
    assert view.scene_view.glyph_updates.path_count == 0


def test_each_glyph_is_drawn_in_its_colour_at_the_head(window, qtbot):
    model, view = window.model, window.view_panel
    layer = view.glyph_layer
    for k in range(1, len(model.optimizers)):
        model.set_enabled(k, False)  # one optimizer: its colour is unambiguous
    model.set_cursor(3)
    window.settle()
    scene_view = view.scene_view
    w, h = 640, 480
    color = model.color(0)
    x, y = scene_view.screen_position(*model.result.positions[0, 0, 3], (w, h))
    before = _near(scene_view.render_image(w, h), color, x, y)
    model.set_glyphs(["update"])
    layer.request()
    assert layer.wait(60)
    qtbot.waitUntil(lambda: bool(layer.glyphs), timeout=5000)
    after = _near(scene_view.render_image(w, h), color, x, y)
    assert after > before + 30, (before, after)  # the thick update arrow, in SGD's colour, at SGD's head
