"""The built-in closed-form loss surfaces, each with its analytic gradient.

Every `value`/`grad` below uses only arithmetic operators and `xp.<fn>` calls, so one definition serves
Python floats (`SCALAR`, the race engine's hot loop for a single start), numpy arrays (batches of starts,
grids) and torch tensors (autograd, Hessian-vector products). That is also why they are written as
`x * x` rather than `x ** 2` and keep no temporaries beyond locals: on floats a race of 1000 steps calls
`grad` 1000 times and must stay in the low milliseconds.

Minima coordinates are the float64 roots of the gradient (refined with 40-digit Newton iterations), so
`value` at a listed minimum equals `min_value` to round-off and `grad` there is ~0.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, ClassVar

from optviz.core.params import Param, Schema, Value
from optviz.core.surfaces.base import NOISE_PARAM, Domain, Point, Surface, SurfaceKind

_PI = math.pi
_TWO_PI = 2.0 * math.pi
_E = math.e


class AnalyticSurface(Surface):
    """A closed-form surface whose registry entry is described by class attributes.

    Subclasses set `name`, `title`, `description`, `formula` and `parameters` (their own `Param`s, without
    noise: the registry appends `NOISE_PARAM` to every schema) and accept those parameters as keyword
    arguments, so `Rosenbrock(b=10.0)` works without the registry and `kind().make(...)` works through it.
    """

    description: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    parameters: ClassVar[tuple[Param, ...]] = ()

    @classmethod
    def kind(cls) -> SurfaceKind:
        """The registry entry for this class: schema = its parameters followed by the noise parameter."""
        names = tuple(p.name for p in cls.parameters)

        def build(values: dict[str, Value]) -> Surface:
            return cls(**{n: values[n] for n in names})

        schema = Schema(cls.name, (*cls.parameters, NOISE_PARAM))
        return SurfaceKind(cls.name, cls.title, cls.description, schema, build, formula=cls.formula)


class Rosenbrock(AnalyticSurface):
    name = "rosenbrock"
    title = "Rosenbrock"
    description = "The classic banana valley: finding the valley is easy, following it to the minimum is not."
    formula = "f = (a − x)² + b·(y − x²)²,  minimum (a, a²)"
    parameters = (
        Param("a", 1.0, low=-1.5, high=1.5, help="minimum at (a, a²)"),
        Param("b", 100.0, low=1.0, high=1000.0, scale="log", help="steepness of the valley walls"),
    )
    domain: Domain = ((-2.0, 2.0), (-1.0, 3.0))
    min_value = 0.0
    start: Point = (-1.5, 2.0)
    log_scale = True

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = float(a)
        self.b = float(b)
        self.minima = ((self.a, self.a * self.a),)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        u = self.a - x
        v = y - x * x
        return u * u + self.b * v * v

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        v = y - x * x
        bv2 = 2.0 * self.b * v
        return -2.0 * (self.a - x) - 2.0 * x * bv2, bv2


class Quadratic(AnalyticSurface):
    name = "quadratic"
    title = "Ill-conditioned quadratic"
    description = "A rotated elliptic bowl: the condition number sets how much plain gradient descent zigzags."
    formula = (
        "f = ½·(u² + κ·v²),  u = x·cos θ + y·sin θ,  v = −x·sin θ + y·cos θ  "
        "(Hessian eigenvalues 1 and κ, stiff axis at θ + 90°)"
    )
    parameters = (
        Param("condition", 50.0, low=1.0, high=1e4, scale="log", help="condition number κ of the Hessian"),
        Param("rotation", 30.0, low=-90.0, high=90.0, help="angle θ of the shallow axis, in degrees"),
    )
    domain: Domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (-1.6, -1.3)

    def __init__(self, condition: float = 50.0, rotation: float = 30.0) -> None:
        self.condition = float(condition)
        self.rotation = float(rotation)
        c = math.cos(math.radians(self.rotation))
        s = math.sin(math.radians(self.rotation))
        k = self.condition
        # Expanded once here so value/grad are three multiply-adds: f = ½(hxx·x² + hyy·y²) + hxy·x·y.
        self._hxx = c * c + k * s * s
        self._hyy = s * s + k * c * c
        self._hxy = (1.0 - k) * c * s

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return 0.5 * (self._hxx * x * x + self._hyy * y * y) + self._hxy * x * y

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return self._hxx * x + self._hxy * y, self._hxy * x + self._hyy * y


class Canyon(AnalyticSurface):
    name = "canyon"
    title = "Winding canyon"
    description = "A narrow valley that follows y = sin x and slopes gently to the origin: momentum overshoots bends."
    formula = "f = ½·((y − sin x) / w)² + x²/20,  minimum (0, 0); w is the canyon half-width where f rises by ½"
    parameters = (Param("width", 0.3, low=0.02, high=2.0, scale="log", help="half-width w of the canyon"),)
    domain: Domain = ((-4.0, 4.0), (-2.5, 2.5))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (-3.5, -0.5)

    def __init__(self, width: float = 0.3) -> None:
        self.width = float(width)
        self._k = 1.0 / (self.width * self.width)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        d = y - xp.sin(x)
        return 0.5 * self._k * d * d + 0.05 * x * x

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        kd = self._k * (y - xp.sin(x))
        return 0.1 * x - kd * xp.cos(x), kd


class Beale(AnalyticSurface):
    name = "beale"
    title = "Beale"
    description = "Sharp ridges and a wide flat plateau around a minimum at (3, 0.5)."
    formula = "f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²"
    domain: Domain = ((-4.5, 4.5), (-4.5, 4.5))
    minima: tuple[Point, ...] = ((3.0, 0.5),)
    min_value = 0.0
    start: Point = (0.7, 1.4)
    log_scale = True

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        y2 = y * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y2 * y
        return t1 * t1 + t2 * t2 + t3 * t3

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        y2 = y * y
        y3 = y2 * y
        t1 = 2.0 * (1.5 - x + x * y)
        t2 = 2.0 * (2.25 - x + x * y2)
        t3 = 2.0 * (2.625 - x + x * y3)
        gx = t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0)
        gy = x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return gx, gy


class Himmelblau(AnalyticSurface):
    name = "himmelblau"
    title = "Himmelblau"
    description = "Four equal minima: which one an optimizer reaches depends on its path."
    formula = "f = (x² + y − 11)² + (x + y² − 7)²"
    domain: Domain = ((-5.0, 5.0), (-5.0, 5.0))
    minima: tuple[Point, ...] = (
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644036),
    )
    min_value = 0.0
    start: Point = (0.3, -0.9)  # near the central maximum (-0.27, -0.92): SGD and Adam end in different basins

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return u * u + v * v

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        u = 2.0 * (x * x + y - 11.0)
        v = 2.0 * (x + y * y - 7.0)
        return 2.0 * x * u + v, u + 2.0 * y * v


class Booth(AnalyticSurface):
    name = "booth"
    title = "Booth"
    description = "A tilted quadratic bowl with condition number 9; minimum at (1, 3)."
    formula = "f = (x + 2y − 7)² + (2x + y − 5)²"
    domain: Domain = ((-10.0, 10.0), (-10.0, 10.0))
    minima: tuple[Point, ...] = ((1.0, 3.0),)
    min_value = 0.0
    start: Point = (-6.0, 8.0)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        u = x + 2.0 * y - 7.0
        v = 2.0 * x + y - 5.0
        return u * u + v * v

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        u = 2.0 * (x + 2.0 * y - 7.0)
        v = 2.0 * (2.0 * x + y - 5.0)
        return u + 2.0 * v, 2.0 * u + v


class Matyas(AnalyticSurface):
    name = "matyas"
    title = "Matyas"
    description = "A nearly flat plate (condition number 25) along the diagonal; minimum at the origin."
    formula = "f = 0.26·(x² + y²) − 0.48·xy"
    domain: Domain = ((-10.0, 10.0), (-10.0, 10.0))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (8.0, 4.0)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return 0.26 * (x * x + y * y) - 0.48 * x * y

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


class ThreeHumpCamel(AnalyticSurface):
    name = "three_hump_camel"
    title = "Three-hump camel"
    description = "A global minimum at the origin flanked by two local minima near (±1.75, ∓0.87)."
    formula = "f = 2x² − 1.05x⁴ + x⁶/6 + xy + y²"
    domain: Domain = ((-2.5, 2.5), (-2.5, 2.5))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (1.8, 1.5)  # small steps settle in the local minimum (1.75, −0.87)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        x2 = x * x
        return x2 * (2.0 - 1.05 * x2 + x2 * x2 / 6.0) + x * y + y * y

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        x2 = x * x
        return x * (4.0 - 4.2 * x2 + x2 * x2) + y, x + 2.0 * y


class SixHumpCamel(AnalyticSurface):
    name = "six_hump_camel"
    title = "Six-hump camel"
    description = "Six local minima, two of them global and mirror images of each other."
    formula = "f = (4 − 2.1x² + x⁴/3)·x² + xy + (4y² − 4)·y²"
    domain: Domain = ((-2.0, 2.0), (-1.2, 1.2))
    minima: tuple[Point, ...] = (
        (0.08984201310031806, -0.7126564030207396),
        (-0.08984201310031806, 0.7126564030207396),
    )
    min_value = -1.0316284534898774
    start: Point = (-1.0, -1.1)  # plain descent and momentum reach different minima

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        x2 = x * x
        y2 = y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        x2 = x * x
        return x * (8.0 - 8.4 * x2 + 2.0 * x2 * x2) + y, x + y * (16.0 * y * y - 8.0)


class GoldsteinPrice(AnalyticSurface):
    name = "goldstein_price"
    title = "Goldstein–Price"
    description = "Values from 3 to a million: a deep narrow minimum at (0, −1) among several local ones."
    formula = (
        "f = [1 + (x + y + 1)²·(19 − 14x + 3x² − 14y + 6xy + 3y²)]"
        " · [30 + (2x − 3y)²·(18 − 32x + 12x² + 48y − 36xy + 27y²)]"
    )
    domain: Domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple[Point, ...] = ((0.0, -1.0),)
    min_value = 3.0
    start: Point = (-0.6, 0.6)  # a local minimum (−0.6, −0.4) sits on the way down
    log_scale = True

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        s = x + y + 1.0
        u = 2.0 * x - 3.0 * y
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        return (1.0 + s * s * p) * (30.0 + u * u * q)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        s = x + y + 1.0
        u = 2.0 * x - 3.0 * y
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        a = 1.0 + s * s * p
        b = 30.0 + u * u * q
        # dp/dx = dp/dy = −14 + 6x + 6y and ds/dx = ds/dy = 1, so dA/dx = dA/dy.
        da = s * (2.0 * p + s * (6.0 * x + 6.0 * y - 14.0))
        uu = u * u
        dbx = 4.0 * u * q + uu * (24.0 * x - 36.0 * y - 32.0)
        dby = -6.0 * u * q + uu * (54.0 * y - 36.0 * x + 48.0)
        return da * b + a * dbx, da * b + a * dby


class StyblinskiTang(AnalyticSurface):
    name = "styblinski_tang"
    title = "Styblinski–Tang"
    description = "Separable with four basins: the global minimum near (−2.90, −2.90), a local one near (2.75, 2.75)."
    formula = "f = ½·(x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)"
    domain: Domain = ((-5.0, 5.0), (-5.0, 5.0))
    minima: tuple[Point, ...] = ((-2.903534027771177, -2.903534027771177),)
    min_value = -78.33233140754282
    start: Point = (4.5, -4.0)  # x slides into the shallower basin unless momentum carries it over

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        x2 = x * x
        y2 = y * y
        return 0.5 * (x2 * x2 - 16.0 * x2 + 5.0 * x + y2 * y2 - 16.0 * y2 + 5.0 * y)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return x * (2.0 * x * x - 16.0) + 2.5, y * (2.0 * y * y - 16.0) + 2.5


class Rastrigin(AnalyticSurface):
    name = "rastrigin"
    title = "Rastrigin"
    description = "A bowl covered in a regular grid of local minima; A sets the height of the bumps."
    formula = "f = 2A + x² − A·cos(2πx) + y² − A·cos(2πy)"
    parameters = (Param("A", 10.0, low=0.0, high=40.0, help="amplitude of the cosine bumps"),)
    domain: Domain = ((-5.12, 5.12), (-5.12, 5.12))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (3.3, -2.6)

    def __init__(self, A: float = 10.0) -> None:
        self.A = float(A)
        self._g = _TWO_PI * self.A

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        a = self.A
        return (x * x + y * y) + a * ((1.0 - xp.cos(_TWO_PI * x)) + (1.0 - xp.cos(_TWO_PI * y)))

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        g = self._g
        return 2.0 * x + g * xp.sin(_TWO_PI * x), 2.0 * y + g * xp.sin(_TWO_PI * y)


class Ackley(AnalyticSurface):
    name = "ackley"
    title = "Ackley"
    description = "A nearly flat, bumpy plain with one deep funnel at the origin."
    formula = "f = −20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20"
    domain: Domain = ((-4.0, 4.0), (-4.0, 4.0))
    minima: tuple[Point, ...] = ((0.0, 0.0),)
    min_value = 0.0
    start: Point = (1.6, -1.3)  # two rings out: most optimizers stall in a local pit

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        r2 = 0.5 * (x * x + y * y)
        pos = r2 > 0.0
        # The tip of the cone: sqrt'(0) is infinite, so torch autograd of this value would give nan at the
        # origin. Taking the sqrt of a safe stand-in and selecting 0 there keeps value and autograd finite.
        r = xp.where(pos, xp.sqrt(xp.where(pos, r2, 1.0)), 0.0)
        # Grouped so the origin gives exactly 0: (20 − 20·1) + (e − exp(1)).
        return (20.0 - 20.0 * xp.exp(-0.2 * r)) + (_E - xp.exp(0.5 * (xp.cos(_TWO_PI * x) + xp.cos(_TWO_PI * y))))

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        r2 = 0.5 * (x * x + y * y)
        # d/dx of the cone is 2x·exp(−0.2r)/r, a 0/0 at the origin; use r = 1 there (x = y = 0 make it 0),
        # i.e. the subgradient 0 at the minimum.
        r = xp.sqrt(xp.where(r2 > 0.0, r2, 1.0))
        k = 2.0 * xp.exp(-0.2 * r) / r
        c = _PI * xp.exp(0.5 * (xp.cos(_TWO_PI * x) + xp.cos(_TWO_PI * y)))
        return x * k + c * xp.sin(_TWO_PI * x), y * k + c * xp.sin(_TWO_PI * y)


class Saddle(AnalyticSurface):
    name = "saddle"
    title = "Saddle"
    description = "f = x² − y²: unbounded below; shows how fast each optimizer escapes a saddle point."
    formula = "f = x² − y²"
    domain: Domain = ((-2.0, 2.0), (-2.0, 2.0))
    start: Point = (-1.8, 0.05)  # just off the ridge y = 0, where the escape direction has a tiny gradient

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return x * x - y * y

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return 2.0 * x, -2.0 * y


class MonkeySaddle(AnalyticSurface):
    name = "monkey_saddle"
    title = "Monkey saddle"
    description = "f = x³ − 3xy²: a flat degenerate saddle (zero Hessian) with three ways down."
    formula = "f = x³ − 3xy²"
    domain: Domain = ((-1.5, 1.5), (-1.5, 1.5))
    start: Point = (1.2, 0.15)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return x * (x * x - 3.0 * y * y)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return 3.0 * (x * x - y * y), -6.0 * x * y


#: In display order.
ANALYTIC_SURFACES: tuple[type[AnalyticSurface], ...] = (
    Rosenbrock,
    Quadratic,
    Canyon,
    Beale,
    Himmelblau,
    Booth,
    Matyas,
    ThreeHumpCamel,
    SixHumpCamel,
    GoldsteinPrice,
    StyblinskiTang,
    Rastrigin,
    Ackley,
    Saddle,
    MonkeySaddle,
)


def analytic_kinds() -> list[SurfaceKind]:
    """Registry entries for the closed-form surfaces, in display order."""
    return [cls.kind() for cls in ANALYTIC_SURFACES]
