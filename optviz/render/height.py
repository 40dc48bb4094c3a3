"""The display transform shared by the surface mesh, the trails, the markers and picking.

Domain coordinates (x, y) map linearly into a box centred on the origin whose longer side spans [-1, 1]
(the shorter keeps the domain's aspect, clamped to at least half); loss values map to heights in
[0, z_top], optionally through log10(f - fmin + eps). `HeightField.z_at` interpolates the grid on exactly
the triangles the GPU draws, so a trail point sits on the drawn mesh, not on the true f, which matters where
the mesh cannot resolve f: a log-scaled minimum is a cusp that any grid cuts off, and a true value below the
mesh would hide the trail exactly where the race ends. Grid nodes where f is undefined (NaN, infinite) are
left out of the height range and become holes in the mesh (`HeightField.defined`, `grid_triangles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Domain = tuple[tuple[float, float], tuple[float, float]]

Z_TOP = 0.8
BOX_FAR = 50.0
LOG_DECADES = 4.0
_MAX_ASPECT = 2.0
#: Texture height of a node where f is undefined (real heights are in [0, z_top]).
HOLE = -1.0


@dataclass(frozen=True)
class DisplayTransform:
    """Maps (x, y, f) in domain units to box coordinates (X, Y, Z)."""

    domain: Domain
    extent: tuple[float, float]  # half sizes of the box in X and Y
    log_scale: bool
    fmin: float
    eps: float
    g_lo: float  # range of the transformed values that spans [0, z_top]
    g_hi: float
    z_top: float = Z_TOP

    @classmethod
    def fit(
        cls,
        domain: Domain,
        values: np.ndarray,
        log_scale: bool = False,
        *,
        fmin: float | None = None,
        z_top: float = Z_TOP,
    ) -> DisplayTransform:
        """Fit the height range to the finite `values` (usually the grid)."""
        (x0, x1), (y0, y1) = domain
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"empty domain {domain}")
        ratio = float(np.clip((x1 - x0) / (y1 - y0), 1.0 / _MAX_ASPECT, _MAX_ASPECT))
        extent = (1.0, 1.0 / ratio) if ratio >= 1.0 else (ratio, 1.0)
        v = np.asarray(values, dtype=np.float64)
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            finite = np.zeros(1)
        lo = float(finite.min())
        if fmin is not None and np.isfinite(fmin):
            lo = min(lo, float(fmin))
        hi = float(finite.max())
        span = hi - lo
        eps = 0.0
        if log_scale:
            # eps sets how many decades the display shows below the grid's range: at most LOG_DECADES (a
            # deeper log trench hides the trails at its bottom from any oblique camera), and never below the
            # grid's own small values (0.2 % quantile), so a minimum on a node is not a one-vertex spike.
            positive = finite - lo
            q = float(np.quantile(positive, 0.002)) if positive.size > 1 else 0.0
            eps = max(q, 10.0**-LOG_DECADES * span, 1e-12)
        t = cls(domain, extent, bool(log_scale), lo, eps, 0.0, 1.0, z_top)
        g = t.transform_values(finite)
        g_lo, g_hi = float(g.min()), float(g.max())
        if not g_hi > g_lo:
            g_hi = g_lo + 1.0
        return cls(domain, extent, bool(log_scale), lo, eps, g_lo, g_hi, z_top)

    def transform_values(self, f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        if not self.log_scale:
            return f
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(f - self.fmin, 0.0) + self.eps)

    def heights(self, f: np.ndarray) -> np.ndarray:
        """Display heights in [0, z_top]; non-finite values (poles, overflow) go to the top."""
        g = self.transform_values(f)
        with np.errstate(all="ignore"):
            z = (g - self.g_lo) / (self.g_hi - self.g_lo) * self.z_top
        return np.clip(np.where(np.isfinite(z), z, self.z_top), 0.0, self.z_top)

    def value_at_height(self, z: np.ndarray) -> np.ndarray:
        """Inverse of `heights` (for axis labels): the loss value displayed at height z."""
        g = self.g_lo + np.asarray(z, dtype=np.float64) / self.z_top * (self.g_hi - self.g_lo)
        return (10.0**g - self.eps + self.fmin) if self.log_scale else g

    def xy_to_box(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        (x0, x1), (y0, y1) = self.domain
        ex, ey = self.extent
        out = np.empty(xy.shape, dtype=np.float64)
        out[..., 0] = ((xy[..., 0] - x0) / (x1 - x0) * 2.0 - 1.0) * ex
        out[..., 1] = ((xy[..., 1] - y0) / (y1 - y0) * 2.0 - 1.0) * ey
        return out

    def box_to_xy(self, box_xy: np.ndarray) -> np.ndarray:
        b = np.asarray(box_xy, dtype=np.float64)
        (x0, x1), (y0, y1) = self.domain
        ex, ey = self.extent
        out = np.empty((*b.shape[:-1], 2), dtype=np.float64)
        out[..., 0] = x0 + (b[..., 0] / ex + 1.0) * 0.5 * (x1 - x0)
        out[..., 1] = y0 + (b[..., 1] / ey + 1.0) * 0.5 * (y1 - y0)
        return out


class HeightField:
    """A surface sampled on a grid and mapped to display heights; the data behind the surface mesh."""

    def __init__(self, xs: np.ndarray, ys: np.ndarray, values: np.ndarray, transform: DisplayTransform):
        self.xs = np.asarray(xs, dtype=np.float64)
        self.ys = np.asarray(ys, dtype=np.float64)
        self.values = np.asarray(values, dtype=np.float64)  # values[j, i] = f(xs[i], ys[j])
        if self.values.shape != (len(self.ys), len(self.xs)) or min(self.values.shape) < 2:
            raise ValueError(f"grid values of shape {self.values.shape} do not match xs/ys")
        self.transform = transform
        # Where f is undefined (NaN, infinite) the mesh has holes: no triangle touching such a node is drawn.
        # Its height is the floor of the range, so a trail draped across a hole dips into it.
        self.defined = np.isfinite(self.values)
        self.has_holes = not bool(self.defined.all())
        heights = transform.heights(self.values)
        self.heights = np.where(self.defined, heights, 0.0).astype(np.float32)  # (ny, nx), what the GPU draws

    def texture_heights(self) -> np.ndarray:
        """The heights the GPU reads, with `HOLE` at undefined nodes (the shader leaves them out of normals)."""
        return np.where(self.defined, self.heights, np.float32(HOLE)).astype(np.float32)

    @classmethod
    def from_grid(
        cls,
        xs: np.ndarray,
        ys: np.ndarray,
        values: np.ndarray,
        log_scale: bool = False,
        *,
        fmin: float | None = None,
        z_top: float = Z_TOP,
    ) -> HeightField:
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        domain = ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))
        return cls(xs, ys, values, DisplayTransform.fit(domain, values, log_scale, fmin=fmin, z_top=z_top))

    @classmethod
    def from_surface(cls, surface, resolution: int = 256, log_scale: bool | None = None) -> HeightField:
        """Sample an `optviz.core` Surface (anything with `grid(n)`, `domain`, optional `min_value`)."""
        xs, ys, values = surface.grid(int(resolution))
        if log_scale is None:
            log_scale = bool(getattr(surface, "log_scale", False))
        return cls.from_grid(xs, ys, values, log_scale, fmin=getattr(surface, "min_value", None))

    def with_log_scale(self, log_scale: bool) -> HeightField:
        t = self.transform
        return HeightField.from_grid(self.xs, self.ys, self.values, log_scale, fmin=t.fmin, z_top=t.z_top)

    @property
    def shape(self) -> tuple[int, int]:
        return self.heights.shape

    @property
    def domain(self) -> Domain:
        return self.transform.domain

    @property
    def extent(self) -> tuple[float, float]:
        return self.transform.extent

    def z_at(self, xy: np.ndarray) -> np.ndarray:
        """Height of the drawn mesh above domain points (..., 2); points outside are clamped to the edge.

        Each grid cell is split along its (i, j)-(i+1, j+1) diagonal, as in `grid_indices`.
        """
        xy = np.asarray(xy, dtype=np.float64)
        ny, nx = self.heights.shape
        (x0, x1), (y0, y1) = self.domain
        with np.errstate(invalid="ignore"):
            fi = np.clip((xy[..., 0] - x0) / (x1 - x0) * (nx - 1), 0.0, nx - 1)
            fj = np.clip((xy[..., 1] - y0) / (y1 - y0) * (ny - 1), 0.0, ny - 1)
        fi = np.nan_to_num(fi)
        fj = np.nan_to_num(fj)
        i0 = np.minimum(fi.astype(np.intp), nx - 2)
        j0 = np.minimum(fj.astype(np.intp), ny - 2)
        u, v = fi - i0, fj - j0
        h = self.heights.astype(np.float64)
        z00, z10 = h[j0, i0], h[j0, i0 + 1]
        z01, z11 = h[j0 + 1, i0], h[j0 + 1, i0 + 1]
        lower = z00 + u * (z10 - z00) + v * (z11 - z10)
        upper = z00 + v * (z01 - z00) + u * (z11 - z01)
        return np.where(u >= v, lower, upper)

    def box_points(self, xy: np.ndarray, lift: float = 0.0) -> np.ndarray:
        """(..., 3) box coordinates of domain points on the drawn surface, raised by `lift`."""
        xy = np.asarray(xy, dtype=np.float64)
        out = np.empty((*xy.shape[:-1], 3), dtype=np.float64)
        # Far-away points (diverging runs) are clamped well outside the box: the ribbon keeps its direction
        # towards them, its fragments outside the footprint are discarded, and float32 never overflows.
        out[..., :2] = np.clip(self.transform.xy_to_box(xy), -BOX_FAR, BOX_FAR)
        out[..., 2] = self.z_at(xy) + lift
        return out

    def contains(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        (x0, x1), (y0, y1) = self.domain
        return (xy[..., 0] >= x0) & (xy[..., 0] <= x1) & (xy[..., 1] >= y0) & (xy[..., 1] <= y1)


def grid_indices(nx: int, ny: int) -> np.ndarray:
    """One triangle strip (uint32) over an nx-by-ny vertex grid, vertex k = j * nx + i.

    Row by row, vertices alternate (i, j + 1), (i, j), so each cell is split along its (i, j)-(i+1, j+1)
    diagonal (what `HeightField.z_at` assumes); rows are stitched with two repeated indices (degenerate
    triangles). A strip is ~15 % faster than indexed triangles on llvmpipe, whose vertex stage is serial.
    """
    i = np.arange(nx, dtype=np.uint32)
    j = np.arange(ny - 1, dtype=np.uint32)
    rows = np.empty((ny - 1, 2 * nx + 2), dtype=np.uint32)
    rows[:, 1 : 2 * nx + 1 : 2] = (j[:, None] + 1) * nx + i[None, :]
    rows[:, 2 : 2 * nx + 2 : 2] = j[:, None] * nx + i[None, :]
    rows[:, 0] = rows[:, 1]  # degenerate joins: repeat the first and last index of every row
    rows[:, -1] = rows[:, -2]
    return np.ascontiguousarray(rows.ravel()[1:-1])


def grid_triangles(defined: np.ndarray, nodes_i: np.ndarray | None = None, nodes_j: np.ndarray | None = None):
    """Indexed triangles (uint32, 3 per triangle) over the grid whose nodes are all defined: a mesh with holes.

    `defined` is the (ny, nx) mask of the full grid; `nodes_i` / `nodes_j` pick a sub-grid (the coarse mesh),
    whose vertices are numbered like `grid_indices(len(nodes_i), len(nodes_j))`. Cells are split along the
    same (i, j)-(i+1, j+1) diagonal as the strip, counter-clockwise seen from above.
    """
    ny, nx = defined.shape
    ci = np.arange(nx) if nodes_i is None else np.asarray(nodes_i)
    cj = np.arange(ny) if nodes_j is None else np.asarray(nodes_j)
    ok = np.asarray(defined, bool)[np.ix_(cj, ci)]
    n = len(ci)
    j, i = np.meshgrid(np.arange(len(cj) - 1), np.arange(n - 1), indexing="ij")
    k00 = (j * n + i).astype(np.uint32)
    k10, k01, k11 = k00 + 1, k00 + n, k00 + n + 1
    diagonal = ok[:-1, :-1] & ok[1:, 1:]
    lower = diagonal & ok[:-1, 1:]  # (i, j), (i+1, j), (i+1, j+1)
    upper = diagonal & ok[1:, :-1]  # (i, j), (i+1, j+1), (i, j+1)
    tris = np.concatenate([np.stack([k00, k10, k11], -1)[lower], np.stack([k00, k11, k01], -1)[upper]])
    return np.ascontiguousarray(tris.ravel(), dtype=np.uint32)


def grid_vertices(nx: int, ny: int) -> np.ndarray:
    """(nx * ny, 2) float32 grid indices (i, j) per vertex; the shader turns them into box coordinates."""
    jj, ii = np.meshgrid(np.arange(ny, dtype=np.float32), np.arange(nx, dtype=np.float32), indexing="ij")
    return np.ascontiguousarray(np.stack([ii.ravel(), jj.ravel()], axis=1))


def _inside_interval(a: np.ndarray, b: np.ndarray, extent: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Liang-Barsky: parameters [t0, t1] of each segment a->b (box xy, (n, 2)) inside |x|<=ex, |y|<=ey."""
    t0 = np.zeros(len(a))
    t1 = np.ones(len(a))
    for axis, e in enumerate(extent):
        p, d = a[:, axis], b[:, axis] - a[:, axis]
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (-e - p) / d
            tb = (e - p) / d
        moving = d != 0
        lo = np.where(moving, np.minimum(ta, tb), np.where(np.abs(p) <= e, -np.inf, np.inf))
        hi = np.where(moving, np.maximum(ta, tb), np.where(np.abs(p) <= e, np.inf, -np.inf))
        t0 = np.maximum(t0, lo)
        t1 = np.minimum(t1, hi)
    return t0, t1


