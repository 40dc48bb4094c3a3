"""Optimizer trails: thick antialiased ribbons extruded in screen space by shaders/trail.*.

All paths share one vertex buffer. Each path is a block `[p0, p0 | p0, p0, p1, p1, ..., pn, pn | pn, pn ...]`
of vec4 (x, y, z, step): every point twice (one vertex per ribbon side) plus a padding pair at each end, so
the shader's a_prev / a_pos / a_next can read the same buffer two vertices apart. Steps may be fractional
(a draped path has sub-points between optimizer steps). Blocks keep spare capacity: replacing one path
overwrites only its block unless it outgrew it. The time cursor is a uniform plus a draw count: moving it
uploads nothing.

Screen-space simplification: an optimizer creeping into a minimum puts hundreds of steps into a few pixels,
and on software GL every vertex costs as much as a pixel-sized triangle. So each frame draws a path's points
only where they are at least `tolerance_px` apart along the path on screen (`screen_simplify`: every dropped
point lies within that distance of a drawn one), from a second buffer of simplified blocks, then the last
stretch from the last simplified point to the head at full resolution, so the head is exact. The
simplification depends on the camera and the path only: a still camera (playing a race) reuses it, an
orbiting one recomputes it (vectorised; the uploads are a few kilobytes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from OpenGL import GL

from optviz.render.gl import AttribState, Buffer, PerShareGroup
from optviz.render.item_base import SceneItem, blend_over, rgba

_STRIDE = 16  # bytes per vertex: vec4


class _TrailGPU:
    def __init__(self):
        self.buffer = Buffer()
        self.version = -1
        self.block_versions: dict[int, int] = {}
        self.simplified = Buffer()
        self.simplified_version = -1


def _capacity(n: int) -> int:
    return n + n // 4 + 16


def _block(points: np.ndarray, steps: np.ndarray, capacity: int) -> np.ndarray:
    """(2 * (capacity + 2), 4) float32 vertices of one path (see the module doc); spare rows repeat the end."""
    n = len(points)
    data = np.empty((capacity + 2, 4), dtype=np.float32)
    data[1 : n + 1, :3] = points
    data[1 : n + 1, 3] = steps
    data[0] = data[1]
    data[n + 1 :] = data[n]
    return np.repeat(data, 2, axis=0)


def _path_block(points: np.ndarray, steps: np.ndarray, capacity: int) -> np.ndarray:
    """`_block`, or no rows at all for an empty path."""
    return _block(points, steps, capacity) if len(points) else np.zeros((0, 4), dtype=np.float32)


def screen_simplify(
    points: np.ndarray, mvp: np.ndarray, viewport: Sequence[float], tolerance_px: float, max_segments: int
) -> np.ndarray:
    """Indices of the points of a polyline worth drawing at this camera, always the first and the last.

    A point is kept when the path's length on screen since the start crosses into the next `tolerance_px`
    interval, so every dropped point lies within `tolerance_px` (along the path, hence also in a straight
    line) of the kept point before it, and every step longer than that keeps both its ends. Points behind
    the eye make the projection meaningless: then nothing is dropped. If more than `max_segments` remain
    (a path zig-zagging across the whole view), every k-th of them is kept.
    """
    n = len(points)
    if n <= 2 or tolerance_px <= 0.0:
        kept = np.arange(n)
    else:
        rows = mvp[[0, 1, 3]]
        clip = np.asarray(points, dtype=np.float64) @ rows[:, :3].T + rows[:, 3]
        if not (clip[:, 2] > 1e-9).all():
            kept = np.arange(n)
        else:
            pixels = clip[:, :2] / clip[:, 2:] * (0.5 * np.asarray(viewport, dtype=np.float64))
            length = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pixels, axis=0).T))])
            interval = np.floor(length / tolerance_px)
            keep = np.empty(n, dtype=bool)
            keep[0] = keep[-1] = True
            keep[1:-1] = interval[1:-1] != interval[:-2]
            kept = np.flatnonzero(keep)
    if len(kept) - 1 > max_segments > 0:
        thinned = kept[:: -(-(len(kept) - 1) // max_segments)]
        kept = thinned if thinned[-1] == n - 1 else np.append(thinned, n - 1)
    return kept


class TrailItem(SceneItem):
    """Polylines in box coordinates, each with a colour, drawn up to a shared time cursor.

    Style (pixels unless noted): `width`, `outline` (dark casing on each side), `tail_alpha` and `taper`
    (opacity and width factor at the faded end), `fade` (steps over which the fade happens; None: the whole
    visible trail), `depth_bias` (box units towards the camera, keeps ribbons off the surface they lie on),
    `clip` (box half sizes outside which nothing is drawn; None: no clipping), `shade` (tube shading 0..1),
    `xray` (opacity of the parts hidden behind the surface, drawn thin and uncased in a second pass with the
    depth test inverted, so a run down a narrow valley is never lost; 0 turns it off), `tolerance_px` (screen
    distance within which points are merged, see the module doc; 0 draws every point) and `max_segments`
    (segments drawn per path at most before the stretch to the head).
    """

    def __init__(
        self,
        *,
        width: float = 5.0,
        outline: float = 1.6,
        outline_color=(0.03, 0.035, 0.045, 0.95),
        tail_alpha: float = 0.55,
        taper: float = 0.6,
        fade: float | None = None,
        depth_bias: float = 0.012,
        shade: float = 1.0,
        xray: float = 0.5,
        tolerance_px: float = 1.0,
        max_segments: int = 2000,
        parentItem=None,
    ):
        super().__init__(parentItem=parentItem)
        self._gpu: PerShareGroup[_TrailGPU] = PerShareGroup(_TrailGPU)
        self.width = float(width)
        self.outline = float(outline)
        self.outline_color = rgba(outline_color)
        self.tail_alpha = float(tail_alpha)
        self.taper = float(taper)
        self.fade = fade
        self.depth_bias = float(depth_bias)
        self.shade = float(shade)
        self.xray = float(xray)
        self.tolerance_px = float(tolerance_px)
        self.max_segments = int(max_segments)
        self.clip: tuple[float, float] | None = None
        self._paths: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []
        self._capacities: list[int] = []
        self._colors: list[tuple[float, float, float, float]] = []
        self._visible: list[bool] = []
        self._offsets = np.zeros(1, dtype=np.int64)  # first vertex of each block
        self._path_versions: list[int] = []  # bumped whenever a path changes, to redo its simplification
        # The simplified blocks (see the module doc): the camera they were made for, per path the kept point
        # indices and the path version they were made from, and all blocks in one array.
        self._kept_key: tuple | None = None
        self._kept: list[np.ndarray] = []
        self._kept_versions: list[int] = []
        self._simplified_offsets = np.zeros(1, dtype=np.int64)
        self._simplified_data = np.zeros((0, 4), dtype=np.float32)
        self._simplified_version = 0
        self._data = np.zeros((0, 4), dtype=np.float32)
        self._version = 0
        self._block_versions: dict[int, int] = {}
        self.cursor: float | None = None

    # ---- data -----------------------------------------------------------------------------------------
    def set_paths(
        self, paths: Sequence[np.ndarray], colors: Sequence | None = None, steps: Sequence[np.ndarray] | None = None
    ) -> None:
        """Replace all paths ((n_i, 3) box coordinates; n_i may be 0), their colours and optionally the
        (increasing, possibly fractional) step of each point; the default is 0, 1, 2, ..."""
        self._paths = [np.asarray(p, dtype=np.float32).reshape(-1, 3) for p in paths]
        if steps is None:
            self._steps = [np.arange(len(p), dtype=np.float64) for p in self._paths]
        else:
            self._steps = [np.asarray(st, dtype=np.float64).reshape(-1) for st in steps]
            if [len(st) for st in self._steps] != [len(p) for p in self._paths]:
                raise ValueError("each path needs one step value per point")
        if colors is None:
            colors = [(1.0, 1.0, 1.0, 1.0)] * len(self._paths)
        if len(colors) != len(self._paths):
            raise ValueError(f"{len(self._paths)} paths but {len(colors)} colours")
        self._colors = [rgba(c) for c in colors]
        self._visible = [True] * len(self._paths)
        self._rebuild()

    @property
    def path_count(self) -> int:
        return len(self._paths)

    def set_colors(self, colors: Sequence) -> None:
        if len(colors) != len(self._paths):
            raise ValueError(f"{len(self._paths)} paths but {len(colors)} colours")
        self._colors = [rgba(c) for c in colors]
        self.update()

    def set_path_visible(self, index: int, visible: bool) -> None:
        self._visible[index] = bool(visible)
        self.update()

    def update_path(self, index: int, path: np.ndarray, steps: np.ndarray | None = None) -> None:
        """Replace one path; if it fits its block's capacity only that block of the GPU buffer is rewritten."""
        path = np.asarray(path, dtype=np.float32).reshape(-1, 3)
        steps = np.arange(len(path), dtype=np.float64) if steps is None else np.asarray(steps, np.float64)
        if len(steps) != len(path):
            raise ValueError("the path needs one step value per point")
        self._paths[index] = path
        self._steps[index] = steps
        if len(path) > self._capacities[index] or len(path) == 0:
            self._rebuild()
            return
        start, stop = int(self._offsets[index]), int(self._offsets[index + 1])
        self._data[start:stop] = _path_block(path, steps, self._capacities[index])
        self._path_versions[index] += 1
        self._block_versions[index] = self._block_versions.get(index, 0) + 1
        self.update()

    def _rebuild(self) -> None:
        self._capacities = [_capacity(len(p)) if len(p) else 0 for p in self._paths]
        paths = zip(self._paths, self._steps, self._capacities, strict=True)
        blocks = [_path_block(p, st, cap) for p, st, cap in paths]
        self._path_versions = [v + 1 for v in self._path_versions[: len(self._paths)]]
        self._path_versions += [0] * (len(self._paths) - len(self._path_versions))
        self._kept_key = None
        sizes = np.array([len(b) for b in blocks], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(sizes)])
        self._data = np.concatenate(blocks) if blocks else np.zeros((0, 4), np.float32)
        self._version += 1
        self._block_versions = {}
        self.update()

    def set_cursor(self, step: float | None) -> None:
        """Show each path up to this (fractional) step; None shows everything."""
        self.cursor = None if step is None else max(float(step), 0.0)
        self.update()

    @property
    def paths(self) -> list[np.ndarray]:
        return list(self._paths)

    # ---- drawing --------------------------------------------------------------------------------------
    def _sync(self, gpu: _TrailGPU) -> None:
        if gpu.simplified_version != self._simplified_version:
            gpu.simplified.upload(self._simplified_data)
            gpu.simplified_version = self._simplified_version
        if gpu.version != self._version:
            gpu.buffer.upload(self._data)
            gpu.version = self._version
            gpu.block_versions = dict(self._block_versions)
            return
        for index, version in self._block_versions.items():
            if gpu.block_versions.get(index) != version:
                start, stop = int(self._offsets[index]), int(self._offsets[index + 1])
                gpu.buffer.write(start * _STRIDE, self._data[start:stop])
                gpu.block_versions[index] = version

    def _simplify(self, mvp: np.ndarray, viewport) -> None:
        """Bring the simplified blocks up to date with this camera and the paths (see the module doc)."""
        key = (mvp.tobytes(), tuple(float(v) for v in viewport), self.tolerance_px, self.max_segments)
        if key != self._kept_key:
            self._kept_key = key
            self._kept = [np.zeros(0, dtype=np.int64)] * len(self._paths)
            self._kept_versions = [-1] * len(self._paths)
        stale = [i for i, version in enumerate(self._path_versions) if self._kept_versions[i] != version]
        if not stale:
            return
        for i in stale:
            self._kept[i] = screen_simplify(self._paths[i], mvp, viewport, self.tolerance_px, self.max_segments)
            self._kept_versions[i] = self._path_versions[i]
        paths = zip(self._paths, self._steps, self._kept, strict=True)
        blocks = [_path_block(p[k], st[k], len(k)) for p, st, k in paths]
        self._simplified_offsets = np.concatenate([[0], np.cumsum([len(b) for b in blocks], dtype=np.int64)])
        self._simplified_data = np.concatenate(blocks) if blocks else np.zeros((0, 4), np.float32)
        self._simplified_version += 1

    def draw(self, viewport) -> None:
        if not self._paths or len(self._data) == 0:
            return
        from optviz.render.shaders import get_program

        mv, proj = self.matrices()
        self._simplify(proj @ mv, viewport)
        gpu = self._gpu.get()
        self._sync(gpu)
        scale = self.effective_pixel_scale()
        last = max((float(st[-1]) for st in self._steps if len(st)), default=0.0)
        cursor = last if self.cursor is None else self.cursor
        fade = float(self.fade) if self.fade is not None else max(min(cursor, last), 1.0)

        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)
        blend_over()
        prog = get_program("trail")
        attribs = AttribState()
        with prog:
            prog.set("u_mv", mv)
            prog.set("u_proj", proj)
            prog.set("u_mvp", proj @ mv)
            prog.set("u_viewport", viewport)
            prog.set("u_width", self.width * scale)
            prog.set("u_outline", self.outline * scale)
            prog.set("u_outline_color", self.outline_color)
            prog.set("u_fade", fade)
            prog.set("u_tail_alpha", self.tail_alpha)
            prog.set("u_taper", self.taper)
            prog.set("u_depth_bias", self.depth_bias)
            prog.set("u_shade", self.shade)
            prog.set("u_clip", self.clip if self.clip is not None else (1e9, 1e9))
            plan = self._draw_plan(cursor)
            if self.xray > 0.0:
                GL.glDepthFunc(GL.GL_GREATER)
                prog.set("u_opacity", self.xray)
                prog.set("u_width", 0.75 * self.width * scale)
                prog.set("u_outline", 0.0)
                self._draw_strips(prog, gpu, attribs, plan)
                GL.glDepthFunc(GL.GL_LESS)
                prog.set("u_width", self.width * scale)
                prog.set("u_outline", self.outline * scale)
            prog.set("u_opacity", 1.0)
            self._draw_strips(prog, gpu, attribs, plan)

    def visible_points(self, index: int, cursor: float | None = None) -> int:
        """How many points of path `index` the cursor shows (the last one possibly cut short)."""
        steps = self._steps[index]
        if len(steps) == 0:
            return 0
        if cursor is None:
            cursor = self.cursor
        if cursor is None:
            return len(steps)
        whole = int(np.searchsorted(steps, cursor, side="right"))
        partial = 1 if 0 < whole < len(steps) and cursor > steps[whole - 1] + 1e-9 else 0
        return whole + partial

    def _draw_plan(self, cursor: float) -> list[tuple]:
        """Per visible path: (colour, cursor, simplified (first vertex, count, cut step) or None, full-resolution
        (first vertex, count)). The simplified strip runs to the last kept point m at or before the last point
        wholly shown; the full-resolution strip from m to the head."""
        plan = []
        for i, path in enumerate(self._paths):
            if len(path) < 2 or not self._visible[i]:
                continue
            points = self.visible_points(i, cursor)
            if points < 2:
                continue
            steps, kept = self._steps[i], self._kept[i]
            last = min(max(int(np.searchsorted(steps, cursor, side="right")) - 1, 0), points - 1)
            j = int(np.searchsorted(kept, last, side="right")) - 1
            m = int(kept[j])
            # j == m: nothing was dropped up to m, so the full-resolution strip alone draws it all.
            simplified = None if j == m else (int(self._simplified_offsets[i]), 2 * (j + 1), float(steps[m]))
            start = 0 if simplified is None else m
            full = (int(self._offsets[i]) + 2 * start, 2 * (points - start))
            plan.append((self._colors[i], min(cursor, float(steps[-1])), simplified, full))
        return plan

    def _draw_strips(self, prog, gpu: _TrailGPU, attribs: AttribState, plan: list[tuple]) -> None:
        for buffer, simplified in ((gpu.simplified, True), (gpu.buffer, False)):
            buffer.bind()
            attribs.pointer(0, 4, _STRIDE, 0)
            attribs.pointer(1, 4, _STRIDE, 2 * _STRIDE)
            attribs.pointer(2, 4, _STRIDE, 4 * _STRIDE)
            for color, cursor, body, full in plan:
                if simplified and body is None:
                    continue
                prog.set("u_color", color)
                prog.set("u_cursor", cursor)
                # The simplified strip ends at its cut step: the next kept point must not bend its last join.
                prog.set("u_cut", body[2] if simplified else 1e30)
                GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, *(body[:2] if simplified else full))
            attribs.release()
