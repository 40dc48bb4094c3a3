"""`screen_simplify`: which points of a trail are drawn (pure numpy; the drawing is tested in test_scene)."""

from __future__ import annotations

import numpy as np

from optviz.render.trail_item import screen_simplify

VIEWPORT = (800.0, 600.0)


def _camera(eye=(0.0, -3.0, 2.5)) -> np.ndarray:
    """A perspective projection @ look-at (towards the origin), row-major, like the items' matrices."""
    eye = np.asarray(eye, dtype=float)
    back = eye / np.linalg.norm(eye)
    right = np.cross([0.0, 0.0, 1.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    view = np.eye(4)
    view[:3, :3] = np.stack([right, up, back])
    view[:3, 3] = -view[:3, :3] @ eye
    near, far, f = 0.1, 20.0, 1.0 / np.tan(np.radians(20.0))
    proj = np.zeros((4, 4))
    proj[0, 0], proj[1, 1] = f * VIEWPORT[1] / VIEWPORT[0], f
    proj[2, 2], proj[2, 3], proj[3, 2] = (far + near) / (near - far), 2 * far * near / (near - far), -1.0
    return proj @ view


def _pixels(points: np.ndarray, mvp: np.ndarray) -> np.ndarray:
    clip = np.c_[points, np.ones(len(points))] @ mvp.T
    return clip[:, :2] / clip[:, 3:] * (0.5 * np.asarray(VIEWPORT))


def _creeping_path(n: int = 4000, seed: int = 0) -> np.ndarray:
    """A random walk whose steps shrink over four orders of magnitude, like a run settling into a minimum."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(size=(n, 3)) * np.geomspace(0.01, 1e-6, n)[:, None]
    steps[:, 2] *= 0.2
    return np.cumsum(steps, axis=0)


def test_every_dropped_point_lies_within_the_tolerance_of_the_kept_one_before_it():
    mvp = _camera()
    path = _creeping_path()
    for tolerance in (0.5, 1.0, 2.0):
        kept = screen_simplify(path, mvp, VIEWPORT, tolerance, max_segments=10**9)
        assert kept[0] == 0 and kept[-1] == len(path) - 1
        assert np.all(np.diff(kept) > 0)
        assert len(kept) < len(path) / 3
        px = _pixels(path, mvp)
        owner = kept[np.searchsorted(kept, np.arange(len(path)), side="right") - 1]
        assert np.hypot(*(px - px[owner]).T).max() <= tolerance + 1e-9


def test_steps_longer_than_the_tolerance_keep_both_ends():
    mvp = _camera()
    path = np.c_[np.linspace(-1.0, 1.0, 50), np.zeros(50), np.zeros(50)]  # about 10 px per step
    assert np.array_equal(screen_simplify(path, mvp, VIEWPORT, 1.0, max_segments=10**9), np.arange(50))
    # Zero tolerance, or points behind the eye (no meaningful projection): nothing is dropped.
    creeping = _creeping_path(500)
    assert len(screen_simplify(creeping, mvp, VIEWPORT, 0.0, max_segments=10**9)) == 500
    behind = creeping + np.array([0.0, -3.5, 2.9])  # straddles the eye
    assert len(screen_simplify(behind, mvp, VIEWPORT, 1.0, max_segments=10**9)) == 500


def test_max_segments_caps_a_path_that_zig_zags_across_the_view():
    mvp = _camera()
    x = np.linspace(-1.0, 1.0, 5001)
    path = np.c_[x, 0.5 * (-1.0) ** np.arange(5001), np.zeros(5001)]
    kept = screen_simplify(path, mvp, VIEWPORT, 1.0, max_segments=300)
    assert 250 <= len(kept) - 1 <= 301
    assert kept[0] == 0 and kept[-1] == 5000
