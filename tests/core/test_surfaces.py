"""The surface registry: gradients against finite differences and torch autograd, minima, known values.

Parametrised over `SURFACES` itself, so a newly registered surface is checked without touching this file.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optviz.core.errors import UnknownNameError, ValueOutOfRangeError
from optviz.core.mathlib import NUMPY, SCALAR, torch_math
from optviz.core.surfaces import SURFACES, Surface, get_surface
from optviz.core.surfaces.base import NOISE_PARAM

KINDS = list(SURFACES)
ANALYTIC = [name for name in KINDS if name != "custom"]


def random_points(surface: Surface, n: int = 60, seed: int = 0) -> np.ndarray:
    """Points spread over the surface's default domain (a margin keeps them strictly inside)."""
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    u = rng.uniform(0.02, 0.98, size=(n, 2))
    return np.stack([x0 + u[:, 0] * (x1 - x0), y0 + u[:, 1] * (y1 - y0)], axis=-1)


def central_difference(surface: Surface, x: float, y: float) -> tuple[float, float]:
    # Fourth-order stencil: accurate to ~1e-9 relative even on Rastrigin's steep bumps and Goldstein–Price.
    def f(a: float, b: float) -> float:
        return float(surface.value(a, b, SCALAR))

    hx = 1e-4 * max(1.0, abs(x))
    hy = 1e-4 * max(1.0, abs(y))
    gx = (-f(x + 2 * hx, y) + 8 * f(x + hx, y) - 8 * f(x - hx, y) + f(x - 2 * hx, y)) / (12 * hx)
    gy = (-f(x, y + 2 * hy) + 8 * f(x, y + hy) - 8 * f(x, y - hy) + f(x, y - 2 * hy)) / (12 * hy)
    return gx, gy


def assert_grad_close(got: tuple[float, float], want: tuple[float, float], scale: float, where: str) -> None:
    for g, w, axis in zip(got, want, "xy", strict=True):
        assert math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-7 * scale), f"d/d{axis} at {where}: {g} vs {w}"


