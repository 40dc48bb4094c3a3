"""`Surface.hvp` is what torch's double backward through the surface's own `grad` gives the library optimizers
(AdaHessian's and Sophia-H's Hutchinson probes): on every registered surface, a few formulas that use every
function the formula language has, on numpy arrays and on floats. Where `grad` is arithmetic only (polynomial
surfaces) it is the same to the last bit; sin, exp and friends from numpy or libm may differ from torch's by an
ulp, hence the 1e-12 elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.core.mathlib import NUMPY, SCALAR, torch_math
from optviz.core.surfaces import SURFACES, FormulaSurface, get_surface
from optviz.core.surfaces.base import Surface

RTOL = 1e-12
N_POINTS = 64
#: Surfaces whose gradient is arithmetic only: torch's reverse mode is mirrored bit for bit.
POLYNOMIAL = (
    "rosenbrock",
    "quadratic",
    "beale",
    "himmelblau",
    "booth",
    "matyas",
    "three_hump_camel",
    "six_hump_camel",
    "goldstein_price",
    "styblinski_tang",
    "saddle",
    "monkey_saddle",
)

FORMULAS = (
    "x^2 + 3*y^2",
    "sin(x)*cos(y) + 0.1*(x^2 + y^2)",
    "exp(0.3*x*y) - log(x^2 + y^2 + 1) + sqrt(x^2 + 2*y^2 + 0.5)",
    "tanh(x - y) * sigmoid(2*x + y) + tan(0.2*x*y)",
    "abs(x - 0.3)^1.5 + abs(y)*x + (x^2 + 1)^y",
    "max(x^2, y, 0.5*x*y) + min(x, y^3) + x/(y^2 + 2) + 2^(x*y)",
    "7",
    "x + 2*y",
)


def _points(surface: Surface, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    points = np.column_stack([rng.uniform(x0, x1, N_POINTS), rng.uniform(y0, y1, N_POINTS)])
    return points, rng.standard_normal((N_POINTS, 2))


def torch_hvp(surface: Surface, points: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H·v as the library path gets it: autograd through `grad` evaluated in torch, with graph."""
    xy = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    gx, gy = surface.grad(xy[:, 0], xy[:, 1], torch_math())
    grads = torch.stack(torch.broadcast_tensors(torch.as_tensor(gx), torch.as_tensor(gy)), dim=-1)
    if not grads.requires_grad:  # a constant gradient: no graph, the Hessian is zero
        return np.zeros_like(points)
    (h,) = torch.autograd.grad(grads, xy, grad_outputs=torch.tensor(v), allow_unused=True, materialize_grads=True)
    return h.numpy()


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    # Relative to the larger component of each product: one component may be a cancellation of large terms.
    scale = np.abs(want).max(axis=-1, keepdims=True)
    assert np.isfinite(want).all()
    bad = ~(np.abs(got - want) <= RTOL * scale)
    assert not bad.any(), f"{got[bad.any(-1)][:3]} vs torch {want[bad.any(-1)][:3]}"


def _check(surface: Surface, seed: int, exact: bool = False) -> None:
    points, v = _points(surface, seed)
    want = torch_hvp(surface, points, v)
    with np.errstate(all="ignore"):
        hx, hy = surface.hvp(points[:, 0], points[:, 1], v[:, 0], v[:, 1], NUMPY)
    got = np.column_stack([hx, hy])
    assert got.shape == points.shape and got.dtype == np.float64
    assert_close(got, want)
    if exact:
        np.testing.assert_array_equal(got, want)
    for (x, y), (vx, vy), w in zip(points[:8], v[:8], want[:8], strict=True):
        sx, sy = surface.hvp(float(x), float(y), float(vx), float(vy), SCALAR)
        assert isinstance(sx, float) and isinstance(sy, float)
        assert_close(np.array([[sx, sy]]), w[None])
        if exact:
            assert (sx, sy) == tuple(w)


@pytest.mark.parametrize("name", list(SURFACES))
def test_hvp_equals_torch_double_backward(name: str):
    _check(get_surface(name), seed=7, exact=name in POLYNOMIAL)


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_hvp_equals_torch_double_backward(formula: str):
    _check(FormulaSurface(formula), seed=11)


