"""Live charts of a training session: loss against step and against each run's own training time (log y),
validation accuracy, step time and throughput, memory (measured optimizer state beside the registry's figure,
and peak), and a Pareto view of memory against final loss with throughput as the marker size.

Data comes in batches of `StepRecord`s (`add_events`) and is kept per run in plain lists; each batch re-sets each
touched curve once. Run colours follow the panel's optimizer list.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from optviz.app.readouts.metrics import byte_unit, format_bytes
from optviz.app.training.bar_rows import Bar, BarRows, Row
from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.small_plot import style_small_plot
from optviz.app.widgets.theme import MUTED, PANEL, TEXT
from optviz.core.learn.records import RunEnded, RunSummary, StepRecord

BUBBLE_GAP = 6  # pixels between the largest bubble and the edge of the Pareto view
MIN_BUBBLE, MAX_BUBBLE = 8, 30  # the Pareto view's bubble diameters (slowest run, fastest), where there is room


def _positive(values: list[float]) -> np.ndarray:
    """Values for a log axis: non-positive and non-finite entries become NaN (gaps, not errors)."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array) & (array > 0), array, np.nan)


class _Plot(pg.PlotItem):
    def __init__(self, title: str, x: str, y: str, log_y: bool = False) -> None:
        super().__init__(axisItems=compact_axes())
        style_small_plot(self, title, x, y)
        self.setLogMode(x=False, y=log_y)


