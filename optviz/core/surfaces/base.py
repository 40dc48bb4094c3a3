"""The `Surface` interface: what the race engine, the GL view and the exporter need from a loss surface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.mathlib import NUMPY, torch_math
from optviz.core.params import Param, Schema, Value
from optviz.core.surfaces import reverse

Point = tuple[float, float]
Domain = tuple[tuple[float, float], tuple[float, float]]

#: Every surface kind gets this parameter: Gaussian gradient noise of this standard deviation, seeded by the race.
NOISE_PARAM = Param(
    "noise", 0.0, low=0.0, high=100.0, help="standard deviation of Gaussian noise added to each gradient (seeded)"
)


class Surface(ABC):
    """A loss surface f(x, y) with its gradient, for batches of points on any math backend.

    Subclasses implement `value` and `grad` with `xp` functions only (see `optviz.core.mathlib`), so the same
    code runs on floats, numpy arrays and torch tensors. `grad` is analytic (or forward-mode autodiff for
    formulas) and is tested against finite differences and against torch autograd of `value`.
    """

    name: str = ""
    title: str = ""
    domain: Domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple[Point, ...] = ()
    min_value: float | None = None
    start: Point = (0.0, 0.0)
    log_scale: bool = False
    noise: float = 0.0
    params: Mapping[str, Value] = {}

    @abstractmethod
    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        """f(x, y), elementwise over x and y."""

    @abstractmethod
    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        """(df/dx, df/dy), elementwise over x and y."""

    def hvp(self, x: Any, y: Any, vx: Any, vy: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        """The Hessian at (x, y) times (vx, vy), elementwise over points, on floats or numpy arrays.

        What torch's double backward through `grad` gives the library optimizers (AdaHessian, Sophia-H), to
        the last bit: `grad` itself runs on a tape of the nodes torch would record and is walked backwards as
        torch's engine walks them (`reverse.py`), so every surface written on `xp` has it without a Hessian
        of its own.
        """
        return reverse.hvp(self.grad, x, y, vx, vy, xp)

    # Conveniences on numpy arrays of shape (..., 2).
    def value_np(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.asarray(self.value(points[..., 0], points[..., 1], NUMPY), dtype=np.float64)

    def grad_np(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        with np.errstate(all="ignore"):
            gx, gy = self.grad(points[..., 0], points[..., 1], NUMPY)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1).astype(np.float64)

    def value_torch(self, points):
        """f at torch points of shape (..., 2); differentiable (autograd, Hessian-vector products)."""
        return self.value(points[..., 0], points[..., 1], torch_math())

    def grid(self, n: int, domain: Domain | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs, ys, Z) with Z[j, i] = f(xs[i], ys[j]) over the domain, for drawing."""
        (x0, x1), (y0, y1) = domain or self.domain
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y0, y1, n)
        X, Y = np.meshgrid(xs, ys)
        with np.errstate(all="ignore"):
            Z = np.asarray(self.value(X, Y, NUMPY), dtype=np.float64) * np.ones_like(X)
        return xs, ys, Z

    def distance_to_minimum(self, points: np.ndarray) -> np.ndarray:
        """Euclidean distance from each point (..., 2) to the nearest known global minimum (inf if none known)."""
        points = np.asarray(points, dtype=np.float64)
        if not self.minima:
            return np.full(points.shape[:-1], np.inf)
        # One minimum at a time: no (..., minima, 2) temporary, which dominated scoring a large sweep.
        x, y = points[..., 0], points[..., 1]
        nearest = None
        for mx, my in self.minima:
            d = np.hypot(x - mx, y - my)
            nearest = d if nearest is None else np.minimum(nearest, d, out=nearest)
        return nearest


@dataclass(frozen=True)
class SurfaceKind:
    """A registry entry: a named family of surfaces and the schema of its parameters."""

    name: str
    title: str
    description: str
    schema: Schema
    build: Callable[[dict[str, Value]], Surface] = field(repr=False)
    formula: str = ""  # the closed form, for docs and the surface panel

    def make(self, overrides: Mapping[str, object] | None = None) -> Surface:
        values = self.schema.resolve(overrides or {})
        surface = self.build(values)
        surface.name = self.name
        surface.title = surface.title or self.title
        surface.noise = float(values.get("noise", 0.0))
        surface.params = values
        return surface
