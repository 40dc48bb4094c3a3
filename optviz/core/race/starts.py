"""Start points: one, a list, or a grid over the surface's domain (for basins of attraction)."""

from __future__ import annotations

import re

import numpy as np

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.surfaces.base import Domain

_GRID = re.compile(r"^grid:(\d+)x(\d+)$")
MAX_GRID = 512


def grid_starts(domain: Domain, nx: int, ny: int) -> np.ndarray:
    """nx * ny starts at the centres of an nx x ny tiling of the domain, row by row: shape (nx*ny, 2)."""
    (x0, x1), (y0, y1) = domain
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    X, Y = np.meshgrid(xs, ys)
    return np.stack([X.ravel(), Y.ravel()], axis=-1)


def parse_point(text: str) -> tuple[float, float]:
    """'X,Y' -> (x, y), with a one-line error naming the problem."""
    parts = text.split(",")
    if len(parts) != 2 or "_" in text:  # float() would read "1_0" as 10
        raise ValueOutOfRangeError(f"start {text!r} must be two numbers X,Y (e.g. -1.5,2)")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise ValueOutOfRangeError(f"start {text!r} must be two numbers X,Y (e.g. -1.5,2)") from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueOutOfRangeError(f"start {text!r} must be finite")
    return x, y


def parse_grid(text: str) -> tuple[int, int]:
    """'grid:NxM' -> (N, M)."""
    match = _GRID.match(text.strip())
    if not match:
        raise ValueOutOfRangeError(f"starts {text!r} must look like grid:NxM (e.g. grid:64x64)")
    nx, ny = int(match.group(1)), int(match.group(2))
    if not (1 <= nx <= MAX_GRID and 1 <= ny <= MAX_GRID):
        raise ValueOutOfRangeError(f"starts {text!r}: each grid side must be 1 to {MAX_GRID}")
    return nx, ny
