"""The charts dock: loss, gradient norm, update size and distance to the minimum against the step, one curve
per optimizer in its colour, with a time cursor shared with the 3-D view.

- On a surface without a known minimum (a saddle, a learned surface) the last chart shows the distance from
  the start point instead, titled so: never an empty box.
- Axes are `CompactAxis`: ticks spaced by the pixels the chart has, labels like 1e-3 (no pile-up on log axes).

- Each plot's cursor is an `InfiniteLine`; dragging any of them scrubs the animation (it writes the model's
  cursor, and the model moves every line, the view and the counter).
- Hovering shows the step and the value of the curve nearest the pointer.
- Curves are re-uploaded only for the optimizers a new result names; animating moves only the lines.
- Log-scaled y axes where the values are positive (a surface whose minimum is below zero gets a linear
  loss axis rather than a picture with holes).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import qthrottled, signals_blocked

from optviz.app.model import SceneModel
from optviz.app.readouts import metrics
from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.theme import MUTED, PANEL, TEXT

CURSOR_COLOR = "#e9ecf2"
CHART_DELAY_MS = 40


class MetricPlot(pg.PlotItem):
    """One metric: a curve per optimizer and the cursor line."""

    def __init__(self, metric: str, title: str, unit: str) -> None:
        super().__init__(axisItems=compact_axes())
        self.metric = metric
        self.shown_metric = metric  # what the curves show: `metric`, or the distance from the start
        self.title = ""
        self.set_title(title)
        self.setLabel("bottom", "step", color=MUTED)

        self.showGrid(x=True, y=True, alpha=0.12)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setDownsampling(auto=True, mode="peak")
        self.setClipToView(True)
        # The x range is the race (0 to N steps) and the y range follows the data: the mouse is for the cursor.
        self.getViewBox().setMouseEnabled(x=False, y=False)
        self.runs: list[pg.PlotDataItem] = []  # one per optimizer (PlotItem.curves is pyqtgraph's own)
        self.cursor = pg.InfiniteLine(
            0, angle=90, movable=True, pen=pg.mkPen(CURSOR_COLOR, width=1.2), hoverPen=pg.mkPen("#ffffff", width=2.5)
        )
        self.cursor.setZValue(100)
        self.addItem(self.cursor, ignoreBounds=True)
        self.hover_dot = pg.ScatterPlotItem(size=8, pen=pg.mkPen(PANEL, width=1.5))
        self.hover_dot.setZValue(101)
        self.addItem(self.hover_dot, ignoreBounds=True)
        self.hover_text = pg.TextItem(anchor=(1, 0), color=TEXT, fill=pg.mkBrush(21, 23, 28, 210))
        self.hover_text.setZValue(102)
        self.addItem(self.hover_text, ignoreBounds=True)
        self.hover_text.hide()
        self.log_y = True
        self.setLogMode(x=False, y=True)
        self._data: list[np.ndarray] = []

    def set_title(self, title: str) -> None:
        if title != self.title:
            self.title = title
            self.setTitle(f"<span style='color:{TEXT}; font-size:9pt'>{title}</span>")

    def set_log(self, log_y: bool) -> None:
        if log_y != self.log_y:
            self.log_y = log_y
            self.setLogMode(x=False, y=log_y)

    def set_count(self, count: int) -> None:
        while len(self.runs) < count:
            curve = pg.PlotDataItem(connect="finite", skipFiniteCheck=False)
            # Cache each curve's pixels: a moving cursor line then repaints from the cache instead of
            # stroking 8 x 4 paths of up to 100,000 points every frame (which cost ~70 ms a frame here).
            curve.curve.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.addItem(curve)
            self.runs.append(curve)
            self._data.append(np.zeros(0))
        while len(self.runs) > count:
            self.removeItem(self.runs.pop())
            self._data.pop()

    def set_curve(self, k: int, values: np.ndarray, color: str, visible: bool) -> None:
        y = np.asarray(values, dtype=np.float64).copy()
        if self.log_y:
            y[~(y > 0)] = np.nan  # log axes: zeros (the first update) and negatives are not drawn
        y[~np.isfinite(y)] = np.nan
        self._data[k] = y
        x = np.arange(len(y), dtype=np.float64)
        self.runs[k].setData(x, y, pen=pg.mkPen(color, width=1.6))
        self.runs[k].setVisible(visible)

    def value_at(self, k: int, step: int) -> float:
        data = self._data[k]
        return float(data[step]) if 0 <= step < len(data) else math.nan


class ChartsPanel(pg.GraphicsLayoutWidget):
    """See the module doc."""

    scrubbed = QtCore.Signal()  # the user drags a cursor line (the window pauses playback)

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setBackground(PANEL)
        self.setToolTip("")
        self.plots: list[MetricPlot] = []
        for metric, title, unit in (*metrics.METRICS, metrics.LEARNING_RATE):
            plot = MetricPlot(metric, title, unit)
            if self.plots:
                plot.setXLink(self.plots[0])
            plot.cursor.sigDragged.connect(self._dragged)
            self.plots.append(plot)
        # The learning-rate chart joins the row while an optimizer of the race has a schedule.
        self.lr_plot = self.plots[-1]
        for i, plot in enumerate(self.plots[:-1]):
            self.addItem(plot, row=0, col=i)
        self.ci.layout.setSpacing(2)
        self.ci.setContentsMargins(4, 4, 8, 4)
        self.scene().sigMouseMoved.connect(self._hover)
        self._hover_plot: MetricPlot | None = None
        # New results reach the charts a moment after the 3-D view: the view's frame (what the hand on the
        # slider watches) is not held up by re-stroking the curves, and a drag redraws them at most ~25 times
        # a second. `_pending` gathers the optimizers changed meanwhile (None: all).
        self._pending: set[int] | None = set()
        self._flush_soon = qthrottled(self.apply_pending_results, CHART_DELAY_MS, leading=False)
        model.resultChanged.connect(self._later)
        model.optimizerStyleChanged.connect(lambda _k: self._result(None))
        model.optimizersReset.connect(self._structure)
        model.cursorChanged.connect(self._cursor)
        model.sceneReplaced.connect(lambda: self._result(None))
        self._result(None)

    # ---- model -> plots ------------------------------------------------------------------------------------
    def _later(self, changed: frozenset[int] | None) -> None:
        if self.model.result is None or not any(plot.runs for plot in self.plots):
            self._result(None)  # "computing…", or the first result after it: in the view's frame
            return
        if changed is None or self._pending is None:
            self._pending = None
        else:
            self._pending |= changed
        self._flush_soon()

    def apply_pending_results(self) -> None:
        """Redraw from the results gathered by `_later` now, instead of when the delay ends (settle, tests)."""
        self._flush_soon.cancel()
        pending, self._pending = self._pending, set()
        self._result(None if pending is None else frozenset(pending))

    def _structure(self) -> None:
        if self.model.result is not None and len(self.model.result.configs) == len(self.model.optimizers):
            self._result(None)

    def _result(self, changed: frozenset[int] | None) -> None:
        self._flush_soon.cancel()
        self._pending = set()
        result = self.model.result
        count = 0 if result is None else len(result.configs)
        if result is None:
            for plot in self.plots:
                plot.set_count(0)
                plot.setXRange(0, self.model.steps, padding=0.02)  # not the previous scene's steps
            return
        self._show_lr_plot(metrics.scheduled(result))
        finite_losses = result.losses[np.isfinite(result.losses)]
        log_loss = bool(len(finite_losses)) and bool(np.all(finite_losses > 0))
        # No known minimum (saddles, learned surfaces): the distance chart shows the distance from the start.
        from_start = not self.model.surface.minima and not np.isfinite(result.distances).any()
        for plot in self.shown_plots:  # the lr chart only while it is in the row (a learned race has no lrs)
            log_y = log_loss if plot.metric == "losses" else True
            metric = plot.metric
            if plot.metric == "distances":
                metric = metrics.FROM_START if from_start else "distances"
                plot.set_title(metrics.title(metric))
            full = changed is None or len(plot.runs) != count or log_y != plot.log_y or metric != plot.shown_metric
            plot.shown_metric = metric
            plot.set_log(log_y)
            plot.set_count(count)
            ks = range(count) if full else sorted(changed)
            for k in ks:
                color = self.model.color(k) if k < len(self.model.optimizers) else MUTED
                plot.set_curve(k, metrics.series(result, k, metric), color, self.model.shown(k))
            plot.setXRange(0, result.steps, padding=0.02)
            plot.enableAutoRange(axis="y")
        self._cursor(self.model.cursor)

    def _show_lr_plot(self, show: bool) -> None:
        shown = self.lr_plot.scene() is not None
        if show and not shown:
            self.addItem(self.lr_plot, row=0, col=len(self.plots) - 1)
        elif shown and not show:
            self.removeItem(self.lr_plot)

    @property
    def shown_plots(self) -> list[MetricPlot]:
        """The charts in the row now."""
        return [plot for plot in self.plots if plot.scene() is not None]

    def _cursor(self, step: float) -> None:
        for plot in self.plots:
            with signals_blocked(plot.cursor):
                plot.cursor.setValue(step)

    # ---- plots -> model --------------------------------------------------------------------------------------
    def _dragged(self, line: pg.InfiniteLine) -> None:
        self.scrubbed.emit()
        self.model.set_cursor(round(line.value()))
        self._cursor(self.model.cursor)  # snap the dragged line to the whole step the model took

    def _hover(self, pos: QtCore.QPointF) -> None:
        plot = next((p for p in self.shown_plots if p.sceneBoundingRect().contains(pos)), None)
        if self._hover_plot is not None and plot is not self._hover_plot:
            self._hover_plot.hover_text.hide()
            self._hover_plot.hover_dot.clear()
        self._hover_plot = plot
        result = self.model.result
        if plot is None or result is None or not plot.runs:
            return
        point = plot.getViewBox().mapSceneToView(pos)
        step = round(point.x())
        if not 0 <= step <= result.steps:
            plot.hover_text.hide()
            plot.hover_dot.clear()
            return
        best, best_gap = None, math.inf
        for k, curve in enumerate(plot.runs):
            if not curve.isVisible():
                continue
            value = plot.value_at(k, step)
            if not math.isfinite(value):
                continue
            y = math.log10(value) if plot.log_y else value
            gap = abs(y - point.y())
            if gap < best_gap:
                best, best_gap = (k, value, y), gap
        if best is None:
            plot.hover_text.hide()
            plot.hover_dot.clear()
            return
        k, value, y = best
        name = self.model.display_name(k)
        plot.hover_text.setHtml(
            f"<span style='color:{self.model.color(k)}'>●</span> {name}<br>"
            f"step {step:,} · {metrics.format_value(value)}"
        )
        (_, x1), (_, y1) = plot.getViewBox().viewRange()
        plot.hover_text.setPos(x1, y1)
        plot.hover_text.show()
        plot.hover_dot.setData([step], [y], brush=pg.mkBrush(self.model.color(k)))

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        for plot in self.plots:
            plot.hover_text.hide()
            plot.hover_dot.clear()
        super().leaveEvent(event)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(900, 230)
