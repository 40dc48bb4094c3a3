"""Axis labels in the 3-D scene never overlap: at any camera, a tick label that would meet a title or a label
already placed is not drawn (the loss axis's ticks first), and most labels stay."""

from __future__ import annotations

import numpy as np
import pytest

from tests.render.conftest import Rosenbrock


@pytest.fixture
def scene(qapp):
    """The size of the app's view at 1600 x 1000 (the shared fixture's small frame crowds every axis)."""
    from optviz.render import SceneView

    view = SceneView(offscreen=True, size=(900, 620))
    yield view
    view.close()


CAMERAS = [
    None,  # the default view, where the y axis's "3" used to sit under the loss axis's "1"
    *(
        {"distance": d, "elevation": e, "azimuth": a}
        for d in (5.0, 9.0)
        for e in (12.0, 35.0, 70.0)
        for a in (-135.0, -60.0, 20.0, 110.0)
    ),
]


def _drawn_boxes(scene) -> np.ndarray:
    axes = scene.axes
    mvp_mv, proj = axes.matrices()
    viewport = scene.view.width(), scene.view.height()
    mvp = proj @ mvp_mv
    titles = axes.titles.screen_rects(mvp, viewport, axes.titles.effective_pixel_scale())
    ticks = axes.tick_labels.screen_rects(mvp, viewport, axes.tick_labels.effective_pixel_scale())
    return np.concatenate([titles, ticks[axes.tick_labels.shown]]), axes.tick_labels.shown


@pytest.mark.parametrize("camera", CAMERAS)
def test_drawn_axis_labels_never_overlap(scene, camera):
    scene.set_surface(Rosenbrock(), resolution=48, log_scale=True)
    if camera is None:
        scene.reset_camera()
    else:
        scene.set_camera_state(camera)
    scene.render_image()  # lays the labels out for this camera
    boxes, shown = _drawn_boxes(scene)
    boxes = boxes[np.isfinite(boxes).all(axis=1)] + np.array([1.0, 1.0, -1.0, -1.0])  # padding may touch
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (camera, a, b)
    assert shown.mean() >= 0.6  # culling drops the few that collide, not the axis


def test_the_culling_is_what_keeps_them_apart(qapp):
    """In a small view, drawing every tick label would overlap some: those are the ones left out."""
    from optviz.render import SceneView

    scene = SceneView(offscreen=True, size=(320, 240))
    scene.set_surface(Rosenbrock(), resolution=48, log_scale=True)
    scene.reset_camera()
    scene.render_image()
    axes = scene.axes
    mv, proj = axes.matrices()
    viewport = scene.view.width(), scene.view.height()
    ticks = axes.tick_labels.screen_rects(proj @ mv, viewport, axes.tick_labels.effective_pixel_scale())
    assert not axes.tick_labels.shown.all()
    hidden = ticks[~axes.tick_labels.shown]
    titles = axes.titles.screen_rects(proj @ mv, viewport, axes.titles.effective_pixel_scale())
    kept = np.concatenate([titles, ticks[axes.tick_labels.shown]])
    # Each hidden label would have met a title or a kept label (labels of two axes keep a gap between them).
    from optviz.render.axes_item import AXIS_GAP_PX

    for h in hidden + np.array([-AXIS_GAP_PX, -AXIS_GAP_PX, AXIS_GAP_PX, AXIS_GAP_PX]):
        assert any(h[0] < k[2] and k[0] < h[2] and h[1] < k[3] and k[1] < h[3] for k in kept)
    scene.close()
