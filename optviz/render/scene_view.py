"""`SceneView`: the one scene builder behind the on-screen view and the offscreen exporter.

It owns a view (an on-screen `SceneGLWidget`, or an `OffscreenGLView` with no widget at all) and every item:
the surface, axes, trails, start rings, minima and heads. Everything is given in domain coordinates; the
`HeightField` of the current surface maps it into the box the items draw in, so trails, markers and picking
all sit on the mesh exactly as drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import radians, tan

import numpy as np
from PySide6 import QtCore

from optviz.core.palette import PALETTE
from optviz.core.race.result import RaceResult, RunStatus
from optviz.render.axes_item import AxesItem
from optviz.render.colormaps import DEFAULT_COLORMAP
from optviz.render.gl import qmatrix_to_numpy
from optviz.render.height import HeightField, drape
from optviz.render.item_base import rgba
from optviz.render.marker_item import BALL, CROSS, DIAMOND, RING, MarkerItem
from optviz.render.surface_item import SurfaceItem
from optviz.render.trail_item import TrailItem
from optviz.render.view import OffscreenGLView, SceneGLWidget, render_view

BACKGROUND = "#15171c"
DIVERGED_COLOR = "#ff3b3b"
MINIMUM_COLOR = (0.96, 0.97, 1.0, 0.95)
TRAIL_LIFT = 0.004  # box units above the drawn mesh

DEFAULT_CAMERA = {"elevation": 42.0, "azimuth": -60.0, "fov": 30.0}
TOP_DOWN_FOV = 7.0  # nearly orthographic: the 2-D map keeps its rectangle whatever the heights


def diverged_step(status: tuple[str, int | None] | None, finite_points: int, total_points: int) -> int | None:
    """The step at which a run diverged, or None.

    `status` is None or a race result's (status, stopped step) pair: "running", "converged" or "diverged",
    and the step, None while running. Positions that turn non-finite mean divergence whatever the status says.
    """
    state, step = status if status is not None else (None, None)
    is_diverged = state == RunStatus.DIVERGED.value
    if finite_points < total_points:
        is_diverged = True
        step = finite_points if step is None else min(int(step), finite_points)
    if not is_diverged:
        return None
    return int(step) if step is not None else max(finite_points - 1, 0)


class _Run:
    """One trail: its positions in the domain, the finite prefix that is drawn, and its divergence step."""

    def __init__(self, positions: np.ndarray, color, status):
        positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
        finite = np.isfinite(positions).all(axis=1)
        n_finite = int(np.argmin(finite)) if not finite.all() else len(positions)
        self.positions = positions
        self.color = rgba(color)
        self.diverged_at = diverged_step(status, n_finite, len(positions))
        # The race engine freezes a diverged run at its last good point: draw up to the divergence only.
        end = n_finite if self.diverged_at is None else min(n_finite, max(self.diverged_at, 1))
        self.path = positions[:end]


class SceneView(QtCore.QObject):
    """Builds and drives the GL scene; see the module doc.

    `SceneView()` makes an on-screen widget (`.widget`, to put in a layout); `SceneView(offscreen=True)`
    renders with no widget. `render_image` works for both.
    """

    def __init__(
        self, parent=None, *, offscreen: bool = False, size: tuple[int, int] = (1280, 720), background=BACKGROUND
    ):
        super().__init__()
        if offscreen:
            self.view = OffscreenGLView(size)
        else:
            self.view = SceneGLWidget(parent)
            self.view.resize(*size)
        self.view.setBackgroundColor(background)
        self.background = rgba(background)
        self.surface_item = SurfaceItem()
        self.axes = AxesItem()
        self.trails = TrailItem()
        self.starts = MarkerItem(depth_bias=0.008, xray=0.6)
        self.minima = MarkerItem(depth_bias=0.01)
        self.heads = MarkerItem(depth_bias=0.012, xray=0.8)  # a head behind a hill is still found
        # State glyphs (arrows and shapes at the heads): thin lines, and thick ones for the update applied.
        glyph_style = {"outline": 1.0, "tail_alpha": 1.0, "taper": 1.0, "fade": 1.0, "shade": 0.0, "xray": 0.35}
        self.glyphs = TrailItem(width=2.0, depth_bias=0.016, **glyph_style)
        self.glyph_updates = TrailItem(width=3.6, depth_bias=0.018, **glyph_style)
        static = (self.surface_item, self.axes, *self.axes.childItems(), self.starts, self.minima)
        for item in static:
            item.static_layer = True
        layers = (self.surface_item, self.axes, self.starts, self.minima, self.trails, self.glyphs, self.glyph_updates)
        for depth, item in enumerate((*layers, self.heads)):
            item.setDepthValue(depth * 10)
            self.view.addItem(item)
        self.surface = None
        self.field: HeightField | None = None
        self._runs: list[_Run] = []
        self._shown: list[bool] = []
        self._cursor: float | None = None
        self._top_down = False
        self._saved_camera: dict | None = None
        self.reset_camera()

    # ---- the widget --------------------------------------------------------------------------------------
    @property
    def widget(self) -> SceneGLWidget | None:
        return self.view if isinstance(self.view, SceneGLWidget) else None

    # ---- surface ---------------------------------------------------------------------------------------
    def set_surface(
        self,
        surface,
        resolution: int = 256,
        log_scale: bool | None = None,
        colormap: str | np.ndarray | None = None,
        contours: int | None = None,
    ) -> None:
        """Show a surface (an `optviz.core` Surface: `grid(n)`, `domain`, `minima`, `log_scale`).

        `log_scale=None` uses the surface's own preference. Trails already set are re-draped onto it.
        """
        self.surface = surface
        field = HeightField.from_surface(surface, resolution, log_scale)
        self.set_height_field(field, minima=getattr(surface, "minima", ()), colormap=colormap, contours=contours)

    def set_height_field(self, field: HeightField, *, minima: Sequence = (), colormap=None, contours=None) -> None:
        """Show a pre-computed grid (learned surfaces): `HeightField.from_grid(xs, ys, values, log_scale)`."""
        self.field = field
        if colormap is not None:
            self.surface_item.set_colormap(colormap)
        if contours is not None:
            self.surface_item.set_contours(contours)
        self._minima = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
        self._apply_field()

    def set_log_scale(self, log_scale: bool) -> None:
        if self.field is not None and self.field.transform.log_scale != bool(log_scale):
            self.field = self.field.with_log_scale(bool(log_scale))
            self._apply_field()

    def set_colormap(self, colormap: str | np.ndarray = DEFAULT_COLORMAP) -> None:
        self.surface_item.set_colormap(colormap)

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Colour the surface's top by an (ny, nx, 4) image over the domain (basins of attraction); None: off."""
        self.surface_item.set_overlay(rgba)

    def set_contours(self, levels: int, major_every: int | None = None, strength: float | None = None) -> None:
        self.surface_item.set_contours(levels, major_every, strength)

    def set_floor(self, visible: bool) -> None:
        self.surface_item.set_floor(visible)

    def _apply_field(self) -> None:
        field = self.field
        refit = self.surface_item.field is None or self.surface_item.field.extent != field.extent
        self.surface_item.set_field(field)
        self.axes.set_transform(field.transform, self.surface_item.floor_z())
        spacing, origin = self.axes.tick_grid()
        self.surface_item.set_floor(self.surface_item.show_floor, spacing, origin)
        self.trails.clip = field.extent
        inside = field.contains(self._minima) if len(self._minima) else np.zeros(0, bool)
        mins = self._minima[inside]
        self.minima.set_markers(field.box_points(mins, TRAIL_LIFT), [MINIMUM_COLOR] * len(mins), 5.5, DIAMOND)
        self._rebuild_trails()
        if refit:  # the box changed shape: frame it again, in the current mode
            if self._top_down:
                self._fit(90.0, -90.0, TOP_DOWN_FOV, top_down=True)
            else:
                self.reset_camera()

    # ---- trails ----------------------------------------------------------------------------------------
    def set_trails(
        self,
        positions: Sequence[np.ndarray] | np.ndarray,
        colors: Sequence | None = None,
        statuses: Sequence | None = None,
    ) -> None:
        """One trail per run: `positions[i]` is (steps + 1, 2) in domain coordinates (an (R, S, 2) array or a
        race's (K, M, S, 2) reshaped to (K*M, S, 2) works). Non-finite rows end the drawn path and mark the
        run diverged; `statuses[i]` may also say so (see `diverged_step`)."""
        if isinstance(positions, np.ndarray) and positions.ndim > 3:
            positions = positions.reshape(-1, *positions.shape[-2:])
        positions = list(positions)
        if colors is None:
            colors = [PALETTE[i % len(PALETTE)] for i in range(len(positions))]
        if statuses is None:
            statuses = [None] * len(positions)
        if not (len(colors) == len(statuses) == len(positions)):
            raise ValueError(f"{len(positions)} trails, {len(colors)} colours, {len(statuses)} statuses")
        self._runs = [_Run(p, c, s) for p, c, s in zip(positions, colors, statuses, strict=True)]
        self._shown = [True] * len(self._runs)
        self._rebuild_trails()

    def set_race(self, result: RaceResult, colors: Sequence | None = None) -> None:
        """Trails from a race result; runs are ordered k-major. `colors` has one entry per optimizer (K) or per
        run (K * M); by default each optimizer gets a palette colour."""
        positions = np.asarray(result.positions)
        k_count, m_count = positions.shape[:2]
        status, stopped = np.asarray(result.status), np.asarray(result.stopped_at)
        if colors is None:
            colors = [PALETTE[k % len(PALETTE)] for k in range(k_count)]
        colors = list(colors)
        if len(colors) == k_count and k_count * m_count != k_count:
            colors = [c for c in colors for _ in range(m_count)]
        statuses = [
            (str(status[k, m]), int(stopped[k, m]) if int(stopped[k, m]) >= 0 else None)
            for k in range(k_count)
            for m in range(m_count)
        ]
        self.set_trails(positions.reshape(k_count * m_count, *positions.shape[2:]), colors, statuses)

    def update_trail(self, index: int, positions: np.ndarray, status=None, color=None) -> None:
        """Replace one run's path (e.g. after a hyperparameter change); same length: uploaded in place."""
        old = self._runs[index]
        run = _Run(positions, old.color if color is None else color, status)
        self._runs[index] = run
        if self.field is None:
            return
        self.trails.update_path(index, *self._box_path(run))
        if color is not None:
            self.trails.set_colors([r.color for r in self._runs])
        same_start = (len(old.path) > 0) == (len(run.path) > 0) and (
            len(run.path) == 0 or np.array_equal(old.path[0], run.path[0])
        )
        if color is None and same_start:
            self._update_heads()  # the start rings (in the cached static layer) are unchanged
        else:
            self._rebuild_markers()

    def set_trail_colors(self, colors: Sequence) -> None:
        for run, c in zip(self._runs, colors, strict=True):
            run.color = rgba(c)
        self.trails.set_colors([r.color for r in self._runs])
        self._rebuild_markers()

    def set_trail_visible(self, index: int, visible: bool) -> None:
        """Hide or show one run (trail, start ring and head) without touching the others."""
        self._shown[index] = bool(visible)
        self.trails.set_path_visible(index, visible)
        self._rebuild_markers()

    @property
    def trail_count(self) -> int:
        return len(self._runs)

    def _box_path(self, run: _Run) -> tuple[np.ndarray, np.ndarray]:
        if len(run.path) == 0:
            return np.zeros((0, 3)), np.zeros(0)
        return drape(self.field, run.path, TRAIL_LIFT)

    def _rebuild_trails(self) -> None:
        if self.field is None:
            return
        draped = [self._box_path(r) for r in self._runs]
        self.trails.set_paths([d[0] for d in draped], [r.color for r in self._runs], [d[1] for d in draped])
        for i, shown in enumerate(self._shown):
            if not shown:
                self.trails.set_path_visible(i, False)
        self.trails.set_cursor(self._cursor)
        self._rebuild_markers()

    def _rebuild_markers(self) -> None:
        runs = [r for r, shown in zip(self._runs, self._shown, strict=True) if len(r.path) and shown]
        starts = np.array([r.path[0] for r in runs]).reshape(-1, 2)
        self.starts.set_markers(
            self.field.box_points(self._clamp(starts), TRAIL_LIFT), [r.color for r in runs], 5.5, RING
        )
        self._update_heads()

    def set_glyphs(self, lines: Sequence[tuple[np.ndarray, object, bool]]) -> None:
        """State glyphs: (polyline (n, 2) in domain units, colour, thick) each, laid on the surface like the trails
        (thick: the update applied; see `optviz.core.race.glyphs`). An empty list removes them."""
        thin, thick = [], []
        if self.field is not None:
            for xy, color, heavy in lines:
                xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
                if len(xy) < 2 or not np.isfinite(xy).all():
                    continue
                (thick if heavy else thin).append((drape(self.field, self._clamp(xy), TRAIL_LIFT)[0], color))
        for item, group in ((self.glyphs, thin), (self.glyph_updates, thick)):
            item.set_paths([p for p, _ in group], [c for _, c in group])

    def _clamp(self, xy: np.ndarray) -> np.ndarray:
        (x0, x1), (y0, y1) = self.field.domain
        return np.stack([np.clip(xy[:, 0], x0, x1), np.clip(xy[:, 1], y0, y1)], axis=1) if len(xy) else xy

    # ---- time cursor ------------------------------------------------------------------------------------
    def set_cursor(self, step: float | None) -> None:
        """Show every trail up to this step (fractional steps slide the heads); None shows whole runs.
        Uploads only the heads (a few bytes); the trails take a uniform."""
        self._cursor = None if step is None else max(float(step), 0.0)
        self.trails.set_cursor(self._cursor)
        self._update_heads()

    @property
    def cursor(self) -> float | None:
        return self._cursor

    def head_positions(self) -> np.ndarray:
        """(R, 2) domain position of each run's head at the current cursor (NaN for empty runs)."""
        out = np.full((len(self._runs), 2), np.nan)
        for i, run in enumerate(self._runs):
            n = len(run.path)
            if n == 0:
                continue
            c = (n - 1.0) if self._cursor is None else min(self._cursor, n - 1.0)
            k = int(np.floor(c))
            f = c - k
            out[i] = run.path[k] if f <= 0 or k + 1 >= n else (1 - f) * run.path[k] + f * run.path[k + 1]
        return out

    def _on_domain(self, run: _Run, k: int, xy: np.ndarray) -> np.ndarray | None:
        """`xy` (the point of `run` at step k, or between k and k + 1) if it lies in the domain; otherwise
        the point where the path last left the domain before step k + 1 (None if it never was inside)."""
        if self.field.contains(xy):
            return xy
        inside = np.nonzero(self.field.contains(run.path[: k + 1]))[0]
        if len(inside) == 0:
            return None
        j = int(inside[-1])
        a = run.path[j]
        b = run.path[j + 1] if j + 1 < len(run.path) else xy
        (x0, x1), (y0, y1) = self.field.domain
        d = b - a
        ts = [1.0]
        for lo, hi, p, dp in ((x0, x1, a[0], d[0]), (y0, y1, a[1], d[1])):
            if dp > 0:
                ts.append((hi - p) / dp)
            elif dp < 0:
                ts.append((lo - p) / dp)
        return a + float(np.clip(min(ts), 0.0, 1.0)) * d

    def _update_heads(self) -> None:
        if self.field is None:
            return
        heads = self.head_positions()
        shown_to = np.inf if self._cursor is None else self._cursor
        centers, colors, radii, shapes = [], [], [], []
        for i, (run, xy) in enumerate(zip(self._runs, heads, strict=True)):
            if not np.isfinite(xy).all() or not self._shown[i]:
                continue
            n = len(run.path)
            k = int(min(shown_to, n - 1))
            if run.diverged_at is not None and shown_to >= run.diverged_at:
                point = self._on_domain(run, n - 1, run.path[-1])
                color, radius, shape = rgba(DIVERGED_COLOR), 9.0, CROSS
            else:
                point = self._on_domain(run, k, xy)
                color, radius, shape = run.color, 8.0, BALL
            if point is None:
                continue
            centers.append(point)
            colors.append(color)
            radii.append(radius)
            shapes.append(shape)
        xy = np.array(centers, dtype=np.float64).reshape(-1, 2)
        self.heads.set_markers(self.field.box_points(xy, TRAIL_LIFT), colors, np.array(radii), np.array(shapes))

    # ---- camera ----------------------------------------------------------------------------------------
    def _frame_points(self, top_down: bool) -> np.ndarray:
        """What must be in frame: the block, and room for the tick labels and axis titles around it."""
        ex, ey = self.field.extent if self.field is not None else (1.0, 1.0)
        z_top = self.field.transform.z_top if self.field is not None else 0.8
        floor = self.surface_item.floor_z()
        pad = 0.34 if top_down else 0.24
        xs, ys = (-ex - pad, ex + pad), (-ey - pad, ey + pad)
        zs = (floor,) if top_down else (floor, z_top + 0.1)
        return np.array([[x, y, z] for x in xs for y in ys for z in zs])

    def _fit(self, elevation: float, azimuth: float, fov: float, top_down: bool = False, margin: float = 0.03):
        """Aim and distance so the block and its labels fill the view (minus `margin`), centred."""
        view = self.view
        w, h = self._size()
        w, h = max(w, 1), max(h, 1)
        pts = np.concatenate([self._frame_points(top_down), np.ones((8 if not top_down else 4, 1))], axis=1)
        z_mid = 0.0 if top_down else 0.5 * (self.surface_item.floor_z() + pts[:, 2].max())
        center = np.array([0.0, 0.0, z_mid])
        distance = 6.0
        view.opts["fov"] = fov
        for _ in range(6):
            view.setCameraPosition(pos=_vec(*center), distance=distance, elevation=elevation, azimuth=azimuth)
            clip = pts @ view.mvp_for(w, h).T
            ndc = clip[:, :2] / clip[:, 3:4]
            lo, hi = ndc.min(axis=0), ndc.max(axis=0)
            # Re-centre: move the aim point by the bounding box's offset, converted to world units.
            mv = qmatrix_to_numpy(view.viewMatrix())
            right, up = mv[0, :3], mv[1, :3]
            half_h = distance * tan(radians(fov) / 2.0)
            half_w = half_h * w / h if w >= h else half_h
            half_h = half_h if w >= h else half_h * h / w
            mid = 0.5 * (lo + hi)
            center = center + right * mid[0] * half_w + up * mid[1] * half_h
            if top_down:
                center[2] = 0.0
            scale = max((hi[0] - lo[0]) / 2.0, (hi[1] - lo[1]) / 2.0) / (1.0 - margin)
            distance *= scale
        view.setCameraPosition(pos=_vec(*center), distance=distance, elevation=elevation, azimuth=azimuth)

    def reset_camera(self) -> None:
        """The default 3-D view: from the front-right, 42 degrees up, the block and its labels in frame."""
        self._top_down = False
        self.axes.show_z = True
        cam = DEFAULT_CAMERA
        self._fit(cam["elevation"], cam["azimuth"], cam["fov"])

    def set_top_down(self, enabled: bool) -> None:
        """Look straight down, x to the right and y up (the 2-D mode); False restores the previous 3-D view."""
        enabled = bool(enabled)
        if enabled == self._top_down:
            return
        if enabled:
            self._saved_camera = self.camera_state()
            self._fit(90.0, -90.0, TOP_DOWN_FOV, top_down=True)
            self.axes.show_z = False
        elif self._saved_camera is not None:
            self.set_camera_state(self._saved_camera)
        else:
            self.reset_camera()
        if not enabled:
            self.axes.show_z = True
        self.axes.update()
        self._top_down = enabled

    @property
    def top_down(self) -> bool:
        return self._top_down

    def orbit(self, degrees: float, elevation: float = 0.0) -> None:
        """Turn the camera around the vertical axis (and optionally tilt it), in degrees."""
        self.view.orbit(float(degrees), float(elevation))

    def camera_state(self) -> dict:
        """Plain-number camera state (for scene files): center, distance, elevation, azimuth, fov."""
        o = self.view.opts
        c = o["center"]
        return {
            "center": [float(c.x()), float(c.y()), float(c.z())],
            "distance": float(o["distance"]),
            "elevation": float(o["elevation"]),
            "azimuth": float(o["azimuth"]),
            "fov": float(o["fov"]),
        }

    def set_camera_state(self, state: dict) -> None:
        self._aim(state)
        self._top_down = False
        self.axes.show_z = True

    def _aim(self, state: dict) -> None:
        """Set the camera from a (possibly partial) camera state; nothing else changes."""
        if "fov" in state:
            self.view.opts["fov"] = float(state["fov"])
        center = state.get("center")
        self.view.setCameraPosition(
            pos=_vec(*center) if center is not None else None,
            distance=state.get("distance"),
            elevation=state.get("elevation"),
            azimuth=state.get("azimuth"),
        )

    def look_at(self, x: float, y: float) -> None:
        """Centre the view on the surface point above domain point (x, y), keeping the distance and angles."""
        if self.field is None or not (np.isfinite(x) and np.isfinite(y)):
            return
        point = self.field.box_points(self._clamp(np.array([[x, y]], dtype=np.float64)), 0.0)[0]
        self._aim({"center": [float(v) for v in point]})
        self.view.update()

    def zoom(self, factor: float) -> None:
        """Move the camera `factor` times as far from its centre (below 1: closer)."""
        self._aim({"distance": float(self.view.opts["distance"]) * float(factor)})
        self.view.update()

    # ---- the lens ----------------------------------------------------------------------------------------
    def set_lens(self, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)) -> None:
        """Scale and shift the whole picture in normalised device coordinates (see optviz.render.view);
        the defaults turn the lens off."""
        self.view.lens_scale = float(scale)
        self.view.lens_shift = (float(shift[0]), float(shift[1]))
        self.view.update()

    def lens_clear_of(
        self,
        box: tuple[float, float, float, float],
        size: tuple[int, int],
        cameras: Sequence[dict] = (),
        gap: float = 12.0,
    ) -> tuple[float, tuple[float, float]]:
        """(scale, shift) for `set_lens` that moves the scene (its block and labels) right of `box`, an overlay
        in the top-left corner ((x0, y0, x1, y1) pixels, top-left origin, at this `size`), at the current
        camera and every camera state in `cameras` (a moving export): moved right just far enough to clear
        the box (so it stays as near the middle as it can), shrunk only if it is wider than the band between
        the box and the right edge. No lens, (1, (0, 0)), when the scene is clear of the box already, or
        when it would have to shrink to less than half its size."""
        off = (1.0, (0.0, 0.0))
        w, h = size
        view = self.view
        saved_lens, saved_camera = (view.lens_scale, view.lens_shift), self.camera_state()
        view.lens_scale, view.lens_shift = off
        try:
            frame = self._frame_points(self._top_down)
            pixels = [self.project(frame, size)]
            for state in cameras:
                self._aim(state)
                pixels.append(self.project(frame, size))
        finally:
            view.lens_scale, view.lens_shift = saved_lens
            self._aim(saved_camera)
        xy = np.concatenate(pixels)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        x0, y0, x1, y1 = box
        if lo[0] >= x1 or hi[0] <= x0 or lo[1] >= y1 or hi[1] <= y0:
            return off
        band = (x1 + gap, w - gap)
        scale = min(1.0, (band[1] - band[0]) / max(hi[0] - lo[0], 1e-9))
        if scale < 0.5:
            return off
        # In pixels: x -> scale * x + bx (its left edge onto the band's), y -> scale * y + cy (about its centre).
        bx = band[0] - scale * lo[0]
        cy = (1.0 - scale) * 0.5 * (lo[1] + hi[1])
        return scale, (scale - 1.0 + 2.0 * bx / w, 1.0 - scale - 2.0 * cy / h)

    def occupied_pixels(self, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Where the picture is, for placing overlays clear of it: (pixels (n, 2), weights (n,)). The surface
        sampled on a coarse grid (and its floor), the axis labels, then the start rings and the heads, which
        weigh most (an overlay over a head hides the race)."""
        if self.field is None:
            return np.zeros((0, 2)), np.zeros(0)
        (x0, x1), (y0, y1) = self.field.domain
        gx, gy = np.meshgrid(np.linspace(x0, x1, 13), np.linspace(y0, y1, 13))
        xy = np.stack([gx.ravel(), gy.ravel()], axis=1)
        top = self.field.box_points(xy, 0.0)
        floor = top.copy()
        floor[:, 2] = self.surface_item.floor_z()
        parts = [top, floor] if not self._top_down else [top]
        weights = [np.ones(len(p)) for p in parts]
        labels = [lab.anchor for item in (self.axes.tick_labels, self.axes.titles) for lab in item.labels]
        if labels and self.axes.visible():
            parts.append(np.asarray(labels, dtype=np.float64))
            weights.append(np.full(len(labels), 2.0))
        for markers, weight in ((self.starts, 12.0), (self.heads, 12.0), (self.minima, 4.0)):
            centers = markers.data[:, :3].astype(np.float64)
            if len(centers):
                parts.append(centers)
                weights.append(np.full(len(centers), weight))
        points = np.concatenate(parts)
        return self.project(points, size), np.concatenate(weights)

    # ---- projection and picking ----------------------------------------------------------------------
    def _size(self) -> tuple[int, int]:
        return int(self.view.width()), int(self.view.height())

    def project(self, points: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """Pixel positions (..., 2) (origin top-left, like mouse events) of box points (..., 3)."""
        w, h = size or self._size()
        mvp = self.view.mvp_for(w, h)
        p = np.asarray(points, dtype=np.float64)
        hom = np.concatenate([p, np.ones((*p.shape[:-1], 1))], axis=-1) @ mvp.T
        ndc = hom[..., :2] / hom[..., 3:4]
        return np.stack([(ndc[..., 0] + 1) * 0.5 * w, (1 - ndc[..., 1]) * 0.5 * h], axis=-1)

    def screen_position(self, x: float, y: float, size: tuple[int, int] | None = None) -> tuple[float, float]:
        """Where the surface point above domain point (x, y) appears, in pixels (top-left origin)."""
        box = self.field.box_points(np.array([x, y], dtype=float), 0.0)
        px = self.project(box, size)
        return float(px[0]), float(px[1])

    def pick(self, x_px: float, y_px: float, size: tuple[int, int] | None = None) -> tuple[float, float] | None:
        """The domain point (x, y) of the surface under a pixel, or None if the ray misses it.

        Ray-cast against the drawn height field: march the ray through the box in 512 steps, then bisect
        the first crossing (GL_SELECT picking does not exist in core / ES profiles).
        """
        if self.field is None:
            return None
        w, h = size or self._size()
        inv = np.linalg.inv(self.view.mvp_for(w, h))
        ndc = np.array([2.0 * x_px / w - 1.0, 1.0 - 2.0 * y_px / h])
        near = inv @ np.array([ndc[0], ndc[1], -1.0, 1.0])
        far = inv @ np.array([ndc[0], ndc[1], 1.0, 1.0])
        origin = near[:3] / near[3]
        direction = far[:3] / far[3] - origin
        ex, ey = self.field.extent
        lo = np.array([-ex, -ey, 0.0])
        hi = np.array([ex, ey, self.field.transform.z_top])
        with np.errstate(divide="ignore", invalid="ignore"):
            t0 = (lo - origin) / direction
            t1 = (hi - origin) / direction
        t_enter = np.nanmax(np.where(np.isfinite(t0), np.minimum(t0, t1), -np.inf))
        t_exit = np.nanmin(np.where(np.isfinite(t0), np.maximum(t0, t1), np.inf))
        # Rays parallel to a slab must start inside it.
        parallel = direction == 0
        if np.any(parallel & ((origin < lo) | (origin > hi))):
            return None
        t_enter, t_exit = max(t_enter, 0.0), t_exit
        if not t_exit > t_enter:
            return None

        def above(t: np.ndarray) -> np.ndarray:
            p = origin + np.multiply.outer(t, direction)
            xy = self.field.transform.box_to_xy(p[..., :2])
            return p[..., 2] - self.field.z_at(xy)

        ts = np.linspace(t_enter, t_exit, 513)
        gap = above(ts)
        below = np.nonzero(gap <= 0.0)[0]
        if len(below) == 0:
            return None
        k = int(below[0])
        if k == 0:
            t_hit = ts[0]  # entered through a side wall, below the surface
        else:
            a, b = ts[k - 1], ts[k]
            for _ in range(48):
                m = 0.5 * (a + b)
                if above(np.array([m]))[0] > 0.0:
                    a = m
                else:
                    b = m
            t_hit = 0.5 * (a + b)
        p = origin + t_hit * direction
        xy = self.field.transform.box_to_xy(p[:2])
        return float(xy[0]), float(xy[1])

    # ---- offscreen rendering -------------------------------------------------------------------------------
    def render_image(self, width: int | None = None, height: int | None = None, supersample: int = 1) -> np.ndarray:
        """Render the scene into an FBO and read it back: (height, width, 4) uint8 RGBA, top row first.

        The same items and camera as on screen (default size: the view's); `supersample` > 1 renders that
        many times larger (pixel sizes scaled to match) and averages down, for smooth silhouettes in exports.
        """
        w0, h0 = self._size()
        return render_view(self.view, int(width or w0), int(height or h0), supersample)

    def close(self) -> None:
        """Free GL resources now (offscreen: the context too). The widget, if any, is closed as well."""
        view = self.view
        if isinstance(view, OffscreenGLView):
            view.close()
            return
        if view.isValid():
            view.makeCurrent()
            view.release_gl()
            view.doneCurrent()
        view.close()


def _vec(x: float, y: float, z: float):
    from pyqtgraph import Vector

    return Vector(x, y, z)
