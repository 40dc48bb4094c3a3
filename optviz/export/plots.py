"""Sweep pictures as PNG bytes, painted with QPainter on a QImage (no window, no GL): a heat map with a colour
bar (sensitivity maps), a categorical map with a legend (basins of attraction), line charts (tuning curves) and
the lr finder's loss against the learning rate with its suggestions marked.

Every picture has its axes with ticks and labels, a title, and a caption line saying what was measured, so a
picture taken out of context still carries its own caveat.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui

from optviz.render.colormaps import sample

BACKGROUND = QtGui.QColor("#15171c")
TEXT = QtGui.QColor("#e6e9ef")
MUTED = QtGui.QColor("#9aa3b2")
GRID = QtGui.QColor(255, 255, 255, 30)
#: Diverged cells: one fixed colour outside every colormap, named in the legend.
DIVERGED = QtGui.QColor("#d0d0d0")
NOT_CONVERGED = QtGui.QColor("#3a3f4b")

WIDTH, HEIGHT = 960, 720
LEFT, RIGHT, TOP, BOTTOM = 92, 210, 64, 92


_APP = None


def ensure_gui() -> None:
    """QPainter needs a QGuiApplication for fonts; with none yet, make one (offscreen where there is no display).

    A QApplication, not a bare QGuiApplication: a process that draws a chart first and opens windows later (the
    app's File > Export of a sweep, a test run) can still make widgets with it."""
    if QtGui.QGuiApplication.instance() is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6 import QtCore, QtWidgets

        global _APP  # held: an application nobody references is deleted, and Qt calls after that crash
        QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        _APP = QtWidgets.QApplication([])


def _font(px: int, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont("DejaVu Sans")
    font.setPixelSize(px)
    font.setBold(bold)
    return font


def format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        mantissa, exponent = f"{value:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4g}"


def ticks(low: float, high: float, log: bool, count: int = 6) -> list[float]:
    """Round tick values inside [low, high]: powers of ten on a log axis, a 1-2-5 step on a linear one."""
    if log:
        first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
        powers = list(range(first, last + 1))
        stride = max(1, math.ceil(len(powers) / count))
        return [10.0**p for p in powers[::stride]] or [low, high]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    return [start + i * step for i in range(int((high - start) / step + 1e-9) + 1)]


@dataclass(frozen=True)
class Axis:
    label: str
    low: float
    high: float
    log: bool = False

    def unit(self, value: float | np.ndarray) -> float | np.ndarray:
        """Position in [0, 1] along the axis."""
        if self.log:
            return (np.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return (np.asarray(value) - self.low) / (self.high - self.low)


class Figure:
    """One picture: a plot rectangle with two axes, a title and a caption; `png` gives its bytes."""

    def __init__(self, title: str, caption: str, x: Axis, y: Axis) -> None:
        ensure_gui()
        self.x, self.y = x, y
        self.image = QtGui.QImage(WIDTH, HEIGHT, QtGui.QImage.Format.Format_RGB32)
        self.image.fill(BACKGROUND)
        self.painter = QtGui.QPainter(self.image)
        self.painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.plot = QtCore.QRectF(LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM)
        self._text(QtCore.QRectF(LEFT, 12, WIDTH - LEFT - 20, 30), title, 18, TEXT, bold=True)
        self._text(QtCore.QRectF(LEFT, HEIGHT - 30, WIDTH - LEFT - 20, 22), caption, 12, MUTED)

    def _text(
        self,
        rect: QtCore.QRectF,
        text: str,
        px: int,
        colour: QtGui.QColor,
        bold: bool = False,
        align: QtCore.Qt.AlignmentFlag = QtCore.Qt.AlignmentFlag.AlignLeft,
    ) -> None:
        self.painter.setFont(_font(px, bold))
        self.painter.setPen(colour)
        metrics = QtGui.QFontMetrics(self.painter.font())
        shown = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, int(rect.width()))
        self.painter.drawText(rect, int(align | QtCore.Qt.AlignmentFlag.AlignVCenter), shown)

    def to_pixel(self, x: float, y: float) -> QtCore.QPointF:
        px = self.plot.left() + float(self.x.unit(x)) * self.plot.width()
        py = self.plot.bottom() - float(self.y.unit(y)) * self.plot.height()
        return QtCore.QPointF(px, py)

    def draw_axes(self) -> None:
        p = self.painter
        p.setPen(QtGui.QPen(MUTED, 1))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawRect(self.plot)
        for value in ticks(self.x.low, self.x.high, self.x.log):
            px = self.to_pixel(value, self.y.low).x()
            p.setPen(QtGui.QPen(GRID, 1))
            p.drawLine(QtCore.QPointF(px, self.plot.top()), QtCore.QPointF(px, self.plot.bottom()))
            rect = QtCore.QRectF(px - 40, self.plot.bottom() + 4, 80, 20)
            self._text(rect, format_tick(value), 12, MUTED, align=QtCore.Qt.AlignmentFlag.AlignHCenter)
        for value in ticks(self.y.low, self.y.high, self.y.log):
            py = self.to_pixel(self.x.low, value).y()
            p.setPen(QtGui.QPen(GRID, 1))
            p.drawLine(QtCore.QPointF(self.plot.left(), py), QtCore.QPointF(self.plot.right(), py))
            rect = QtCore.QRectF(4, py - 10, LEFT - 10, 20)
            self._text(rect, format_tick(value), 12, MUTED, align=QtCore.Qt.AlignmentFlag.AlignRight)
        below = QtCore.QRectF(self.plot.left(), self.plot.bottom() + 26, self.plot.width(), 22)
        self._text(
            below, self.x.label + (" (log)" if self.x.log else ""), 14, TEXT, align=QtCore.Qt.AlignmentFlag.AlignHCenter
        )
        p.save()
        p.translate(18, self.plot.center().y())
        p.rotate(-90)
        self._text(
            QtCore.QRectF(-self.plot.height() / 2, -12, self.plot.height(), 24),
            self.y.label + (" (log)" if self.y.log else ""),
            14,
            TEXT,
            align=QtCore.Qt.AlignmentFlag.AlignHCenter,
        )
        p.restore()

    def cells(self, colours: np.ndarray) -> None:
        """Fill the plot with a (ny, nx, 3) uint8 grid, row 0 at the bottom (cells span the plot evenly)."""
        ny, nx = colours.shape[:2]
        rgba = np.empty((ny, nx, 4), dtype=np.uint8)
        rgba[..., :3] = colours
        rgba[..., 3] = 255
        flipped = np.ascontiguousarray(rgba[::-1])
        image = QtGui.QImage(flipped.data, nx, ny, 4 * nx, QtGui.QImage.Format.Format_RGBA8888)
        self.painter.drawImage(self.plot, image)

    def colour_bar(self, label: str, low: float, high: float, log: bool, cmap: str) -> None:
        bar = QtCore.QRectF(self.plot.right() + 24, self.plot.top(), 18, self.plot.height())
        steps = 128
        for i in range(steps):
            rgb = (sample(cmap, 1.0 - (i + 0.5) / steps) * 255).astype(int)
            top = bar.top() + i * bar.height() / steps
            self.painter.fillRect(
                QtCore.QRectF(bar.left(), top, bar.width(), bar.height() / steps + 1), QtGui.QColor(*rgb)
            )
        self.painter.setPen(QtGui.QPen(MUTED, 1))
        self.painter.drawRect(bar)
        axis = Axis(label, low, high, log)
        for value in ticks(low, high, log, count=5):
            py = bar.bottom() - float(axis.unit(value)) * bar.height()
            self._text(QtCore.QRectF(bar.right() + 4, py - 9, RIGHT - 50, 18), format_tick(value), 11, MUTED)
        self._text(QtCore.QRectF(bar.left() - 10, bar.top() - 26, RIGHT, 20), label, 12, TEXT)

    def legend(self, entries: Sequence[tuple[str, QtGui.QColor]], top: float | None = None) -> None:
        y = self.plot.top() if top is None else top
        for text, colour in entries:
            self.painter.fillRect(QtCore.QRectF(self.plot.right() + 16, y + 3, 14, 14), colour)
            self._text(QtCore.QRectF(self.plot.right() + 36, y, RIGHT - 40, 20), text, 12, TEXT)
            y += 24

    def marker(self, x: float, y: float) -> None:
        point = self.to_pixel(x, y)
        self.painter.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 2))
        self.painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        self.painter.drawEllipse(point, 7, 7)

    def png(self) -> bytes:
        """The finished picture as PNG bytes (the caller writes them: `optviz.cli.outputs`)."""
        self.painter.end()
        buffer = QtCore.QBuffer()
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        self.image.save(buffer, "PNG")
        return bytes(buffer.data())


