"""`LearnedSurface`: a loss grid computed on a real model, dressed as a `Surface` so the view, the charts and
the exporter draw it exactly like an analytic one.

Between grid nodes it interpolates bilinearly (on numpy arrays and floats). It is a picture of the plane,
not something to optimise on: learned races train the real model in full weight space and only project the
path onto the plane, so the torch backend is refused.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.learn.grid import LossGrid
from optviz.core.surfaces.base import Surface


class LearnedSurface(Surface):
    name = "learned"

    def __init__(self, grid: LossGrid, title: str = "", log_scale: bool = True) -> None:
        self.loss_grid = grid
        self.xs = np.asarray(grid.xs, dtype=np.float64)
        self.ys = np.asarray(grid.ys, dtype=np.float64)
        self.values = np.asarray(grid.loss, dtype=np.float64)
        self.domain = ((float(self.xs[0]), float(self.xs[-1])), (float(self.ys[0]), float(self.ys[-1])))
        finite = self.values[np.isfinite(self.values)]
        self.min_value = float(finite.min()) if finite.size else None
        centre = (float(self.xs[len(self.xs) // 2]), float(self.ys[len(self.ys) // 2]))
        self.start = centre
        self.minima = ()
        self.title = title or "learned surface"
        # Classifier losses span decades across a plane (0.01 near a minimum, tens at the rim): log shows both.
        self.log_scale = log_scale
        self.params = {}

    def grid(self, n: int, domain=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The computed grid itself, whatever `n` asks for: resampling would invent detail it never measured."""
        return self.xs, self.ys, self.values

    def _cell(self, x: Any, y: Any) -> tuple[np.ndarray, ...]:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        nx, ny = len(self.xs), len(self.ys)
        (x0, x1), (y0, y1) = self.domain
        fi = np.clip((x - x0) / (x1 - x0) * (nx - 1), 0.0, nx - 1)
        fj = np.clip((y - y0) / (y1 - y0) * (ny - 1), 0.0, ny - 1)
        fi, fj = np.nan_to_num(fi), np.nan_to_num(fj)
        i0 = np.minimum(fi.astype(np.intp), nx - 2)
        j0 = np.minimum(fj.astype(np.intp), ny - 2)
        v = self.values
        return fi - i0, fj - j0, v[j0, i0], v[j0, i0 + 1], v[j0 + 1, i0], v[j0 + 1, i0 + 1]

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        self._numpy_only(x)
        u, w, z00, z10, z01, z11 = self._cell(x, y)
        return (1 - w) * ((1 - u) * z00 + u * z10) + w * ((1 - u) * z01 + u * z11)

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        self._numpy_only(x)
        u, w, z00, z10, z01, z11 = self._cell(x, y)
        dx = (self.xs[-1] - self.xs[0]) / (len(self.xs) - 1)
        dy = (self.ys[-1] - self.ys[0]) / (len(self.ys) - 1)
        gx = ((1 - w) * (z10 - z00) + w * (z11 - z01)) / dx
        gy = ((1 - u) * (z01 - z00) + u * (z11 - z10)) / dy
        return gx, gy

    def hvp(self, x: Any, y: Any, vx: Any, vy: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        """`grad`'s derivative along v: inside a cell gx varies with y only and gy with x only (bilinear), and
        not at all along an axis where the point is clamped to the grid's edge."""
        self._numpy_only(x)
        _, _, z00, z10, z01, z11 = self._cell(x, y)
        (x0, x1), (y0, y1) = self.domain
        nx, ny = len(self.xs), len(self.ys)
        dx = (self.xs[-1] - self.xs[0]) / (nx - 1)
        dy = (self.ys[-1] - self.ys[0]) / (ny - 1)
        twist = (z11 - z01) - (z10 - z00)
        fi = (np.asarray(x, dtype=np.float64) - x0) / (x1 - x0) * (nx - 1)
        fj = (np.asarray(y, dtype=np.float64) - y0) / (y1 - y0) * (ny - 1)
        du_dx = np.where((fi > 0.0) & (fi < nx - 1), (nx - 1) / (x1 - x0), 0.0)
        dw_dy = np.where((fj > 0.0) & (fj < ny - 1), (ny - 1) / (y1 - y0), 0.0)
        return twist / dx * dw_dy * vy, twist / dy * du_dx * vx

    @staticmethod
    def _numpy_only(x: Any) -> None:
        if type(x).__module__.startswith("torch"):
            raise OptvizError("a learned surface is a picture of a plane: races on it train the real model")