def drape(
    field: HeightField, xy: np.ndarray, lift: float = 0.0, spacing: float | None = None, max_points: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """A path (n, 2) in domain units laid on the drawn surface: (box points (m, 3), step of each point (m,)).

    Segments are subdivided where they cross the footprint, every `spacing` box units (default: one grid
    cell), so a long optimizer step follows the terrain like its line on a contour plot instead of cutting
    through a hill. Sub-points carry fractional steps, so the time cursor slides smoothly along them.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    if n < 2:
        return field.box_points(xy, lift), np.arange(n, dtype=np.float64)
    ny, nx = field.shape
    ex, ey = field.extent
    if spacing is None:
        spacing = min(2 * ex / (nx - 1), 2 * ey / (ny - 1))
    with np.errstate(all="ignore"):
        box = field.transform.xy_to_box(xy)
    box = np.where(np.isfinite(box), box, np.clip(np.nan_to_num(box), -BOX_FAR, BOX_FAR))
    a, b = box[:-1], box[1:]
    t0, t1 = _inside_interval(a, b, (ex, ey))
    inside = t1 > t0
    with np.errstate(all="ignore"):
        length = np.hypot(*(b - a).T) * np.where(inside, t1 - t0, 0.0)
    length = np.nan_to_num(length, posinf=0.0)
    subdivisions = np.where(inside, np.ceil(length / spacing), 0).astype(np.int64)
    total = int(n + np.sum(np.where(inside, subdivisions + 1, 0)))
    if total > max_points:  # pathological (thousands of long hops across the box): coarser spacing
        scale = (total - n) / max(max_points - n, 1)
        subdivisions = np.where(inside, np.ceil(length / (spacing * scale)), 0).astype(np.int64)
    # Per segment: its start (t = 0), then t0 .. t1 in `subdivisions` steps when it crosses the footprint.
    counts = 1 + np.where(inside, subdivisions + 1, 0)
    seg = np.repeat(np.arange(n - 1), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(len(seg)) - first  # 0 = segment start, 1.. = sub-points
    sub = np.maximum(k - 1, 0)
    div = np.maximum(subdivisions[seg], 1)
    t = np.where(k == 0, 0.0, t0[seg] + (t1[seg] - t0[seg]) * sub / div)
    t = np.clip(t, 0.0, 1.0)
    steps = np.concatenate([seg + t, [n - 1.0]])
    with np.errstate(all="ignore"):
        pts = np.concatenate([box[seg] + t[:, None] * (box[seg + 1] - box[seg]), box[-1:]])
    # Drop exact repeats (a segment that starts inside has t0 = 0, equal to its start).
    keep = np.concatenate([[True], np.diff(steps) > 1e-12])
    pts, steps = pts[keep], steps[keep]
    out = np.empty((len(pts), 3), dtype=np.float64)
    out[:, :2] = np.clip(np.nan_to_num(pts), -BOX_FAR, BOX_FAR)
    out[:, 2] = field.z_at(field.transform.box_to_xy(out[:, :2])) + lift
    return out, steps
