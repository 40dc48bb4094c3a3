"""Axes around the surface's footprint: a frame on the floor, ticks and labels for x and y on the two edges
nearest the camera (they move as the camera orbits, like matplotlib's 3-D axes), and a vertical loss axis
at the corner that appears leftmost on screen."""

from __future__ import annotations

import math

import numpy as np

from optviz.render.height import DisplayTransform
from optviz.render.item_base import SceneItem, camera_frame
from optviz.render.label_item import Label, LabelItem
from optviz.render.trail_item import TrailItem

AXIS_COLOR = (0.50, 0.54, 0.62, 0.9)
TEXT_COLOR = (0.76, 0.79, 0.86, 1.0)
TITLE_COLOR = (0.90, 0.92, 0.96, 1.0)


def nice_ticks(lo: float, hi: float, target: int = 5) -> np.ndarray:
    """Round tick values (1, 2, 2.5, 5 x 10^k steps) inside [lo, hi]."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([lo])
    raw = (hi - lo) / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    ticks[np.abs(ticks) < step * 1e-9] = 0.0
    return ticks


def format_tick(value: float, step: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.0e}".replace("e+0", "e").replace("e-0", "e-")
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 2
    if step > 0 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1  # 2.5-type steps
    return f"{value:.{decimals}f}"


#: Labels of different axes (and titles) stay at least this far apart, in pixels.
AXIS_GAP_PX = 8.0


class AxesItem(SceneItem):
    """Frame, ticks and tick labels; call `set_transform` when the surface or its scaling changes."""

    def __init__(self, parentItem=None):
        super().__init__(parentItem=parentItem)
        plain = {"outline": 0.0, "tail_alpha": 1.0, "taper": 1.0, "fade": 1.0, "shade": 0.0, "xray": 0.0}
        self.lines = TrailItem(width=1.3, depth_bias=0.0, parentItem=self, **plain)
        self.tick_labels = LabelItem(color=TEXT_COLOR, pixel_size=12, parentItem=self)
        self.titles = LabelItem(color=TITLE_COLOR, pixel_size=14, parentItem=self)
        self.setDepthValue(0)
        self.transform_: DisplayTransform | None = None
        self.floor_z = -0.04
        self.show_z = True
        self.titles_text = ("x", "y", "loss")
        self._layout_key: tuple | None = None
        self._label_axes: list[int] = []

    def setDepthValue(self, value) -> None:
        super().setDepthValue(value)
        # Children paint after this item, whose paint() lays them out for the current camera.
        for child in self.childItems():
            child.setDepthValue(value + 1)

    def set_transform(self, transform: DisplayTransform, floor_z: float) -> None:
        self.transform_ = transform
        self.floor_z = float(floor_z)
        self._layout_key = None
        self.update()

    def x_ticks(self) -> np.ndarray:
        (x0, x1), _ = self.transform_.domain
        return nice_ticks(x0, x1, 5)

    def y_ticks(self) -> np.ndarray:
        _, (y0, y1) = self.transform_.domain
        return nice_ticks(y0, y1, 5)

    def tick_grid(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(spacing, origin) of the x/y ticks in box units, for the floor grid."""
        xt, yt = self.x_ticks(), self.y_ticks()
        t = self.transform_
        sx = (xt[1] - xt[0]) if len(xt) > 1 else 1.0
        sy = (yt[1] - yt[0]) if len(yt) > 1 else 1.0
        (x0, x1), (y0, y1) = t.domain
        ex, ey = t.extent
        spacing = (sx / (x1 - x0) * 2 * ex, sy / (y1 - y0) * 2 * ey)
        origin = tuple(t.xy_to_box(np.array([xt[0], yt[0]])).tolist())
        return spacing, origin

    def draw(self, viewport) -> None:
        if self.transform_ is None:
            return
        mv, proj = self.matrices()
        eye = camera_frame(mv)[0]
        ex, ey = self.transform_.extent
        dist = float(np.linalg.norm(eye)) or 1.0
        sx = 1.0 if eye[0] > 1e-6 * dist else -1.0  # the y axis runs along x = sx * ex
        sy = 1.0 if eye[1] > 1e-6 * dist else -1.0  # the x axis runs along y = sy * ey
        # Vertical axis: of the two corners next to the nearest one, the one further left on screen.
        mvp = proj @ mv
        corners = [(-sx * ex, sy * ey), (sx * ex, -sy * ey)]
        screen_x = [(mvp @ np.array([cx, cy, 0.0, 1.0])) for cx, cy in corners]
        screen_x = [c[0] / c[3] for c in screen_x]
        zc = corners[int(np.argmin(screen_x))]
        key = (sx, sy, zc, self.show_z)
        if key != self._layout_key:
            self._layout(sx, sy, zc)
            self._layout_key = key
        self._hide_overlapping(mvp, viewport)

    def _hide_overlapping(self, mvp: np.ndarray, viewport: tuple[float, float]) -> None:
        """Tick labels never overlap each other or a title: at this camera, a tick label whose box meets one
        already kept is not drawn. Titles are kept first, then ticks in `_layout`'s order (the loss axis first).
        Labels of different axes keep a wider gap, so a y tick "3" under the loss axis's "1" does not read as
        the next number of that axis."""
        scale = self.tick_labels.effective_pixel_scale()
        inset = 1.0 * scale  # the atlas pads each text by 2 px: boxes of one axis may touch by their padding
        gap = AXIS_GAP_PX * scale
        titles = self.titles.screen_rects(mvp, viewport, self.titles.effective_pixel_scale())
        kept = list(zip(titles, (0, 1, 2), strict=False))  # the x, y and loss titles, each with its axis
        ticks = self.tick_labels.screen_rects(mvp, viewport, scale)
        shown = np.zeros(len(ticks), dtype=bool)
        for i, ((x0, y0, x1, y1), axis) in enumerate(zip(ticks, self._label_axes, strict=True)):
            if not np.isfinite([x0, y0, x1, y1]).all():
                continue
            box = (x0 + inset, y0 + inset, x1 - inset, y1 - inset)
            clear = True
            for k, other in kept:
                g = 0.0 if other == axis else gap
                if box[0] < k[2] + g and k[0] - g < box[2] and box[1] < k[3] + g and k[1] - g < box[3]:
                    clear = False
                    break
            if clear:
                shown[i] = True
                kept.append((box, axis))
        self.tick_labels.set_shown(shown)

    def _layout(self, sx: float, sy: float, zc: tuple[float, float]) -> None:
        t = self.transform_
        ex, ey = t.extent
        z = self.floor_z
        tick_len = 0.05
        out = 0.1  # label distance beyond the edge, box units
        paths = [np.array([[-ex, -ey, z], [ex, -ey, z], [ex, ey, z], [-ex, ey, z], [-ex, -ey, z]])]
        labels: list[Label] = []
        axes: list[int] = []  # which axis each tick label belongs to: 0 x, 1 y, 2 loss

        xt = self.x_ticks()
        step_x = xt[1] - xt[0] if len(xt) > 1 else 1.0
        bx = t.xy_to_box(np.stack([xt, np.zeros_like(xt)], axis=1))[:, 0]
        for v, x in zip(xt, bx, strict=True):
            paths.append(np.array([[x, sy * ey, z], [x, sy * (ey + tick_len), z]]))
            labels.append(Label(format_tick(v, step_x), (x, sy * (ey + out), z)))
            axes.append(0)

        yt = self.y_ticks()
        step_y = yt[1] - yt[0] if len(yt) > 1 else 1.0
        by = t.xy_to_box(np.stack([np.zeros_like(yt), yt], axis=1))[:, 1]
        for v, y in zip(yt, by, strict=True):
            paths.append(np.array([[sx * ex, y, z], [sx * (ex + tick_len), y, z]]))
            labels.append(Label(format_tick(v, step_y), (sx * (ex + out), y, z)))
            axes.append(1)

        titles = [
            Label(self.titles_text[0], (0.0, sy * (ey + 2.6 * out), z)),
            Label(self.titles_text[1], (sx * (ex + 2.6 * out), 0.0, z)),
        ]

        if self.show_z:
            cx, cy = zc
            paths.append(np.array([[cx, cy, z], [cx, cy, t.z_top]]))
            z_labels = []
            for value, height in self._z_ticks():
                paths.append(np.array([[cx, cy, height], [cx * (1 + 0.03 / ex), cy * (1 + 0.03 / ey), height]]))
                z_labels.append(Label(value, (cx, cy, height), align=("right", "center"), offset=(-8.0, 0.0)))
            labels = z_labels + labels  # first in line when labels collide (see `_hide_overlapping`)
            axes = [2] * len(z_labels) + axes
            titles.append(Label(self.titles_text[2], (cx, cy, t.z_top + 0.07), align=("center", "bottom")))

        self.lines.set_paths(paths, [AXIS_COLOR] * len(paths))
        self.tick_labels.set_labels(labels)
        self._label_axes = axes
        self.titles.set_labels(titles)

    def _z_ticks(self) -> list[tuple[str, float]]:
        t = self.transform_
        if t.log_scale:
            lo, hi = t.g_lo, t.g_hi
            decades = np.arange(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)
            if len(decades) > 6:
                decades = decades[:: math.ceil(len(decades) / 6)]
            out = []
            for k in decades:
                height = (k - lo) / (hi - lo) * t.z_top
                value = t.fmin + 10.0**k
                out.append((format_tick(value, 10.0**k), float(height)))
            return out
        ticks = nice_ticks(t.g_lo, t.g_hi, 4)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        return [(format_tick(v, step), float((v - t.g_lo) / (t.g_hi - t.g_lo) * t.z_top)) for v in ticks]