class TrainingCharts(QtWidgets.QWidget):
    """The legend (a line of text over the charts: inside a plot it covered the curves) and the six charts."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 120)  # see TrainingPanel: the dock must not set the window's minimum
        self.legend = QtWidgets.QLabel(self)
        self.legend.setObjectName("training_legend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend.setToolTip("Each run's colour in every chart (thin loss lines: training; thick: validation)")
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setBackground(PANEL)
        self.view.setMinimumSize(200, 100)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 2, 4, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        self.loss_step = _Plot("Loss (thick: validation)", "step", "", log_y=True)
        self.loss_wall = _Plot("Loss vs training time", "seconds", "", log_y=True)
        self.accuracy = _Plot("Val. accuracy", "step", "")
        self.speed = _Plot("Step time, samples/s", "ms per step (median)", "")
        self.memory = _Plot("Optimizer state ▮ measured ▯ registry", "bytes", "")
        self.pareto = _Plot("Memory vs final loss", "peak bytes (size: samples/s)", "", log_y=True)
        self.loss_wall.setToolTip(
            "Each run's own training time: runs take turns, so the session's clock would "
            "charge each run for the others' steps. A first step that compiles (torchao's "
            "8-bit kernels) shows as a late start."
        )
        self.view.addItem(self.loss_step, 0, 0)
        self.view.addItem(self.loss_wall, 0, 1)
        self.view.addItem(self.accuracy, 0, 2)
        self.view.addItem(self.speed, 1, 0)
        self.view.addItem(self.memory, 1, 1)
        self.view.addItem(self.pareto, 1, 2)
        self.accuracy.setYRange(0, 1.02, padding=0)
        self.speed_rows = BarRows(self.speed)
        self.memory_rows = BarRows(self.memory)
        self.pareto.getViewBox().sigResized.connect(self._fit_bubbles)
        self.view.setToolTip(
            "Loss and accuracy update live; step time after each batch of steps; memory and the Pareto view "
            "when a run ends (peak on CPU = parameters + gradients + optimizer state; on CUDA the allocator's peak)"
        )
        self.summaries: list[RunSummary] = []
        self.colors: list[str] = []
        self._train: list[pg.PlotDataItem] = []
        self._val: list[pg.PlotDataItem] = []
        self._wall: list[pg.PlotDataItem] = []
        self._acc: list[pg.PlotDataItem] = []
        self._pareto_items: list[pg.ScatterPlotItem] = []
        self._bubble_sizes = np.zeros(0)
        self.batch_size = 1

    @property
    def plots(self) -> tuple[pg.PlotItem, ...]:
        return (self.loss_step, self.loss_wall, self.accuracy, self.speed, self.memory, self.pareto)

    # --- data -------------------------------------------------------------------------------------------------

    def reset(self, summaries: list[RunSummary], colors: list[str], batch_size: int) -> None:
        """A new session: one set of curves per run, empty."""
        self.summaries, self.colors, self.batch_size = summaries, colors, batch_size
        for plot in (self.loss_step, self.loss_wall, self.accuracy):
            plot.clear()
        self.legend.setText(
            "&nbsp;&nbsp;&nbsp; ".join(
                f"<span style='color:{color}'>━━</span>&nbsp;<span style='color:{TEXT}'>{html.escape(s.label)}</span>"
                for s, color in zip(summaries, colors, strict=True)
            )
        )
        self._clear_bars()
        self._train, self._val, self._wall, self._acc = [], [], [], []
        for color in colors:
            thin = pg.mkPen(color, width=1)
            thin.setCosmetic(True)
            train = pg.PlotDataItem(pen=thin, connect="finite")
            train.setOpacity(0.55)
            val = pg.PlotDataItem(pen=pg.mkPen(color, width=2.2), connect="finite")
            self.loss_step.addItem(train)
            self.loss_step.addItem(val)
            wall = pg.PlotDataItem(pen=thin, connect="finite")
            self.loss_wall.addItem(wall)
            acc = pg.PlotDataItem(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4, symbolBrush=color)
            acc.setSymbolPen(None)
            self.accuracy.addItem(acc)
            self._train.append(train)
            self._val.append(val)
            self._wall.append(wall)
            self._acc.append(acc)

    def add_events(self, events: list[StepRecord | RunEnded]) -> None:
        """Redraw the runs these events touched (the summaries already hold the data: the panel adds it)."""
        touched = {e.run for e in events if isinstance(e, StepRecord)}
        for k in touched:
            s = self.summaries[k]
            self._train[k].setData(s.steps, _positive(s.train_loss))
            self._val[k].setData(s.val_steps, _positive(s.val_loss))
            self._wall[k].setData(s.wall_times, _positive(s.train_loss))
            self._acc[k].setData(s.val_steps, np.asarray(s.val_accuracy, dtype=float))
        if touched or any(isinstance(e, RunEnded) for e in events):
            self._draw_bars()

    # --- bar charts and the Pareto view ------------------------------------------------------------------------

    def _clear_bars(self) -> None:
        self.speed_rows.clear()
        self.memory_rows.clear()
        for item in self._pareto_items:
            self.pareto.removeItem(item)
        self._pareto_items = []

    def _draw_bars(self) -> None:
        if not self.summaries:
            self._clear_bars()
            return
        # Speed: median step time per run, with samples per second.
        rows = []
        for s, color in zip(self.summaries, self.colors, strict=True):
            ms = 1000 * float(np.median(s.step_times)) if s.step_times else 0.0
            speed = f"{s.throughput(self.batch_size):,.0f}/s" if s.step_times else ""
            tip = f"{s.label}: {ms:.3g} ms per step, {speed}" if s.step_times else f"{s.label}: no step yet"
            rows.append(Row(s.label, speed, color, [Bar(ms)] if s.step_times else [], tip))
        self.speed_rows.set_rows(rows)
        # Memory: measured state (solid) under the registry's figure (outline), in the unit that suits the
        # largest; the peak is written beside the run's name (and is the Pareto view's x).
        largest = max((max(s.memory.state, s.memory.theoretical_state) for s in self.summaries if s.memory), default=0)
        unit, size = byte_unit(largest)
        self.memory.setLabel("bottom", unit if largest > 0 else "bytes", color=MUTED)
        rows = []
        for s, color in zip(self.summaries, self.colors, strict=True):
            m = s.memory
            if m is None:
                note = "at the run's end" if s.status == "running" else ""  # short: the name keeps its room
                tip = f"{s.label}: measured when the run ends" if note else f"{s.label}: {s.status}"
                rows.append(Row(s.label, note, color, [], tip, value_muted=True))
                continue
            per_param = f"{m.state_per_param:.2f} B/param"
            tip = (
                f"{s.label}: optimizer state {format_bytes(m.state)} measured, {format_bytes(m.theoretical_state)} "
                f"by the registry ({per_param}); peak {format_bytes(m.peak)}"
            )
            bars = [Bar(m.state / size), Bar(m.theoretical_state / size, outline=True)]
            rows.append(Row(f"{s.label} · peak {format_bytes(m.peak)}", per_param, color, bars, tip))
        self.memory_rows.set_rows(rows)
        self._draw_pareto()

    def _draw_pareto(self) -> None:
        for item in self._pareto_items:
            self.pareto.removeItem(item)
        self._pareto_items = []
        done = [(k, s) for k, s in enumerate(self.summaries) if s.memory is not None and math.isfinite(s.final_loss())]
        if not done:
            return
        unit, size = byte_unit(max(s.memory.peak for _, s in done))
        self.pareto.setLabel("bottom", f"peak {unit} (size: samples/s)", color=MUTED)
        speeds = [s.throughput(self.batch_size) for _, s in done]
        fastest = max(speeds) or 1.0
        spots = []
        for (k, s), speed in zip(done, speeds, strict=True):
            spots.append(
                {
                    # A scatter added to a log-y plot is not transformed (curves are): give it log10 itself.
                    "pos": (s.memory.peak / size, math.log10(max(s.final_loss(), 1e-12))),
                    "size": MIN_BUBBLE + (MAX_BUBBLE - MIN_BUBBLE) * speed / fastest,
                    "brush": self.colors[k],
                    "pen": None,
                    "data": f"{s.label}: peak {format_bytes(s.memory.peak)}, final loss {s.final_loss():.4g}, "
                    f"{speed:,.0f} samples/s",
                }
            )
        # Colours name the runs (the legend); hovering a point names it too. Text labels beside the points
        # overlapped as soon as two runs used similar memory.
        scatter = pg.ScatterPlotItem(spots=spots, hoverable=True, tip=lambda x, y, data: data)
        self._bubble_sizes = np.array([spot["size"] for spot in spots])
        self._pareto_items.append(scatter)
        self.pareto.addItem(scatter)
        self._fit_bubbles()

    def _fit_bubbles(self, *_args: object) -> None:
        """The view range that keeps every bubble whole: a bubble's size is in pixels, so the margin each side
        is the largest radius in pixels, turned into data units for the view box's current size. On a short
        chart the bubbles shrink together (their sizes compare the runs' speeds, so only their ratios matter)."""
        if not self._pareto_items:
            return
        scatter = self._pareto_items[0]
        view = self.pareto.getViewBox()
        room = 0.35 * min(view.width(), view.height())
        sizes = self._bubble_sizes * min(1.0, room / MAX_BUBBLE) if room > 0 else self._bubble_sizes
        scatter.setSize(sizes)
        points = scatter.points()
        xs = [p.pos().x() for p in points]
        ys = [p.pos().y() for p in points]
        margin = float(max(sizes)) / 2 + BUBBLE_GAP
        self.pareto.setXRange(*_padded(min(xs), max(xs), view.width(), margin), padding=0)
        self.pareto.setYRange(*_padded(min(ys), max(ys), view.height(), margin), padding=0)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(900, 520)


def _padded(lo: float, hi: float, pixels: float, margin: float) -> tuple[float, float]:
    """A range showing [lo, hi] with `margin` pixels free at each end, over an axis `pixels` long."""
    span = hi - lo
    if span <= 0:  # one point (or all at one value): a range around it
        span = abs(hi) * 0.5 or 1.0
        lo, hi = lo - span / 2, hi + span / 2
    if pixels <= 0:  # not laid out yet
        return lo - 0.2 * span, hi + 0.2 * span
    margin = min(margin, pixels * 3 / 8)  # a tiny chart cannot keep the bubbles whole: keep the points in view
    full = span * pixels / (pixels - 2 * margin)
    return lo - margin * full / pixels, hi + margin * full / pixels
