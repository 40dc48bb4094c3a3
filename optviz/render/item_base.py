"""Common ground for the GL items: matrices from the view, pixel scale, GL state that is always restored."""

from __future__ import annotations

import numpy as np
from OpenGL import GL
from pyqtgraph.opengl.GLGraphicsItem import GLGraphicsItem

from optviz.render.gl import qmatrix_to_numpy, viewport_size


class SceneItem(GLGraphicsItem):
    """Base for optviz items. Sub-classes draw in `draw()`; `paint()` wraps it in a known GL state.

    `pixel_scale` multiplies every size given in pixels (line widths, marker radii, label sizes): the
    offscreen renderer raises it when supersampling so a 2x render downsamples to the on-screen look.
    """

    #: Drawn in the view's cached static layer (see optviz.render.view); change it before adding the item.
    static_layer = False

    def __init__(self, parentItem=None):
        super().__init__(parentItem=parentItem)
        self.pixel_scale = 1.0

    def update(self) -> None:
        if getattr(self, "static_layer", False):
            view = self.view()
            if view is not None and hasattr(view, "invalidate_static"):
                view.invalidate_static()
        super().update()

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """(model-view, projection) as row-major float64 (4, 4)."""
        return qmatrix_to_numpy(self.modelViewMatrix()), qmatrix_to_numpy(self.projectionMatrix())

    def effective_pixel_scale(self) -> float:
        view = self.view()
        if view is None:
            return self.pixel_scale
        override = getattr(view, "pixel_scale_override", None)
        if override is not None:
            return float(override)
        return self.pixel_scale * float(view.devicePixelRatioF())

    def paint(self) -> None:
        if not self.visible():
            return
        try:
            self.draw(viewport_size())
        finally:
            GL.glDepthMask(GL.GL_TRUE)
            GL.glDisable(GL.GL_BLEND)
            GL.glEnable(GL.GL_DEPTH_TEST)
            GL.glDepthFunc(GL.GL_LESS)
            GL.glActiveTexture(GL.GL_TEXTURE0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            GL.glUseProgram(0)

    def draw(self, viewport: tuple[float, float]) -> None:  # pragma: no cover - every item overrides it
        """Issue the item's GL calls; `paint` has set up and will restore the GL state around this."""
        raise TypeError(f"{type(self).__name__} must override draw()")


def blend_over() -> None:
    """Straight-alpha 'over' blending that keeps the destination alpha at 1 (readbacks stay opaque)."""
    GL.glEnable(GL.GL_BLEND)
    GL.glBlendFuncSeparate(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA, GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)


def camera_frame(mv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(eye, right, up, back) in item coordinates from a rigid model-view matrix."""
    rot = mv[:3, :3]
    eye = -rot.T @ mv[:3, 3]
    return eye, rot[0], rot[1], rot[2]


def rgba(color) -> tuple[float, float, float, float]:
    """Any pyqtgraph-accepted colour (hex string, 0-255 tuple, QColor, 0-1 float tuple) as RGBA floats."""
    if isinstance(color, tuple | list | np.ndarray) and len(color) in (3, 4):
        arr = np.asarray(color, dtype=float)
        if arr.max(initial=0.0) <= 1.0 and np.issubdtype(np.asarray(color).dtype, np.floating):
            return tuple(np.append(arr, 1.0)[:4].tolist()) if len(arr) == 3 else tuple(arr.tolist())
    import pyqtgraph as pg

    return pg.mkColor(color).getRgbF()
