"""The display transform shared by mesh, trails, markers and picking (pure numpy)."""

import numpy as np
import pytest

from optviz.render.height import (
    Z_TOP,
    DisplayTransform,
    HeightField,
    drape,
    grid_indices,
    grid_triangles,
    grid_vertices,
)
from tests.render.conftest import Paraboloid, Rosenbrock


def test_domain_maps_into_the_box_keeping_aspect():
    t = DisplayTransform.fit(((-2.0, 2.0), (-1.0, 1.0)), np.array([0.0, 1.0]))
    assert t.extent == (1.0, 0.5)
    corners = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(t.xy_to_box(corners), [[-1.0, -0.5], [1.0, 0.5], [0.0, 0.0]])
    np.testing.assert_allclose(t.box_to_xy(t.xy_to_box(corners)), corners)
    # Very elongated domains are squashed to at most 2:1.
    assert DisplayTransform.fit(((0.0, 10.0), (0.0, 1.0)), np.zeros(2)).extent == (1.0, 0.5)


def test_heights_span_zero_to_top_and_clip_non_finite():
    t = DisplayTransform.fit(((0, 1), (0, 1)), np.array([1.0, 3.0, 5.0]))
    np.testing.assert_allclose(t.heights(np.array([1.0, 3.0, 5.0])), [0.0, Z_TOP / 2, Z_TOP])
    assert t.heights(np.array([np.nan]))[0] == Z_TOP and t.heights(np.array([-1e9]))[0] == 0.0
    np.testing.assert_allclose(t.value_at_height(t.heights(np.array([2.0, 4.0]))), [2.0, 4.0])


def test_log_scale_spreads_small_values():
    values = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0])
    lin = DisplayTransform.fit(((0, 1), (0, 1)), values, False)
    log = DisplayTransform.fit(((0, 1), (0, 1)), values, True)
    assert log.heights(np.array([1.0]))[0] > 5 * lin.heights(np.array([1.0]))[0]
    assert np.all(np.diff(log.heights(values)) > 0)  # still monotone
    # At most four decades below the top are shown, so log valleys stay open to the camera.
    assert log.g_hi - log.g_lo <= 4.01
    np.testing.assert_allclose(log.value_at_height(log.heights(np.array([3.0]))), [3.0], rtol=1e-9)


def test_mesh_interpolation_hits_nodes_and_is_exact_for_planes():
    xs = np.linspace(-1, 1, 9)
    ys = np.linspace(0, 2, 7)
    X, Y = np.meshgrid(xs, ys)
    f = HeightField.from_grid(xs, ys, 2 * X + 3 * Y)
    nodes = np.stack([X, Y], -1)
    np.testing.assert_allclose(f.z_at(nodes), f.heights, atol=1e-6)
    rng = np.random.default_rng(1)
    pts = rng.uniform([-1, 0], [1, 2], (200, 2))
    expected = f.transform.heights(2 * pts[:, 0] + 3 * pts[:, 1])
    np.testing.assert_allclose(f.z_at(pts), expected, atol=1e-5)


