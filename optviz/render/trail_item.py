"""Optimizer trails: thick antialiased ribbons extruded in screen space by shaders/trail.*.

All paths share one vertex buffer. Each path is a block `[p0, p0 | p0, p0, p1, p1, ..., pn, pn | pn, pn ...]`
of vec4 (x, y, z, step): every point twice (one vertex per ribbon side) plus a padding pair at each end, so
the shader's a_prev / a_pos / a_next can read the same buffer two vertices apart. Steps may be fractional
(a draped path has sub-points between optimizer steps). Blocks keep spare capacity: replacing one path
overwrites only its block unless it outgrew it. The time cursor is a uniform plus a draw count: moving it
uploads nothing.

Long paths are drawn with a vertex budget: after its full-resolution points, a block holds coarser copies of
the path (every 2nd, 4th, ... point, plus the last). A path showing more than `max_segments` segments is
drawn as the coarsest-needed copy up to the last of its points before the cursor, then at full resolution
from there to the head, so the head is exact and a short race looks exactly as before.
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


def _level_strides(capacity: int, budget: int) -> list[int]:
    """Strides (2, 4, 8, ...) of the coarse copies a block of this capacity keeps, the last within budget."""
    strides = []
    stride = 1
    while (capacity - 1) // stride > budget:
        stride *= 2
        strides.append(stride)
    return strides


def _level_capacity(capacity: int, stride: int) -> int:
    return (capacity - 1) // stride + 2


def _path_block(points: np.ndarray, steps: np.ndarray, capacity: int, budget: int) -> tuple[np.ndarray, list]:
    """A path's whole block: full resolution, then its coarse copies; and [(first vertex, stride)] of these."""
    parts = [_block(points, steps, capacity)]
    levels = []
    n = len(points)
    for stride in _level_strides(capacity, budget):
        idx = np.arange(0, n, stride)
        if idx[-1] != n - 1:
            idx = np.append(idx, n - 1)
        levels.append((sum(len(p) for p in parts), stride))
        parts.append(_block(points[idx], steps[idx], _level_capacity(capacity, stride)))
    return np.concatenate(parts), levels


class TrailItem(SceneItem):
    """Polylines in box coordinates, each with a colour, drawn up to a shared time cursor.

    Style (pixels unless noted): `width`, `outline` (dark casing on each side), `tail_alpha` and `taper`
    (opacity and width factor at the faded end), `fade` (steps over which the fade happens; None: the whole
    visible trail), `depth_bias` (box units towards the camera, keeps ribbons off the surface they lie on),
    `clip` (box half sizes outside which nothing is drawn; None: no clipping), `shade` (tube shading 0..1),
    `xray` (opacity of the parts hidden behind the surface, drawn thin and uncased in a second pass with the
    depth test inverted, so a run down a narrow valley is never lost; 0 turns it off).
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
        #: Vertex budget: segments drawn per path at most, before the last stretch to the head (see module doc).
        self.max_segments = int(max_segments)
        self.clip: tuple[float, float] | None = None
        self._paths: list[np.ndarray] = []
        self._steps: list[np.ndarray] = []
        self._capacities: list[int] = []
        self._colors: list[tuple[float, float, float, float]] = []
        self._visible: list[bool] = []
        self._offsets = np.zeros(1, dtype=np.int64)  # first vertex of each block
        self._levels: list[list[tuple[int, int]]] = []  # per path: (first vertex in its block, stride)
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
        self._data[start:stop], self._levels[index] = _path_block(
            path, steps, self._capacities[index], self.max_segments
        )
        self._block_versions[index] = self._block_versions.get(index, 0) + 1
        self.update()

    def _rebuild(self) -> None:
        self._capacities = [_capacity(len(p)) if len(p) else 0 for p in self._paths]
        built = [
            _path_block(p, st, cap, self.max_segments) if len(p) else (np.zeros((0, 4), np.float32), [])
            for p, st, cap in zip(self._paths, self._steps, self._capacities, strict=True)
        ]
        blocks = [b for b, _ in built]
        self._levels = [levels for _, levels in built]
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

    def draw(self, viewport) -> None:
        if not self._paths or len(self._data) == 0:
            return
        from optviz.render.shaders import get_program

        gpu = self._gpu.get()
        self._sync(gpu)
        mv, proj = self.matrices()
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
            prog.set("u_cut", 1e30)
            gpu.buffer.bind()
            attribs.pointer(0, 4, _STRIDE, 0)
            attribs.pointer(1, 4, _STRIDE, 2 * _STRIDE)
            attribs.pointer(2, 4, _STRIDE, 4 * _STRIDE)
            if self.xray > 0.0:
                GL.glDepthFunc(GL.GL_GREATER)
                prog.set("u_opacity", self.xray)
                prog.set("u_width", 0.75 * self.width * scale)
                prog.set("u_outline", 0.0)
                self._draw_paths(prog, cursor)
                GL.glDepthFunc(GL.GL_LESS)
                prog.set("u_width", self.width * scale)
                prog.set("u_outline", self.outline * scale)
            prog.set("u_opacity", 1.0)
            self._draw_paths(prog, cursor)
            attribs.release()

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

    def _draw_paths(self, prog, cursor: float) -> None:
        for i, path in enumerate(self._paths):
            if len(path) < 2 or not self._visible[i]:
                continue
            points = self.visible_points(i, cursor)
            if points < 2:
                continue
            prog.set("u_cursor", min(cursor, float(self._steps[i][-1])))
            prog.set("u_color", self._colors[i])
            offset = int(self._offsets[i])
            seam = self._seam(i, points, cursor)
            if seam is None:
                GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, offset, 2 * points)
                continue
            level_first, stride, m = seam
            # The coarse copy up to full-resolution point m (a multiple of the stride), then m .. the head.
            prog.set("u_cut", float(self._steps[i][m]))
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, offset + level_first, 2 * (m // stride + 1))
            prog.set("u_cut", 1e30)
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, offset + 2 * m, 2 * (points - m))

    def _seam(self, index: int, points: int, cursor: float) -> tuple[int, int, int] | None:
        """(first vertex of the coarse copy, its stride, full-resolution point where it hands over) for a path
        showing more segments than the budget; None to draw it whole at full resolution."""
        levels = self._levels[index]
        if not levels or points - 1 <= self.max_segments:
            return None
        steps = self._steps[index]
        last = int(np.searchsorted(steps, cursor, side="right")) - 1  # last point wholly shown
        last = min(max(last, 0), points - 1)
        for level_first, stride in levels:
            if last // stride <= self.max_segments or stride == levels[-1][1]:
                m = (last // stride) * stride
                return (level_first, stride, m) if m > 0 else None
        return None
