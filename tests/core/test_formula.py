"""The custom-formula parser, its forward-mode gradients, its errors and its behaviour on each backend."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from optviz.core.errors import FormulaError
from optviz.core.mathlib import NUMPY, SCALAR, torch_math
from optviz.core.surfaces import get_surface, parse_formula
from optviz.core.surfaces.formula import MAX_DEPTH, MAX_LENGTH, FormulaSurface


def f(text: str, x: float = 0.0, y: float = 0.0) -> float:
    return parse_formula(text).value(x, y, SCALAR)


# ------------------------------------------------------------------------------------- precedence, numbers


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("2^3^2", 0.0, 512.0),
        ("2**3**2", 0.0, 512.0),
        ("2^3**2", 0.0, 512.0),
        ("(2^3)^2", 0.0, 64.0),
        ("-x^2", 3.0, -9.0),
        ("-x**2", 3.0, -9.0),
        ("(-x)^2", 3.0, 9.0),
        ("-2^2", 0.0, -4.0),
        ("2^-1", 0.0, 0.5),
        ("2^-x^2", 1.0, 0.5),
        ("-2^-2", 0.0, -0.25),
        ("1-2-3", 0.0, -4.0),
        ("8/4/2", 0.0, 1.0),
        ("2*3+4*5", 0.0, 26.0),
        ("2+3*4^2", 0.0, 50.0),
        ("2*-3", 0.0, -6.0),
        ("2--3", 0.0, 5.0),
        ("--x", 7.0, 7.0),
        ("+x", 7.0, 7.0),
        ("x - -x", 2.0, 4.0),
        ("12/3*2", 0.0, 8.0),
        ("(1 + 2) * (3 + 4)", 0.0, 21.0),
        ("1e-3", 0.0, 0.001),
        ("2.5E+2", 0.0, 250.0),
        (".5", 0.0, 0.5),
        ("5.", 0.0, 5.0),
        ("pi", 0.0, math.pi),
        ("e", 0.0, math.e),
        ("2*pi*x", 0.5, math.pi),
        ("\tx  +\n1 ", 1.0, 2.0),
    ],
)
def test_precedence_associativity_and_numbers(text: str, x: float, expected: float) -> None:
    assert f(text, x) == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_variables() -> None:
    assert f("x", 2.0, 5.0) == 2.0
    assert f("y", 2.0, 5.0) == 5.0
    assert f("x/y", 1.0, 4.0) == 0.25


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin(0.3)", math.sin(0.3)),
        ("cos(0.3)", math.cos(0.3)),
        ("tan(0.3)", math.tan(0.3)),
        ("exp(0.3)", math.exp(0.3)),
        ("log(0.3)", math.log(0.3)),
        ("sqrt(0.3)", math.sqrt(0.3)),
        ("abs(-0.3)", 0.3),
        ("tanh(0.3)", math.tanh(0.3)),
        ("sigmoid(0.3)", 1.0 / (1.0 + math.exp(-0.3))),
        ("sigmoid(-800)", 0.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("min(4, 5)", 4.0),
        ("max(-1, -2, -3, -0.5)", -0.5),
        ("max(1, min(2, 3), 0)", 2.0),
        ("sin(pi/2)^2 + cos(0)", 2.0),
        ("exp(log(5))", 5.0),
    ],
)
def test_functions(text: str, expected: float) -> None:
    assert f(text) == pytest.approx(expected, rel=1e-14, abs=1e-300)


def test_min_max_of_variables() -> None:
    formula = parse_formula("min(x, y, 1) + max(x, y, -1)")
    assert formula.value(3.0, 2.0, SCALAR) == 1.0 + 3.0
    assert formula.value(-3.0, -2.0, SCALAR) == -3.0 + -1.0
    xs = np.array([3.0, -3.0, 0.5])
    ys = np.array([2.0, -2.0, 0.25])
    np.testing.assert_array_equal(formula.value(xs, ys, NUMPY), [4.0, -4.0, 0.75])


# -------------------------------------------------------------------------------------------------- gradients

GRADIENT_BANK = [
    "x^2 + 3*y^2",
    "x*y",
    "sin(x)*cos(y) + 0.1*(x^2 + y^2)",
    "tan(x/3) + y",
    "exp(-(x^2 + y^2))",
    "abs(x) + abs(y - 0.3)",
    "abs(x*y - 0.5)",
    "max(x, y)",
    "max(x^2, y, 0.5)",
    "min(x, y^2, 1.5)",
    "sigmoid(3*x - y)",
    "tanh(x*y)",
    "log(1 + x^2 + y^2)",
    "sqrt(1 + x^2 + y^2)",
    "x / (1 + y^2)",
    "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    "2^x + x^3 - y^-2",
    "(x^2 + 1)^(y/3)",
    "e^(x/2) * pi",
    "-x^2 - -y",
    "3",
    "x",
]


def fd_grad(formula, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    h = 1e-6

    def v(a: float, b: float) -> float:
        return formula.value(a, b, SCALAR)

    return (v(x + h, y) - v(x - h, y)) / (2 * h), (v(x, y + h) - v(x, y - h)) / (2 * h)


def bank_points(n: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-2.0, 2.0, size=(n, 2))


@pytest.mark.parametrize("text", GRADIENT_BANK)
def test_gradient_matches_finite_differences(text: str) -> None:
    formula = parse_formula(text)
    for x, y in bank_points():
        x, y = float(x), float(y)
        value, gx, gy = formula.value_and_grad(x, y, SCALAR)
        assert isinstance(value, float) and isinstance(gx, float) and isinstance(gy, float)
        fx, fy = fd_grad(formula, x, y)
        scale = max(1.0, abs(value))
        assert gx == pytest.approx(fx, rel=1e-5, abs=1e-6 * scale), (text, x, y)
        assert gy == pytest.approx(fy, rel=1e-5, abs=1e-6 * scale), (text, x, y)


@pytest.mark.parametrize("text", GRADIENT_BANK)
def test_backends_agree_and_match_torch_autograd(text: str) -> None:
    formula = parse_formula(text)
    pts = bank_points(seed=1)
    scalar = np.array([formula.value_and_grad(float(x), float(y), SCALAR) for x, y in pts])
    numpy = np.stack(np.broadcast_arrays(*formula.value_and_grad(pts[:, 0], pts[:, 1], NUMPY)), axis=-1)
    assert numpy.shape == (len(pts), 3)
    np.testing.assert_allclose(numpy, scalar, rtol=1e-12, atol=1e-12)

    t = torch.tensor(pts, dtype=torch.float64, requires_grad=True)
    tv, tgx, tgy = formula.value_and_grad(t[:, 0], t[:, 1], torch_math())
    for out in (tv, tgx, tgy):
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64 and out.shape == (len(pts),)
    ours = torch.stack([tv, tgx, tgy], dim=-1).detach().numpy()
    np.testing.assert_allclose(ours, scalar, rtol=1e-12, atol=1e-12)
    (auto,) = torch.autograd.grad(tv.sum(), t, allow_unused=True)
    auto = np.zeros_like(pts) if auto is None else auto.numpy()
    np.testing.assert_allclose(np.stack([tgx.detach(), tgy.detach()], -1), auto, rtol=1e-10, atol=1e-12)


def test_gradients_pick_the_active_branch() -> None:
    m = parse_formula("max(x, y)")
    assert m.grad(2.0, 1.0, SCALAR) == (1.0, 0.0)
    assert m.grad(1.0, 2.0, SCALAR) == (0.0, 1.0)
    m = parse_formula("min(x, y, 0.5)")
    assert m.grad(2.0, 1.0, SCALAR) == (0.0, 0.0)
    assert m.grad(-2.0, 1.0, SCALAR) == (1.0, 0.0)
    a = parse_formula("abs(x) + 2*abs(y)")
    assert a.grad(-3.0, 4.0, SCALAR) == (-1.0, 2.0)
    assert a.grad(0.0, 0.0, SCALAR) == (0.0, 0.0)  # the subgradient 0 at the kink
    gx, gy = parse_formula("max(x, 0)").grad(np.array([-1.0, 2.0]), np.array([0.0, 0.0]), NUMPY)
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0])


def test_independent_variable_gradient_is_exactly_zero() -> None:
    # exp(x^2) overflows at x = 30, but its y-derivative must stay 0 rather than inf * 0 = nan.
    value, gx, gy = parse_formula("exp(x^2)").value_and_grad(30.0, 1.0, SCALAR)
    assert value == math.inf and gx == math.inf and gy == 0.0


def test_constant_and_single_variable_formulas_have_the_inputs_shape() -> None:
    xs = np.linspace(-1, 1, 6).reshape(2, 3)
    ys = np.zeros((2, 3))
    v, gx, gy = parse_formula("3").value_and_grad(xs, ys, NUMPY)
    assert v.shape == gx.shape == gy.shape == (2, 3)
    assert np.all(v == 3.0) and np.all(gx == 0.0) and np.all(gy == 0.0)
    v, gx, gy = parse_formula("x").value_and_grad(xs, ys, NUMPY)
    assert np.array_equal(v, xs) and np.all(gx == 1.0) and gx.shape == (2, 3) and np.all(gy == 0.0)
    t = torch.zeros(4, dtype=torch.float64)
    v, gx, gy = parse_formula("2 + pi").value_and_grad(t, t, torch_math())
    assert v.shape == (4,) and v.dtype == torch.float64 and torch.all(v == 2 + math.pi)
    assert parse_formula("3").value(1.0, 2.0, SCALAR) == 3.0
    assert parse_formula("3").grad(1.0, 2.0, SCALAR) == (0.0, 0.0)


# -------------------------------------------------------------------------------------- domain errors, scalar


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("log(x)", -1.0, math.nan),
        ("log(x)", 0.0, -math.inf),
        ("sqrt(x)", -1.0, math.nan),
        ("exp(x)", 1000.0, math.inf),
        ("1/x", 0.0, math.inf),
        ("-1/x", 0.0, -math.inf),
        ("x/x", 0.0, math.nan),
        ("x^0.5", -1.0, math.nan),
        ("x^(1/3)", -8.0, math.nan),
        ("x^-1", 0.0, math.inf),
        ("x^3", -1e200, -math.inf),
        ("10^x", 1000.0, math.inf),
        ("sin(exp(x))", 1000.0, math.nan),
        ("cos(x*1e308*10)", 1.0, math.nan),
        ("tan(1/x)", 0.0, math.nan),
        ("sigmoid(x)", -1e308, 0.0),
        ("max(x, log(x))", -1.0, math.nan),
    ],
)
def test_scalar_domain_errors_give_nan_or_inf_like_numpy(text: str, x: float, expected: float) -> None:
    formula = parse_formula(text)
    got = formula.value(x, 0.0, SCALAR)
    with np.errstate(all="ignore"):
        want = float(formula.value(np.array([x]), np.array([0.0]), NUMPY)[0])
    if math.isnan(expected):
        assert math.isnan(got) and math.isnan(want)
    else:
        assert got == expected == want
    formula.value_and_grad(x, 0.0, SCALAR)  # must not raise either
    formula.value_and_grad(torch.tensor([x], dtype=torch.float64), torch.zeros(1, dtype=torch.float64), torch_math())


def test_numpy_domain_errors_do_not_warn() -> None:
    formula = parse_formula("log(x) + sqrt(y) + 1/x")
    with np.errstate(all="raise"):
        v, _, _ = formula.value_and_grad(np.array([-1.0, 0.0]), np.array([-1.0, 0.0]), NUMPY)
        formula.value(np.array([-1.0, 0.0]), np.array([-1.0, 0.0]), NUMPY)
    assert np.isnan(v[0])


# ----------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("", "empty formula", 0),
        ("   ", "empty formula", 0),
        ("z", "unknown name 'z'", 0),
        ("x + z", "unknown name 'z'", 4),
        ("x + 2)", "unexpected ')'", 5),
        ("(x + 2", "missing ')'", 6),
        ("sin(x", "missing ')'", 5),
        ("max(x, (y + 1)", "missing ')'", 14),
        ("x +", "expected a number, x, y, a function or '('", 3),
        ("x * / y", "expected a number, x, y, a function or '('", 4),
        ("x^", "expected a number, x, y, a function or '('", 2),
        ("3 ** ** 2", "expected a number, x, y, a function or '('", 5),
        ("()", "expected a number, x, y, a function or '('", 1),
        ("min(x,)", "expected a number, x, y, a function or '('", 6),
        ("sin(x, y)", "sin takes 1 argument", 0),
        ("cos()", "cos takes 1 argument", 0),
        ("2 + max(x)", "max takes 2 or more arguments", 4),
        ("min()", "min takes 2 or more arguments", 0),
        ("2x", "missing operator before 'x'", 1),
        ("x y", "missing operator before 'y'", 2),
        ("(x)(y)", "missing operator before '('", 3),
        ("pi(2)", "missing operator before '('", 2),
        ("sin x", "expected '(' after sin", 4),
        ("exp", "expected '(' after exp", 3),
        ("x , y", "unexpected ','", 2),
        ("x $ y", "unexpected character '$'", 2),
        ("x²", "unexpected character '²'", 1),
        ("x = 1", "unexpected character '='", 2),
        ("x // 2", "expected a number, x, y, a function or '('", 3),
        ("1e999 * x", "too large", 0),
        ("X + 1", "unknown name 'X'", 0),
        ("sni(x)", "did you mean 'sin'", 0),
        ("__import__('os')", "unknown name '__import__'", 0),
        ("x.__class__", "unexpected character '.'", 1),
        ("os.system('ls')", "unknown name 'os'", 0),
        ("lambda: 0", "unknown name 'lambda'", 0),
        ("[x]", "unexpected character '['", 0),
        ("x; y", "unexpected character ';'", 1),
    ],
)
def test_errors_point_at_the_offending_token(text: str, fragment: str, column: int) -> None:
    with pytest.raises(FormulaError) as err:
        parse_formula(text)
    e = err.value
    assert fragment in str(e), str(e)
    assert e.position == column, (str(e), e.position)
    assert e.formula == text
    assert f"at column {column + 1}" in str(e)
    assert e.pointer() == f"{text}\n{' ' * column}^"


def test_case_hint() -> None:
    with pytest.raises(FormulaError, match="lower case"):
        parse_formula("X")


def test_dotted_numbers() -> None:
    # "1.2.3" reads as 1.2 followed by .3: a missing operator, not a crash.
    with pytest.raises(FormulaError, match=r"missing operator before '\.3'"):
        parse_formula("1.2.3")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4_000 + "x" + ")" * 4_000,
        "-" * 5_000 + "x",
        "2^" * 3_000 + "2",
        "sin(" * 1_000 + "x" + ")" * 1_000,
        "max(x, " * 500 + "y" + ")" * 500,
        "(" * 5_000,
    ],
)
def test_deep_nesting_is_a_formula_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula(text)


def test_nesting_up_to_the_limit_works() -> None:
    depth = MAX_DEPTH - 2
    assert parse_formula("(" * depth + "x" + ")" * depth).value(3.0, 0.0, SCALAR) == 3.0
    assert parse_formula("-" * depth + "x").value(3.0, 0.0, SCALAR) == (3.0 if depth % 2 == 0 else -3.0)


def test_long_flat_formulas_evaluate_without_recursion() -> None:
    text = "+".join(["x"] * 3_000) + "-" + "*".join(["y"] * 1_000)
    assert len(text) < MAX_LENGTH
    formula = parse_formula(text)
    assert formula.value(1.0, 1.0, SCALAR) == 2_999.0
    _, gx, gy = formula.value_and_grad(1.0, 1.0, SCALAR)
    assert gx == 3_000.0 and gy == -1_000.0


def test_too_long_is_a_formula_error() -> None:
    with pytest.raises(FormulaError, match="too long"):
        parse_formula("x+" * MAX_LENGTH + "x")


def test_only_text_is_accepted() -> None:
    with pytest.raises(FormulaError):
        parse_formula(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------- surface


def test_custom_surface_from_the_registry() -> None:
    surface = get_surface("custom", {"formula": "x^2 + y^2", "xmin": "-1", "xmax": "3", "ymin": -2, "ymax": 2})
    assert isinstance(surface, FormulaSurface)
    assert surface.name == "custom"
    assert surface.domain == ((-1.0, 3.0), (-2.0, 2.0))
    assert surface.minima == () and surface.min_value is None and not surface.log_scale
    (x0, x1), (y0, y1) = surface.domain
    sx, sy = surface.start
    assert x0 < sx < x1 and y0 < sy < y1
    assert sx == pytest.approx(1.0 - 0.75 * 2.0)  # 75% of the way from the centre to the left edge
    assert surface.value(1.0, 2.0, SCALAR) == 5.0
    assert surface.grad(1.0, 2.0, SCALAR) == (2.0, 4.0)
    assert surface.formula == "f = x^2 + y^2"
    np.testing.assert_array_equal(surface.grad_np(np.array([[1.0, 2.0], [0.0, 0.0]])), [[2.0, 4.0], [0.0, 0.0]])
    _, _, z = surface.grid(7)
    assert z.shape == (7, 7) and np.all(np.isfinite(z))


def test_custom_surface_default_formula() -> None:
    surface = get_surface("custom")
    assert surface.value(1.0, 1.0, SCALAR) == 4.0
    assert surface.domain == ((-3.0, 3.0), (-3.0, 3.0))


def test_custom_surface_rejects_a_bad_formula() -> None:
    with pytest.raises(FormulaError) as err:
        get_surface("custom", {"formula": "x + z"})
    assert err.value.position == 4


def test_custom_surface_with_a_nan_region_draws_a_grid() -> None:
    surface = get_surface("custom", {"formula": "log(x) + sqrt(y)"})
    _, _, z = surface.grid(9)
    assert np.isnan(z).any() and np.isfinite(z).any()


def test_custom_surface_pickles() -> None:
    surface = get_surface("custom", {"formula": "sin(x) + y^2"})
    clone = pickle.loads(pickle.dumps(surface))
    assert clone.value(0.5, 2.0, SCALAR) == surface.value(0.5, 2.0, SCALAR)
    assert clone.grad(0.5, 2.0, SCALAR) == surface.grad(0.5, 2.0, SCALAR)


@pytest.mark.parametrize("text", ["x/0", "y/0", "(x+1)/(1-1)", "x/(0*2)", "0^(-1)*x", "(-8)^(1/3)*y"])
def test_division_by_a_constant_zero_is_a_value_on_every_backend(text: str) -> None:
    # The derivative of u/0 divides a plain-number seed by a plain-number constant, which Python's `/` refuses
    # even on the array backends: every backend gives inf or NaN instead, and they agree.
    f = parse_formula(text)
    scalar = f.value_and_grad(1.0, 2.0, SCALAR)
    arrays = f.value_and_grad(np.array([1.0]), np.array([2.0]), NUMPY)
    tensors = f.value_and_grad(torch.tensor([1.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64),
                               torch_math())  # fmt: skip
    assert not all(math.isfinite(v) for v in scalar)
    for a, n, t in zip(scalar, arrays, tensors, strict=True):
        np.testing.assert_array_equal(np.float64(a), np.asarray(n).reshape(-1)[0])
        np.testing.assert_array_equal(np.float64(a), t.reshape(-1)[0].item())