def test_interpolation_follows_the_drawn_diagonal():
    # One cell, heights 0 except the (1, 1) corner: along the (0,0)-(1,1) diagonal the mesh rises linearly.
    f = HeightField.from_grid(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([[0.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(f.z_at(np.array([[0.5, 0.5]])), [0.5 * Z_TOP])
    np.testing.assert_allclose(f.z_at(np.array([[1.0, 0.0], [0.0, 1.0]])), [0.0, 0.0])


def test_grid_strip_splits_each_cell_along_the_same_diagonal():
    nx, ny = 4, 3
    idx = grid_indices(nx, ny)
    tris = [tuple(idx[k : k + 3]) for k in range(len(idx) - 2)]
    tris = [t for t in tris if len(set(t)) == 3]  # drop the degenerate joins
    assert len(tris) == 2 * (nx - 1) * (ny - 1)
    ij = grid_vertices(nx, ny).astype(int)
    cells = set()
    for t in tris:
        pts = ij[list(t)]
        i0, j0 = pts.min(0)
        cells.add((i0, j0))
        # every triangle contains both ends of its cell's (i, j)-(i+1, j+1) diagonal
        assert {(i0, j0), (i0 + 1, j0 + 1)} <= {tuple(p) for p in pts}
    assert len(cells) == (nx - 1) * (ny - 1)


def test_from_surface_uses_the_surface_preferences():
    f = HeightField.from_surface(Rosenbrock(), 65)
    assert f.transform.log_scale and f.shape == (65, 65)
    assert f.domain == ((-2.0, 2.0), (-1.0, 3.0))
    assert not HeightField.from_surface(Paraboloid(), 33).transform.log_scale
    assert not f.with_log_scale(False).transform.log_scale


def test_drape_subdivides_long_steps_and_keeps_short_ones():
    f = HeightField.from_surface(Paraboloid(), 65)
    path = np.array([[-1.5, -1.5], [-1.49, -1.49], [1.5, 1.5]])
    pts, steps = drape(f, path, lift=0.0)
    assert steps[0] == 0 and steps[-1] == 2 and np.all(np.diff(steps) > 0)
    assert 1.0 in steps  # every original step is kept
    cell = 2.0 / 64
    assert np.max(np.hypot(*np.diff(pts[:, :2], axis=0).T)) <= cell * 1.01
    np.testing.assert_allclose(pts[:, 2], f.z_at(f.transform.box_to_xy(pts[:, :2])), atol=1e-9)


def test_drape_survives_runaway_points():
    f = HeightField.from_surface(Paraboloid(), 33)
    path = np.array([[0.0, 0.0], [3.0, 0.0], [1e12, -1e15], [1e300, 1e300]])
    pts, steps = drape(f, path)
    assert np.isfinite(pts).all() and np.all(np.abs(pts[:, :2]) <= 50.0)
    assert np.all(np.diff(steps) > 0)
    # Only the part inside the footprint is subdivided.
    assert len(pts) < 100


@pytest.mark.parametrize("n", [1, 2])
def test_drape_short_paths(n):
    f = HeightField.from_surface(Paraboloid(), 17)
    pts, steps = drape(f, np.zeros((n, 2)))
    assert pts.shape == (n, 3) and len(steps) == n


def test_undefined_nodes_are_holes_and_the_range_ignores_them():
    xs = np.linspace(-1, 1, 5)
    ys = np.linspace(0, 2, 4)
    X, Y = np.meshgrid(xs, ys)
    values = np.where(X < 0, np.nan, X + Y)
    values[0, 4] = np.inf  # a pole on a node
    f = HeightField.from_grid(xs, ys, values)
    assert f.has_holes and f.defined.sum() == values.size - 8 - 1
    # The range (and so the colours) spans the defined values only: no slab at the top for NaN or infinity.
    assert f.transform.fmin == 0.0 and f.transform.value_at_height(Z_TOP) == pytest.approx(3.0)
    assert np.isfinite(f.heights).all()
    assert (f.texture_heights()[~f.defined] < 0).all() and (f.texture_heights()[f.defined] >= 0).all()
    assert not HeightField.from_grid(xs, ys, X + Y).has_holes


def test_grid_triangles_leave_out_every_triangle_touching_an_undefined_node():
    nx, ny = 5, 4
    defined = np.ones((ny, nx), bool)
    full = grid_triangles(defined).reshape(-1, 3)
    assert len(full) == 2 * (nx - 1) * (ny - 1)
    ij = grid_vertices(nx, ny).astype(int)
    for t in full:  # the strip's diagonal, counter-clockwise from above
        (i0, j0), (i1, j1), (i2, j2) = ij[t]
        assert {(i0, j0), (i0 + 1, j0 + 1)} <= {tuple(p) for p in ij[t]}
        assert (i1 - i0) * (j2 - j0) - (j1 - j0) * (i2 - i0) > 0
    defined[1, 2] = False  # an inner node: the six triangles around it go
    holed = grid_triangles(defined).reshape(-1, 3)
    assert len(holed) == len(full) - 6
    assert not np.isin(holed, [1 * nx + 2]).any()
    # The coarse sub-grid (nodes 0, 2, 4 by 0, 2, 3) loses the cells whose corners touch it.
    coarse = grid_triangles(defined, np.array([0, 2, 4]), np.array([0, 2, 3])).reshape(-1, 3)
    assert len(coarse) == 2 * 2 * 2 and coarse.max() < 9
    defined[0, 0] = False
    coarse = grid_triangles(defined, np.array([0, 2, 4]), np.array([0, 2, 3])).reshape(-1, 3)
    assert len(coarse) == 8 - 2 and not np.isin(coarse, [0]).any()
