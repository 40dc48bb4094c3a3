"""Fixtures for render tests: small analytic surfaces of our own (independent of the surface registry),
scenes rendered offscreen at 320x240, and pixel helpers. GL runs on Mesa under the Xvfb that pytest-xvfb
starts; assertions are on pixel statistics with tolerances, never on exact hashes."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.surfaces.base import Surface

W, H = 320, 240
BG = np.array([0x15, 0x17, 0x1C])


class Paraboloid(Surface):
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima = ((0.5, -0.5),)
    min_value = 0.0

    def value(self, x, y, xp):
        return (x - 0.5) ** 2 + 2.0 * (y + 0.5) ** 2

    def grad(self, x, y, xp):
        return 2.0 * (x - 0.5), 4.0 * (y + 0.5)


class Rosenbrock(Surface):
    domain = ((-2.0, 2.0), (-1.0, 3.0))
    minima = ((1.0, 1.0),)
    min_value = 0.0
    log_scale = True

    def value(self, x, y, xp):
        return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2

    def grad(self, x, y, xp):
        return -2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)


class Hill(Surface):
    """A tall Gaussian bump in the middle of a flat plain: for occlusion tests."""

    domain = ((-2.0, 2.0), (-2.0, 2.0))

    def value(self, x, y, xp):
        return xp.exp(-(x * x + y * y) / 0.18)

    def grad(self, x, y, xp):
        e = xp.exp(-(x * x + y * y) / 0.18)
        return -2.0 * x / 0.18 * e, -2.0 * y / 0.18 * e


@pytest.fixture
def scene(qapp):
    from optviz.render import SceneView

    view = SceneView(offscreen=True, size=(W, H))
    yield view
    view.close()


def non_background(image: np.ndarray, tol: int = 12) -> np.ndarray:
    """Mask of pixels that differ from the background colour by more than `tol` (sum over RGB)."""
    return np.abs(image[..., :3].astype(int) - BG).sum(-1) > tol


def near_color(image: np.ndarray, rgb, tol: float = 60.0) -> np.ndarray:
    """Mask of pixels within Euclidean RGB distance `tol` of `rgb` (0-255)."""
    diff = image[..., :3].astype(float) - np.asarray(rgb, float)
    return np.sqrt((diff**2).sum(-1)) < tol
