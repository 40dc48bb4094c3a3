"""Where a surface is defined: the points where f is a finite number.

A typed formula can be undefined on part of its domain (`log(x)` left of the y axis, `sqrt(1 - x^2)` past
|x| = 1, a pole of `1/x`). The view draws those grid points as holes, the surface panel says how much of the
domain they cover, a run that steps into them is told apart from a numerical blow-up, and a start there is
refused. Every one of those asks the same question, answered here: is f finite at the point.
"""

from __future__ import annotations

import numpy as np

from optviz.core.surfaces.base import Point, Surface

#: The divergence reason of a run whose point lands where f is undefined (the point before it was defined).
LEFT_DEFINED = "left the region where f is defined"
#: The divergence reason of a run that starts where f is undefined (step 0).
STARTS_UNDEFINED = "starts where f is undefined"
#: Grid points per side on which `defined_start` looks for a start, and how many cells it keeps clear of the
#: undefined region (a start right at its edge leaves it in one step).
_START_GRID = 41
_START_MARGIN = 3


def defined_mask(values: np.ndarray) -> np.ndarray:
    """True where a sampled value of f is a finite number."""
    return np.isfinite(np.asarray(values, dtype=np.float64))


def undefined_fraction(values: np.ndarray) -> float:
    """The share (0..1) of a sampled grid where f is undefined (NaN or infinite)."""
    values = np.asarray(values, dtype=np.float64)
    return float(1.0 - defined_mask(values).mean()) if values.size else 0.0


def defined_at(surface: Surface, points: np.ndarray) -> np.ndarray:
    """(M,) True where f is defined at each point (M, 2); a non-finite point is never defined."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    values = surface.value_np(points) * np.ones(len(points))
    return np.isfinite(points).all(-1) & np.isfinite(values)


def undefined_start_message(point: Point, what: str = "start") -> str:
    """One line for a start where f is undefined."""
    x, y = point
    return f"f is undefined at the {what} ({x:g}, {y:g}): pick a start where f is defined"


def defined_start(surface: Surface, suggestion: Point) -> Point:
    """`suggestion` where f is defined there; else the nearest point of a grid over the domain that lies a few
    cells inside the defined region (or, if the region is that thin, anywhere in it); `suggestion` itself when
    f is undefined everywhere on the grid (the race then says so)."""
    if defined_at(surface, np.array([suggestion])).all():
        return suggestion
    xs, ys, values = surface.grid(_START_GRID)
    ok = defined_mask(values)
    inner = ok.copy()
    for _ in range(_START_MARGIN):  # erode: keep the points whose 4 neighbours are defined too
        shrunk = inner.copy()
        shrunk[1:, :] &= inner[:-1, :]
        shrunk[:-1, :] &= inner[1:, :]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        inner = shrunk
    pool = inner if inner.any() else ok
    if not pool.any():
        return suggestion
    jj, ii = np.nonzero(pool)
    d = np.hypot(xs[ii] - suggestion[0], ys[jj] - suggestion[1])
    best = int(np.argmin(d))
    return (float(xs[ii[best]]), float(ys[jj[best]]))
