"""Where f is undefined the surface has holes: no triangle touching such a grid node is drawn, in 3-D, in the
2-D view from above and offscreen (the exporter's view) alike."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.surfaces.base import Surface
from tests.render.conftest import non_background


class HalfLog(Surface):
    """log(x) + y^2: undefined (NaN) on the left half of the domain, -inf on the y axis."""

    domain = ((-2.0, 2.0), (-2.0, 2.0))

    def value(self, x, y, xp):
        return xp.log(x) + y * y

    def grad(self, x, y, xp):
        return 1.0 / x, 2.0 * y


class ShiftedLog(HalfLog):
    """The same shape moved left: defined on the whole domain."""

    def value(self, x, y, xp):
        return xp.log(x + 3.0) + y * y

    def grad(self, x, y, xp):
        return 1.0 / (x + 3.0), 2.0 * y


def _patch(scene, img: np.ndarray, x: float, y: float, r: int = 4) -> np.ndarray:
    px, py = scene.screen_position(x, y)
    return img[int(py) - r : int(py) + r, int(px) - r : int(px) + r]


def _surface_drawn(patch: np.ndarray) -> float:
    """Share of the patch covered by the coloured surface (the floor and background are grey)."""
    rgb = patch[..., :3].astype(int)
    return float((non_background(patch) & (rgb.max(-1) - rgb.min(-1) > 40)).mean())


@pytest.mark.parametrize("top_down", [True, False])
def test_undefined_region_is_not_drawn(scene, top_down):
    scene.set_top_down(top_down)
    scene.set_surface(ShiftedLog(), resolution=64)
    full = scene.render_image()
    scene.set_surface(HalfLog(), resolution=64)
    holed = scene.render_image()
    assert scene.field.has_holes
    for point in [(-1.0, 0.5), (-1.5, -1.0), (-0.5, 1.2)]:  # undefined: surface before, holes now
        assert _surface_drawn(_patch(scene, full, *point)) > 0.9, point
        assert _surface_drawn(_patch(scene, holed, *point)) == 0.0, point
    for point in [(1.0, 0.5), (1.5, -1.0)]:  # defined: drawn in both
        assert _surface_drawn(_patch(scene, holed, *point)) > 0.9, point


def test_holes_close_again_when_the_surface_is_defined_everywhere(scene):
    scene.set_top_down(True)
    scene.set_surface(HalfLog(), resolution=64)
    scene.render_image()
    scene.set_surface(ShiftedLog(), resolution=64)
    img = scene.render_image()
    assert not scene.field.has_holes
    assert _surface_drawn(_patch(scene, img, -1.0, 0.5)) > 0.9
