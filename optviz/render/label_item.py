"""Text labels in the 3-D scene: a glyph atlas painted by QPainter into a texture, drawn as instanced quads.

pyqtgraph's GLTextItem paints with a QPainter on the view widget, which never reaches an offscreen FBO (the
exporter's frames would lose their axis labels) and cannot work without a widget. These labels are ordinary
GL geometry, so the widget, the offscreen renderer and the ES path all draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from OpenGL import GL
from PySide6 import QtCore, QtGui

from optviz.render.gl import AttribState, Buffer, PerShareGroup, Texture2D
from optviz.render.item_base import SceneItem, blend_over, rgba

_FLOATS = 11  # anchor xyz, rect (dx, dy, w, h), uv (u0, v0, u1, v1)
_STRIDE = _FLOATS * 4


@dataclass(frozen=True)
class Label:
    """Text at an anchor (box coordinates); `align` is a pair of 'left|center|right' and 'bottom|center|top'
    saying which point of the text box sits on the anchor, `offset` shifts it in pixels (y up)."""

    text: str
    anchor: tuple[float, float, float]
    align: tuple[str, str] = ("center", "center")
    offset: tuple[float, float] = (0.0, 0.0)


class _LabelGPU:
    def __init__(self):
        self.buffer = Buffer()
        self.atlas = Texture2D(filter=GL.GL_LINEAR)
        self.version = None  # what the instance buffer holds
        self.atlas_version = None  # what the atlas texture holds


def _render_atlas(texts: Sequence[str], font: QtGui.QFont, scale: float) -> tuple[np.ndarray, list, list]:
    """Paint unique texts into one RGBA image; return (image (h, w, 4) uint8, pixel rects, logical sizes)."""
    font = QtGui.QFont(font)
    font.setPixelSize(max(1, round(font.pixelSize() * scale)))
    metrics = QtGui.QFontMetricsF(font)
    pad = 2
    sizes = [(np.ceil(metrics.horizontalAdvance(t)) + 2 * pad, np.ceil(metrics.height()) + 2 * pad) for t in texts]
    width = int(min(2048, max([s[0] for s in sizes] + [16])))
    rects, x, y, row_h = [], 0, 0, 0
    for w, h in sizes:
        if x + w > width:
            x, y, row_h = 0, y + row_h, 0
        rects.append((x, y, int(w), int(h)))
        x += int(w)
        row_h = max(row_h, int(h))
    height = max(int(y + row_h), 1)
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGBA8888)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
    painter.setFont(font)
    painter.setPen(QtGui.QColor(255, 255, 255))
    for text, (rx, ry, _w, _h) in zip(texts, rects, strict=True):
        painter.drawText(QtCore.QPointF(rx + pad, ry + pad + metrics.ascent()), text)
    painter.end()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    arr = arr[:, : width * 4].reshape(height, width, 4).copy()  # copy: the QImage owns that memory
    logical = [(w / scale, h / scale) for w, h in sizes]
    return arr, rects, logical


class LabelItem(SceneItem):
    """A batch of text labels in one colour and font, always drawn on top (no depth test)."""

    def __init__(self, *, color=(0.78, 0.80, 0.86, 1.0), pixel_size: int = 12, parentItem=None):
        super().__init__(parentItem=parentItem)
        self._gpu: PerShareGroup[_LabelGPU] = PerShareGroup(_LabelGPU)
        self.color = rgba(color)
        self.font = QtGui.QFont()
        self.font.setPixelSize(int(pixel_size))
        self._labels: list[Label] = []
        self._version = 0
        self._built_for: tuple[int, float] | None = None
        self._atlas: np.ndarray | None = None
        self._instances = np.zeros((0, _FLOATS), dtype=np.float32)
        self._shown: np.ndarray | None = None  # which labels are drawn (None: all); see `set_shown`

    def set_labels(self, labels: Sequence[Label]) -> None:
        self._labels = list(labels)
        self._shown = None
        self._version += 1
        self.update()

    def set_shown(self, shown: np.ndarray | None) -> None:
        """Draw only the labels where `shown` is true (one bool per label; None draws all)."""
        shown = None if shown is None else np.asarray(shown, dtype=bool)
        same = (shown is None) == (self._shown is None) and (shown is None or np.array_equal(shown, self._shown))
        if not same:
            self._shown = shown
            self.update()

    @property
    def shown(self) -> np.ndarray:
        """One bool per label: drawn or not."""
        return np.ones(len(self._labels), dtype=bool) if self._shown is None else self._shown.copy()

    def screen_rects(self, mvp: np.ndarray, viewport: tuple[float, float], scale: float) -> np.ndarray:
        """(n, 4) pixel boxes x0, y0, x1, y1 (origin bottom-left, as the viewport) where each label is drawn at
        this model-view-projection, as shaders/label.vert places it; a label behind the camera gets NaNs."""
        if self._built_for != (self._version, scale):
            self._build(scale)
        inst = self._instances.astype(np.float64)
        if len(inst) == 0:
            return np.zeros((0, 4))
        hom = np.concatenate([inst[:, :3], np.ones((len(inst), 1))], axis=1) @ mvp.T
        w = hom[:, 3:4]
        ndc = hom[:, :2] / np.where(w > 0, w, np.nan)
        anchor = np.floor((ndc * 0.5 + 0.5) * np.asarray(viewport, dtype=np.float64) + 0.5)
        lo = anchor + inst[:, 3:5] * scale
        return np.concatenate([lo, lo + inst[:, 5:7] * scale], axis=1)

    @property
    def labels(self) -> list[Label]:
        return list(self._labels)

    def _build(self, scale: float) -> None:
        texts = sorted({lab.text for lab in self._labels})
        atlas, rects, logical = _render_atlas(texts, self.font, scale)
        h, w = atlas.shape[:2]
        where = {t: (r, s) for t, r, s in zip(texts, rects, logical, strict=True)}
        inst = np.zeros((len(self._labels), _FLOATS), dtype=np.float32)
        fx = {"left": 0.0, "center": 0.5, "right": 1.0}
        fy = {"bottom": 0.0, "center": 0.5, "top": 1.0}
        for k, lab in enumerate(self._labels):
            (rx, ry, rw, rh), (lw, lh) = where[lab.text]
            inst[k, :3] = lab.anchor
            inst[k, 3] = -fx[lab.align[0]] * lw + lab.offset[0]
            inst[k, 4] = -fy[lab.align[1]] * lh + lab.offset[1]
            inst[k, 5:7] = (lw, lh)
            # Image row 0 is the top; the quad's v grows upwards.
            inst[k, 7:11] = (rx / w, (ry + rh) / h, (rx + rw) / w, ry / h)
        self._atlas = atlas
        self._instances = inst
        self._built_for = (self._version, scale)

    def draw(self, viewport) -> None:
        if not self._labels:
            return
        from optviz.render.shaders import get_program

        scale = self.effective_pixel_scale()
        if self._built_for != (self._version, scale):
            self._build(scale)
        instances = self._instances if self._shown is None else self._instances[self._shown]
        if len(instances) == 0:
            return
        gpu = self._gpu.get()
        built = (self._version, scale)
        if gpu.atlas_version != built:
            gpu.atlas.upload_rgba8(self._atlas)
            gpu.atlas_version = built
        key = (built, None if self._shown is None else self._shown.tobytes())
        if gpu.version != key:
            gpu.buffer.upload(instances)
            gpu.version = key
        mv, proj = self.matrices()
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)
        blend_over()
        prog = get_program("label")
        attribs = AttribState()
        with prog:
            prog.set("u_mvp", proj @ mv)
            prog.set("u_viewport", viewport)
            prog.set("u_pixel_scale", scale)
            prog.set("u_color", self.color)
            gpu.atlas.bind(0)
            prog.set_int("u_atlas", 0)
            gpu.buffer.bind()
            attribs.pointer(0, 3, _STRIDE, 0, divisor=1)
            attribs.pointer(1, 4, _STRIDE, 12, divisor=1)
            attribs.pointer(2, 4, _STRIDE, 28, divisor=1)
            GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, len(instances))
            attribs.release()