@pytest.mark.parametrize("name", KINDS)
def test_gradient_matches_finite_differences_on_scalar_and_numpy(name: str) -> None:
    surface = get_surface(name)
    points = random_points(surface)
    values = surface.value_np(points)
    grads_np = surface.grad_np(points)
    assert grads_np.shape == points.shape
    for (x, y), v, g_np in zip(points, values, grads_np, strict=True):
        x, y = float(x), float(y)
        g_scalar = surface.grad(x, y, SCALAR)
        assert all(isinstance(g, float) for g in g_scalar), "the scalar backend must return plain floats"
        fd = central_difference(surface, x, y)
        scale = max(1.0, abs(v), abs(fd[0]), abs(fd[1]))
        assert_grad_close(g_scalar, fd, scale, f"({x}, {y}) scalar")
        assert_grad_close((float(g_np[0]), float(g_np[1])), g_scalar, scale, f"({x}, {y}) numpy")
        assert math.isclose(float(surface.value(x, y, SCALAR)), float(v), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("name", KINDS)
def test_gradient_matches_torch_autograd(name: str) -> None:
    surface = get_surface(name)
    points = random_points(surface, seed=1)
    pts = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    values = surface.value_torch(pts)
    assert values.dtype == torch.float64
    (auto,) = torch.autograd.grad(values.sum(), pts)
    gx, gy = surface.grad(pts[:, 0].detach(), pts[:, 1].detach(), torch_math())
    ours = torch.stack(torch.broadcast_tensors(gx, gy), dim=-1)
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), auto.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.numpy(), surface.grad_np(points), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(values.detach().numpy(), surface.value_np(points), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", KINDS)
def test_minima_have_min_value_and_zero_gradient(name: str) -> None:
    surface = get_surface(name)
    if not surface.minima:
        assert name in ("saddle", "monkey_saddle", "custom")
        return
    assert surface.min_value is not None
    for x, y in surface.minima:
        for xp in (SCALAR, NUMPY):
            v = float(surface.value(np.float64(x) if xp is NUMPY else x, y, xp))
            assert math.isclose(v, surface.min_value, rel_tol=1e-12, abs_tol=1e-12), (x, y, v)
            gx, gy = surface.grad(x, y, xp)
            assert abs(gx) < 1e-9 and abs(gy) < 1e-9, (x, y, gx, gy)
        # No point on a grid over the domain is lower than the global minimum.
        _, _, z = surface.grid(101)
        assert np.nanmin(z) >= surface.min_value - 1e-9


@pytest.mark.parametrize("name", KINDS)
def test_metadata(name: str) -> None:
    kind = SURFACES[name]
    surface = kind.make()
    assert kind.name == name == surface.name
    assert kind.title and kind.description and kind.formula
    assert "\n" not in kind.description
    (x0, x1), (y0, y1) = surface.domain
    assert x0 < x1 and y0 < y1
    sx, sy = surface.start
    assert x0 < sx < x1 and y0 < sy < y1, "start must lie inside the domain"
    for mx, my in surface.minima:
        assert x0 <= mx <= x1 and y0 <= my <= y1, "minima must lie inside the default domain"
        assert math.hypot(sx - mx, sy - my) > 0.1 * min(x1 - x0, y1 - y0), "start too close to a minimum"
    gx, gy = surface.grad(sx, sy, SCALAR)
    assert math.hypot(gx, gy) > 1e-3, "start must be on a slope"
    assert abs(gx) > 1e-9 and abs(gy) > 1e-9, "start must not sit where one gradient component vanishes"
    assert kind.schema.params[-1] is NOISE_PARAM
    assert surface.noise == 0.0
    assert set(surface.params) == set(kind.schema.names)


def test_log_scale_defaults() -> None:
    on = {name for name in KINDS if get_surface(name).log_scale}
    assert on == {"rosenbrock", "beale", "goldstein_price"}


def test_registry_names_and_order() -> None:
    required = {
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "booth",
        "matyas",
        "three_hump_camel",
        "six_hump_camel",
        "goldstein_price",
        "styblinski_tang",
        "saddle",
        "monkey_saddle",
        "quadratic",
        "canyon",
        "custom",
    }
    assert set(SURFACES) == required
    assert next(iter(SURFACES)) == "rosenbrock"


@pytest.mark.parametrize(
    ("name", "x", "y", "expected"),
    [
        ("rosenbrock", 1.0, 1.0, 0.0),
        ("rosenbrock", 0.0, 0.0, 1.0),
        ("rosenbrock", -1.0, 2.0, 4.0 + 100.0),
        ("beale", 3.0, 0.5, 0.0),
        ("beale", 0.0, 0.0, 1.5**2 + 2.25**2 + 2.625**2),
        ("himmelblau", 3.0, 2.0, 0.0),
        ("himmelblau", 0.0, 0.0, 121.0 + 49.0),
        ("rastrigin", 0.0, 0.0, 0.0),
        ("rastrigin", 1.0, 1.0, 2.0),
        ("rastrigin", 0.5, 0.0, 0.25 + 20.0),
        ("ackley", 0.0, 0.0, 0.0),
        ("booth", 1.0, 3.0, 0.0),
        ("booth", 0.0, 0.0, 74.0),
        ("matyas", 0.0, 0.0, 0.0),
        ("matyas", 1.0, 1.0, 0.04),
        ("three_hump_camel", 0.0, 0.0, 0.0),
        ("three_hump_camel", 1.0, 1.0, 2.0 - 1.05 + 1.0 / 6.0 + 2.0),
        ("six_hump_camel", 1.0, 1.0, 4.0 - 2.1 + 1.0 / 3.0 + 1.0),
        ("goldstein_price", 0.0, -1.0, 3.0),
        ("goldstein_price", 0.0, 0.0, 600.0),
        ("styblinski_tang", 0.0, 0.0, 0.0),
        ("styblinski_tang", 1.0, -1.0, 0.5 * ((1 - 16 + 5) + (1 - 16 - 5))),
        ("saddle", 1.5, 0.5, 2.0),
        ("monkey_saddle", 1.0, 1.0, -2.0),
        ("quadratic", 0.0, 0.0, 0.0),
        ("canyon", 0.0, 0.0, 0.0),
        ("canyon", math.pi / 2, 1.0, 0.05 * (math.pi / 2) ** 2),
    ],
)
def test_known_values(name: str, x: float, y: float, expected: float) -> None:
    surface = get_surface(name)
    assert math.isclose(surface.value(x, y, SCALAR), expected, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(float(surface.value_np(np.array([x, y]))), expected, rel_tol=1e-12, abs_tol=1e-12)


def test_saddles_are_exact() -> None:
    saddle = get_surface("saddle")
    monkey = get_surface("monkey_saddle")
    pts = random_points(saddle, n=200, seed=3)
    x, y = pts[:, 0], pts[:, 1]
    assert np.array_equal(saddle.value_np(pts), x * x - y * y)
    assert np.array_equal(saddle.grad_np(pts), np.stack([2 * x, -2 * y], axis=-1))
    np.testing.assert_allclose(monkey.value_np(pts), x**3 - 3 * x * y**2, rtol=1e-13, atol=1e-13)
    assert saddle.minima == () and saddle.min_value is None
    assert monkey.minima == () and monkey.min_value is None


def test_ackley_origin_is_finite_on_every_backend() -> None:
    ackley = get_surface("ackley")
    assert ackley.value(0.0, 0.0, SCALAR) == 0.0
    assert ackley.grad(0.0, 0.0, SCALAR) == (0.0, 0.0)
    z = np.zeros(3)
    assert np.all(ackley.value(z, z, NUMPY) == 0.0)
    gx, gy = ackley.grad(z, z, NUMPY)
    assert np.all(gx == 0.0) and np.all(gy == 0.0)
    pts = torch.zeros((2, 2), dtype=torch.float64, requires_grad=True)
    value = ackley.value_torch(pts)
    (auto,) = torch.autograd.grad(value.sum(), pts)
    assert torch.all(value == 0.0) and torch.all(torch.isfinite(auto))
    tgx, tgy = ackley.grad(pts[:, 0].detach(), pts[:, 1].detach(), torch_math())
    assert torch.all(tgx == 0.0) and torch.all(tgy == 0.0)


def test_parameters_change_the_surface() -> None:
    soft = get_surface("rosenbrock", {"b": 10.0})
    hard = get_surface("rosenbrock")
    assert soft.value(0.0, 1.0, SCALAR) == 1.0 + 10.0
    assert hard.value(0.0, 1.0, SCALAR) == 1.0 + 100.0
    shifted = get_surface("rosenbrock", {"a": -1.0})
    assert shifted.minima == ((-1.0, 1.0),)
    assert shifted.value(-1.0, 1.0, SCALAR) == 0.0

    # Unrotated, the quadratic is ½(x² + κy²): κ is the ratio of the curvatures.
    for kappa in (1.0, 50.0, 1e4):
        q = get_surface("quadratic", {"condition": kappa, "rotation": 0.0})
        assert math.isclose(q.value(1.0, 0.0, SCALAR), 0.5)
        assert math.isclose(q.value(0.0, 1.0, SCALAR), 0.5 * kappa)
    # Rotation by θ turns the shallow axis to angle θ; the Hessian's eigenvalues stay 1 and κ.
    q = get_surface("quadratic", {"condition": 50.0, "rotation": 30.0})
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    assert math.isclose(q.value(c, s, SCALAR), 0.5)
    assert math.isclose(q.value(-s, c, SCALAR), 25.0)
    hxx, hxy = q.grad(1.0, 0.0, SCALAR)
    _, hyy = q.grad(0.0, 1.0, SCALAR)
    eig = np.linalg.eigvalsh(np.array([[hxx, hxy], [hxy, hyy]]))
    np.testing.assert_allclose(eig, [1.0, 50.0])

    assert get_surface("rastrigin", {"A": 0.0}).value(0.5, 0.0, SCALAR) == 0.25
    narrow = get_surface("canyon", {"width": 0.1})
    wide = get_surface("canyon", {"width": 1.0})
    assert narrow.value(0.0, 0.5, SCALAR) == pytest.approx(100 * wide.value(0.0, 0.5, SCALAR))


def test_string_overrides_are_parsed() -> None:
    surface = get_surface("rosenbrock", {"b": "10", "noise": "0.5"})
    assert surface.params["b"] == 10.0
    assert surface.noise == 0.5


def test_unknown_surface_is_a_clear_error() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_surface("rosenbrok")
    message = str(err.value)
    assert "unknown surface 'rosenbrok'" in message
    assert "rosenbrock" in message
    assert "optviz list surfaces" in message
    with pytest.raises(UnknownNameError, match="unknown surface 'nope'"):
        get_surface("nope")


def test_names_forgive_case_and_dashes() -> None:
    assert get_surface("Three-Hump-Camel").name == "three_hump_camel"


def test_unknown_parameter_is_a_clear_error() -> None:
    with pytest.raises(UnknownNameError, match=r"rosenbrock has no parameter 'c' \(valid: a, b, noise\)"):
        get_surface("rosenbrock", {"c": 1.0})


@pytest.mark.parametrize(
    ("name", "overrides", "fragment"),
    [
        ("rosenbrock", {"b": 1e6}, "b=1e+06 is out of range"),
        ("quadratic", {"condition": 0.5}, "condition=0.5 is out of range"),
        ("quadratic", {"rotation": "ninety"}, "is not a number"),
        ("rastrigin", {"noise": -1.0}, "noise=-1 is out of range"),
        ("canyon", {"width": float("nan")}, "out of range"),
        ("custom", {"xmin": 5.0}, "xmin=5 must be less than xmax=3"),
    ],
)
def test_out_of_range_parameters_raise(name: str, overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueOutOfRangeError) as err:
        get_surface(name, overrides)
    assert fragment in str(err.value)


def test_grid_shape_and_values() -> None:
    surface = get_surface("booth")
    xs, ys, z = surface.grid(5)
    assert z.shape == (5, 5)
    assert z[0, 0] == surface.value(xs[0], ys[0], SCALAR)
    assert z[4, 1] == surface.value(xs[1], ys[4], SCALAR)