def test_a_max_tie_gives_torchs_transposed_product():
    """At a tie of max(x, y) the gradient's Jacobian is not symmetric; torch's reverse mode gives Jᵀ·v."""
    surface = FormulaSurface("max(x, y)^2")
    points, v = np.array([[0.25, 0.25]]), np.array([[0.6, -1.3]])
    got = np.column_stack(surface.hvp(points[:, 0], points[:, 1], v[:, 0], v[:, 1], NUMPY))
    np.testing.assert_array_equal(got, torch_hvp(surface, points, v))


def test_hvp_is_linear_in_v_and_symmetric():
    surface = get_surface("goldstein_price")
    x, y = 0.3, -0.7
    hxx, hyx = surface.hvp(x, y, 1.0, 0.0, SCALAR)
    hxy, _ = surface.hvp(x, y, 0.0, 1.0, SCALAR)
    assert abs(hyx - hxy) <= 1e-12 * abs(hxy)
    hx, _ = surface.hvp(x, y, 2.0, -3.0, SCALAR)
    assert abs(hx - (2.0 * hxx - 3.0 * hxy)) <= 1e-12 * abs(hx)


def test_kinks_follow_torch():
    """abs'(0) = 0, where() passes only the picked branch (Ackley's tip)."""
    for formula, point in (("abs(x)*y + y^2", (0.0, 0.5)), ("sqrt(x^2 + y^2 + 1) * abs(y)", (0.7, 0.0))):
        surface = FormulaSurface(formula)
        points = np.array([point])
        v = np.array([[0.6, -1.3]])
        got = np.column_stack(surface.hvp(points[:, 0], points[:, 1], v[:, 0], v[:, 1], NUMPY))
        assert_close(got, torch_hvp(surface, points, v))
    ackley = get_surface("ackley")
    points, v = np.array([[0.0, 0.0]]), np.array([[1.0, 0.5]])
    want = torch_hvp(ackley, points, v)
    got = np.column_stack(ackley.hvp(points[:, 0], points[:, 1], v[:, 0], v[:, 1], NUMPY))
    np.testing.assert_allclose(got, want, rtol=RTOL)


def test_learned_surface_hvp_is_the_derivative_of_its_bilinear_gradient():
    from optviz.core.learn.grid import LossGrid
    from optviz.core.learn.surface import LearnedSurface

    rng = np.random.default_rng(3)
    xs, ys = np.linspace(-1.0, 1.0, 6), np.linspace(-2.0, 2.0, 5)
    loss = rng.uniform(0.0, 3.0, (5, 6))
    surface = LearnedSurface(LossGrid(xs, ys, loss, np.zeros_like(loss)))
    x, y = rng.uniform(-0.95, 0.95, 32), rng.uniform(-1.9, 1.9, 32)
    vx, vy = rng.standard_normal(32), rng.standard_normal(32)
    hx, hy = surface.hvp(x, y, vx, vy, NUMPY)
    h = 1e-7  # the gradient is linear within a cell: a central difference is exact but for round-off
    gxp, gyp = surface.grad(x + h * vx, y + h * vy, NUMPY)
    gxm, gym = surface.grad(x - h * vx, y - h * vy, NUMPY)
    # Only points whose difference stencil stays inside one cell (cells are 0.4 wide in x, 1 high in y).
    ex, ey = h * np.abs(vx), h * np.abs(vy)
    inside = (np.floor((x + 1 + ex) / 0.4) == np.floor((x + 1 - ex) / 0.4)) & (
        np.floor(y + 2 + ey) == np.floor(y + 2 - ey)
    )
    np.testing.assert_allclose(hx[inside], ((gxp - gxm) / (2 * h))[inside], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hy[inside], ((gyp - gym) / (2 * h))[inside], rtol=1e-6, atol=1e-6)
    assert inside.sum() > 20
    outside = surface.hvp(np.array([5.0]), np.array([0.1]), np.array([1.0]), np.array([1.0]), NUMPY)
    assert outside[1][0] == 0.0  # clamped in x: gy does not change with x