def colour_values(values: np.ndarray, low: float, high: float, log: bool, cmap: str) -> np.ndarray:
    """(…, 3) uint8 colours of finite values on the colormap between low and high (clipped)."""
    with np.errstate(all="ignore"):
        t = (
            (np.log10(values) - math.log10(low)) / (math.log10(high) - math.log10(low))
            if log
            else ((values - low) / (high - low))
        )
    t = np.nan_to_num(np.clip(t, 0.0, 1.0))
    return (sample(cmap, t) * 255).astype(np.uint8)


def value_range(values: np.ndarray, log: bool) -> tuple[float, float]:
    """The colour scale's ends: the finite values' range (positive ones on a log scale), never empty."""
    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
    if finite.size == 0:
        return (1e-12, 1.0) if log else (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low * 10 if log else low + 1.0
    return low, high


def padded(low: float, high: float, log: bool, share: float = 0.05) -> tuple[float, float]:
    """The range widened by `share` of its span at each end (on its scale), so extremes are not on the edge."""
    if log:
        span = math.log10(high) - math.log10(low)
        return low / 10 ** (share * span), high * 10 ** (share * span)
    span = high - low
    return low - share * span, high + share * span


def heatmap_png(
    title: str,
    caption: str,
    x: Axis,
    y: Axis,
    values: np.ndarray,
    bad: np.ndarray,
    bar_label: str,
    log_colour: bool = True,
    cmap: str = "viridis",
    mark: tuple[float, float] | None = None,
) -> bytes:
    """A sensitivity map: `values` (ny, nx) coloured on a (log) scale, `bad` cells (diverged) in one fixed
    colour named in the legend, an optional ring at the current values."""
    low, high = value_range(np.where(bad, np.nan, values), log_colour)
    colours = colour_values(values, low, high, log_colour, cmap)
    colours[bad] = (DIVERGED.red(), DIVERGED.green(), DIVERGED.blue())
    figure = Figure(title, caption, x, y)
    figure.cells(colours)
    figure.draw_axes()
    figure.colour_bar(bar_label, low, high, log_colour, cmap)
    figure.legend([("diverged", DIVERGED)], top=figure.plot.bottom() + 26)
    if mark is not None:
        figure.marker(*mark)
    return figure.png()


def categories_png(
    title: str,
    caption: str,
    x: Axis,
    y: Axis,
    codes: np.ndarray,
    legend: Sequence[tuple[int, str, QtGui.QColor]],
    points: np.ndarray | None = None,
) -> bytes:
    """A categorical map (basins): `codes` (ny, nx) ints, each drawn in its legend colour; optional points."""
    colours = np.zeros((*codes.shape, 3), dtype=np.uint8)
    for code, _, colour in legend:
        colours[codes == code] = (colour.red(), colour.green(), colour.blue())
    figure = Figure(title, caption, x, y)
    figure.cells(colours)
    figure.draw_axes()
    figure.legend([(text, colour) for _, text, colour in legend])
    for px, py in [] if points is None else points:
        point = figure.to_pixel(px, py)
        figure.painter.setPen(QtGui.QPen(QtGui.QColor("#000000"), 2))
        figure.painter.setBrush(QtGui.QColor("#ffffff"))
        figure.painter.drawEllipse(point, 5, 5)
    return figure.png()


def curves_png(
    title: str,
    caption: str,
    x: Axis,
    y: Axis,
    curves: Sequence[tuple[str, np.ndarray, np.ndarray, QtGui.QColor]],
    best: Sequence[tuple[float, float]] = (),
) -> bytes:
    """Line charts: each curve (label, xs, ys, colour), gaps where ys is not finite; best points ringed."""
    figure = Figure(title, caption, x, y)
    figure.draw_axes()
    p = figure.painter
    p.setClipRect(figure.plot)
    for _, xs, ys, colour in curves:
        p.setPen(QtGui.QPen(colour, 2.5))
        path_ = QtGui.QPainterPath()
        drawing = False
        for xv, yv in zip(xs, ys, strict=True):
            if not (np.isfinite(yv) and (yv > 0 or not y.log)):
                drawing = False
                continue
            point = figure.to_pixel(float(xv), float(np.clip(yv, y.low, y.high)))
            if drawing:
                path_.lineTo(point)
            else:
                path_.moveTo(point)
                drawing = True
        p.drawPath(path_)
    for (bx, by), (_, _, _, colour) in zip(best, curves, strict=False):
        if np.isfinite(by):
            p.setPen(QtGui.QPen(colour, 2))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawEllipse(figure.to_pixel(bx, float(np.clip(by, y.low, y.high))), 8, 8)
    p.setClipping(False)
    figure.legend([(label, colour) for label, _, _, colour in curves])
    return figure.png()


def lr_finder_png(
    title: str,
    caption: str,
    lr_range: tuple[float, float],
    lrs: np.ndarray,
    losses: np.ndarray,
    smoothed: np.ndarray,
    marks: Sequence[tuple[str, float, QtGui.QColor]],
) -> bytes:
    """The lr range test over the whole range asked for (so an early stop shows as the curve ending): the loss
    (thin) and its smoothed copy (thick) against the lr on a log axis, each suggestion a dashed vertical line
    named in the legend. The loss axis spans the smoothed curve, so the last blown-up steps do not flatten the
    part worth reading (they run off the top)."""
    lrs, losses, smoothed = (np.asarray(a, dtype=np.float64) for a in (lrs, losses, smoothed))
    kept = smoothed[np.isfinite(smoothed)]
    below = losses[np.isfinite(losses) & (losses <= (kept.max() if kept.size else np.inf))]
    values = np.concatenate([kept, below])
    low_y, high_y = padded(*value_range(values, log=False), log=False)
    low_x, high_x = lr_range
    figure = Figure(
        title, caption, Axis("learning rate", low_x, high_x, log=True), Axis("training loss", low_y, high_y)
    )
    figure.draw_axes()
    p = figure.painter
    p.setClipRect(figure.plot)
    raw, smooth = QtGui.QColor("#6f7a8c"), QtGui.QColor("#4fc3f7")
    for ys, colour, width in ((losses, raw, 1.2), (smoothed, smooth, 2.5)):
        p.setPen(QtGui.QPen(colour, width))
        path_ = QtGui.QPainterPath()
        drawing = False
        for xv, yv in zip(lrs, ys, strict=True):
            if not np.isfinite(yv):
                drawing = False
                continue
            point = figure.to_pixel(float(xv), float(yv))
            if drawing:
                path_.lineTo(point)
            else:
                path_.moveTo(point)
                drawing = True
        p.drawPath(path_)
    for _, lr, colour in marks:
        if low_x <= lr <= high_x:
            pen = QtGui.QPen(colour, 2)
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
            p.setPen(pen)
            px = figure.to_pixel(lr, low_y).x()
            p.drawLine(QtCore.QPointF(px, figure.plot.top()), QtCore.QPointF(px, figure.plot.bottom()))
    p.setClipping(False)
    figure.legend([("loss", raw), ("smoothed loss", smooth), *((label, colour) for label, _, colour in marks)])
    return figure.png()


def scatter_png(
    title: str,
    caption: str,
    x: Axis,
    y: Axis,
    points: Sequence[tuple[str, float, float, QtGui.QColor, bool]],
) -> bytes:
    """Labelled points (label, x, y, colour, ringed): a Pareto view, the ringed points on the front. Each point
    carries its label, so there is no legend."""
    figure = Figure(title, caption, x, y)
    figure.draw_axes()
    p = figure.painter
    for label, px, py, colour, ringed in points:
        if not (math.isfinite(px) and math.isfinite(py)):
            continue
        point = figure.to_pixel(px, py)
        p.setPen(QtGui.QPen(QtGui.QColor("#000000"), 1))
        p.setBrush(colour)
        p.drawEllipse(point, 6, 6)
        if ringed:
            p.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 2))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawEllipse(point, 10, 10)
        # The label goes right of its point, or left of it where it would leave the plot.
        width = QtGui.QFontMetrics(_font(12)).horizontalAdvance(label) + 4
        right = point.x() + 14 + width <= figure.plot.right()
        left_edge = point.x() + 14 if right else point.x() - 14 - width
        align = QtCore.Qt.AlignmentFlag.AlignLeft if right else QtCore.Qt.AlignmentFlag.AlignRight
        figure._text(QtCore.QRectF(left_edge, point.y() - 10, width, 20), label, 12, TEXT, align=align)
    return figure.png()
