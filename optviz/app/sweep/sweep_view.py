"""`MapView`: one sensitivity map drawn with pyqtgraph: the cells as an image on (log) axes, diverged cells in a
fixed grey, a colour bar, a crosshair at the optimizer's current values, and clicks or drags that pick values.

Log axes are drawn in log10 coordinates with pyqtgraph's log tick labels (10^v), so the cells are evenly
spaced as the sweep placed them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.theme import MUTED, TEXT
from optviz.core.sweep.axes import SweepAxis
from optviz.render.colormaps import sample

DIVERGED_RGB = (208, 208, 208)
CROSSHAIR = "#ffffff"


def axis_coordinate(axis: SweepAxis, value: float | np.ndarray) -> float | np.ndarray:
    """Where `value` lies on the plot: log10 on a log axis."""
    return np.log10(value) if axis.log else value


def axis_value(axis: SweepAxis, coordinate: float) -> float:
    """The hyperparameter value at a plot coordinate, clamped to the axis range."""
    value = 10.0**coordinate if axis.log else coordinate
    return min(axis.high, max(axis.low, value))


def cell_edges(axis: SweepAxis) -> tuple[float, float]:
    """Plot coordinates of the outer edges of the first and last cells (half a cell beyond each value)."""
    values = axis_coordinate(axis, axis.values)
    half = (values[-1] - values[0]) / (2 * (len(values) - 1)) if len(values) > 1 else 0.5
    return float(values[0] - half), float(values[-1] + half)


def colour_cells(values: np.ndarray, bad: np.ndarray, levels: tuple[float, float], log: bool, cmap: str) -> np.ndarray:
    """(ny, nx, 4) uint8: finite values on the colormap between `levels`, `bad` cells grey."""
    low, high = levels
    with np.errstate(all="ignore"):
        if log:
            t = (np.log10(values) - math.log10(low)) / (math.log10(high) - math.log10(low))
        else:
            t = (values - low) / (high - low)
    rgb = (sample(cmap, np.nan_to_num(np.clip(t, 0.0, 1.0))) * 255).astype(np.uint8)
    rgba = np.empty((*values.shape, 4), dtype=np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    rgba[bad | ~np.isfinite(values), :3] = DIVERGED_RGB
    return rgba


class _PickBox(pg.ViewBox):
    """A view box whose left-button clicks and drags pick a point instead of panning."""

    picked = QtCore.Signal(float, float)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=False, y=False)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            self.picked.emit(point.x(), point.y())

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            self.picked.emit(point.x(), point.y())


class MapView(pg.GraphicsLayoutWidget):
    """See the module doc. `picked(x value, y value)` on a click or drag; `hovered(x value, y value)`."""

    picked = QtCore.Signal(float, float)
    hovered = QtCore.Signal(float, float)

    def __init__(self, with_colour_bar: bool = True, parent=None) -> None:
        super().__init__(parent=parent)
        self.setBackground(None)
        self.box = _PickBox()
        self.plot = self.addPlot(viewBox=self.box, axisItems=compact_axes())
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        for side in ("bottom", "left"):
            self.plot.getAxis(side).setTextPen(MUTED)
            self.plot.getAxis(side).setPen(MUTED)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        pen = pg.mkPen(CROSSHAIR, width=1, style=QtCore.Qt.PenStyle.DashLine)
        self.vline = pg.InfiniteLine(angle=90, pen=pen, movable=False)
        self.hline = pg.InfiniteLine(angle=0, pen=pen, movable=False)
        self.ring = pg.ScatterPlotItem(size=13, pen=pg.mkPen(CROSSHAIR, width=2), brush=None)
        for item in (self.vline, self.hline, self.ring):
            item.setZValue(10)
            self.plot.addItem(item, ignoreBounds=True)
        self.colour_bar: pg.ColorBarItem | None = None
        if with_colour_bar:
            self.colour_bar = pg.ColorBarItem(values=(0, 1), colorMap="viridis", interactive=False, width=14)
            self.addItem(self.colour_bar)
        self.x: SweepAxis | None = None
        self.y: SweepAxis | None = None
        self.box.picked.connect(self._picked)
        self.plot.scene().sigMouseMoved.connect(self._moved)

    def set_axes(self, x: SweepAxis, y: SweepAxis, x_title: str = "", y_title: str = "") -> None:
        self.x, self.y = x, y
        self.plot.getAxis("bottom").setLogMode(x.log)
        self.plot.getAxis("left").setLogMode(y.log)
        self.plot.setLabel("bottom", x_title or x.name, color=TEXT)
        self.plot.setLabel("left", y_title or y.name, color=TEXT)
        x0, x1 = cell_edges(x)
        y0, y1 = cell_edges(y)
        self.box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def show_cells(
        self, values: np.ndarray, bad: np.ndarray, levels: tuple[float, float], log: bool, cmap: str = "viridis"
    ) -> None:
        """Draw (ny, nx) values (row 0 at the bottom) for the current axes."""
        assert self.x is not None and self.y is not None
        self.image.setImage(colour_cells(values, bad, levels, log, cmap), levels=None, autoLevels=False)
        x0, x1 = cell_edges(self.x.with_count(values.shape[1]))
        y0, y1 = cell_edges(self.y.with_count(values.shape[0]))
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.colour_bar is not None:
            self.colour_bar.setColorMap(pg.colormap.get("viridis"))
            lo, hi = (math.log10(levels[0]), math.log10(levels[1])) if log else levels
            self.colour_bar.setLevels(low=lo, high=hi)
            self.colour_bar.axis.setLogMode(log)

    def clear_cells(self) -> None:
        self.image.clear()

    def mark(self, x_value: float, y_value: float) -> None:
        """Move the crosshair to the optimizer's current values."""
        if self.x is None or self.y is None:
            return
        cx, cy = float(axis_coordinate(self.x, x_value)), float(axis_coordinate(self.y, y_value))
        self.vline.setPos(cx)
        self.hline.setPos(cy)
        self.ring.setData([cx], [cy])

    def crosshair(self) -> tuple[float, float]:
        """The crosshair's values (for tests)."""
        assert self.x is not None and self.y is not None
        return axis_value(self.x, self.vline.value()), axis_value(self.y, self.hline.value())

    def _picked(self, cx: float, cy: float) -> None:
        if self.x is not None and self.y is not None:
            self.picked.emit(axis_value(self.x, cx), axis_value(self.y, cy))

    def _moved(self, pos: QtCore.QPointF) -> None:
        if self.x is None or self.y is None or not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.box.mapSceneToView(pos)
        self.hovered.emit(axis_value(self.x, point.x()), axis_value(self.y, point.y()))

    def view_point(self, x_value: float, y_value: float) -> QtCore.QPoint:
        """Widget coordinates of a value pair (tests click there)."""
        assert self.x is not None and self.y is not None
        scene = self.box.mapViewToScene(
            QtCore.QPointF(float(axis_coordinate(self.x, x_value)), float(axis_coordinate(self.y, y_value)))
        )
        return self.mapFromScene(scene)
