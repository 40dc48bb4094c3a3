"""Screen-facing markers drawn by shaders/marker.*: lit balls (trail heads), rings (start points),
crosses (diverged runs) and diamonds (known minima). One instanced draw for all markers of an item."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from OpenGL import GL

from optviz.render.gl import AttribState, Buffer, PerShareGroup
from optviz.render.item_base import SceneItem, blend_over, rgba

BALL, RING, CROSS, DIAMOND = 0, 1, 2, 3
_FLOATS = 9  # center xyz, radius, rgba, shape
_STRIDE = _FLOATS * 4


class _MarkerGPU:
    def __init__(self):
        self.buffer = Buffer()
        self.version = -1


class MarkerItem(SceneItem):
    """A set of markers: centres (n, 3) in box coordinates, radii in pixels, RGBA colours, shapes.

    `xray` (0 off) is the opacity of the parts hidden behind the surface, drawn first with the depth test inverted
    and a light outline (as the trails' hidden pass): a head that ran behind a valley wall is still found."""

    def __init__(
        self,
        *,
        depth_test: bool = True,
        depth_bias: float = 0.01,
        outline_color=(0.05, 0.06, 0.08, 0.9),
        xray: float = 0.0,
        xray_outline_color=(0.93, 0.95, 0.98, 0.95),
        parentItem=None,
    ):
        super().__init__(parentItem=parentItem)
        self._gpu: PerShareGroup[_MarkerGPU] = PerShareGroup(_MarkerGPU)
        self._data = np.zeros((0, _FLOATS), dtype=np.float32)
        self._version = 0
        self.depth_test = bool(depth_test)
        self.depth_bias = float(depth_bias)
        self.outline_color = rgba(outline_color)
        self.xray = float(xray)
        self.xray_outline_color = rgba(xray_outline_color)

    def set_markers(
        self,
        centers: np.ndarray,
        colors: Sequence | np.ndarray,
        radii: float | Sequence[float] = 6.0,
        shapes: int | Sequence[int] = BALL,
    ) -> None:
        centers = np.asarray(centers, dtype=np.float32).reshape(-1, 3)
        n = len(centers)
        data = np.zeros((n, _FLOATS), dtype=np.float32)
        data[:, :3] = centers
        data[:, 3] = np.broadcast_to(np.asarray(radii, dtype=np.float32), (n,))
        if isinstance(colors, np.ndarray) and colors.ndim == 2 and colors.dtype.kind == "f":
            cols = np.broadcast_to(colors, (n, 4))
        else:
            cols = np.array([rgba(c) for c in colors], dtype=np.float32).reshape(-1, 4) if n else np.zeros((0, 4))
        data[:, 4:8] = cols
        data[:, 8] = np.broadcast_to(np.asarray(shapes, dtype=np.float32), (n,))
        if data.shape == self._data.shape and np.array_equal(data, self._data):
            return  # unchanged: no upload, and a static layer holding these markers stays valid
        self._data = data
        self._version += 1
        self.update()

    @property
    def data(self) -> np.ndarray:
        """(n, 9) float32: x, y, z, radius, r, g, b, a, shape (read it, don't write it)."""
        return self._data

    def draw(self, viewport) -> None:
        n = len(self._data)
        if n == 0:
            return
        from optviz.render.shaders import get_program

        gpu = self._gpu.get()
        if gpu.version != self._version:
            gpu.buffer.upload(self._data)
            gpu.version = self._version
        mv, proj = self.matrices()
        if self.depth_test:
            GL.glEnable(GL.GL_DEPTH_TEST)
        else:
            GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        blend_over()
        prog = get_program("marker")
        attribs = AttribState()
        with prog:
            prog.set("u_mv", mv)
            prog.set("u_proj", proj)
            prog.set("u_viewport", viewport)
            prog.set("u_pixel_scale", self.effective_pixel_scale())
            prog.set("u_depth_bias", self.depth_bias)
            gpu.buffer.bind()
            attribs.pointer(0, 4, _STRIDE, 0, divisor=1)
            attribs.pointer(1, 4, _STRIDE, 16, divisor=1)
            attribs.pointer(2, 1, _STRIDE, 32, divisor=1)
            if self.xray > 0.0 and self.depth_test:
                GL.glDepthFunc(GL.GL_GREATER)
                GL.glDepthMask(GL.GL_FALSE)
                prog.set("u_opacity", self.xray)
                prog.set("u_outline_color", self.xray_outline_color)
                GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, n)
                GL.glDepthFunc(GL.GL_LESS)
                GL.glDepthMask(GL.GL_TRUE)
            prog.set("u_opacity", 1.0)
            prog.set("u_outline_color", self.outline_color)
            GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, n)
            attribs.release()
