"""Live charts of a training session: loss against step and against each run's own training time (log y),
validation accuracy, step time and throughput, memory (measured optimizer state beside the registry's figure,
and peak), and a Pareto view of memory against final loss with throughput as the marker size.

Data comes in batches of `StepRecord`s (`add_events`) and is kept per run in plain lists; each batch re-sets each
touched curve once. Run colours follow the panel's optimizer list.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from optviz.app.readouts.metrics import format_bytes
from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.theme import MUTED, PANEL, TEXT
from optviz.core.learn.records import RunEnded, RunSummary, StepRecord

MIB = 2**20


def _positive(values: list[float]) -> np.ndarray:
    """Values for a log axis: non-positive and non-finite entries become NaN (gaps, not errors)."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array) & (array > 0), array, np.nan)


class _Plot(pg.PlotItem):
    def __init__(self, title: str, x: str, y: str, log_y: bool = False) -> None:
        super().__init__(axisItems=compact_axes())
        self.setTitle(f"<span style='color:{TEXT}; font-size:8pt'>{title}</span>")
        self.setLabel("bottom", x, color=MUTED)
        if y:
            self.setLabel("left", y, color=MUTED)
        self.showGrid(x=True, y=True, alpha=0.12)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setLogMode(x=False, y=log_y)
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen(MUTED)
        self.getAxis("left").setWidth(40)


class TrainingCharts(pg.GraphicsLayoutWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(PANEL)
        self.setMinimumSize(200, 120)  # see TrainingPanel: the dock must not set the window's minimum
        self.loss_step = _Plot("Loss (thick: validation)", "step", "", log_y=True)
        self.loss_wall = _Plot("Loss vs training time", "seconds", "", log_y=True)
        self.accuracy = _Plot("Val. accuracy", "step", "")
        self.speed = _Plot("Step time, samples/s", "ms per step (median)", "")
        self.memory = _Plot("Optimizer state ▮ measured ▯ registry", "MiB", "")
        self.pareto = _Plot("Memory vs final loss", "peak MiB (size: samples/s)", "", log_y=True)
        self.loss_wall.setToolTip(
            "Each run's own training time: runs take turns, so the session's clock would "
            "charge each run for the others' steps. A first step that compiles (torchao's "
            "8-bit kernels) shows as a late start."
        )
        self.addItem(self.loss_step, 0, 0)
        self.addItem(self.loss_wall, 0, 1)
        self.addItem(self.accuracy, 0, 2)
        self.addItem(self.speed, 1, 0)
        self.addItem(self.memory, 1, 1)
        self.addItem(self.pareto, 1, 2)
        self.accuracy.setYRange(0, 1.02, padding=0)
        # Bottom left: losses start high, so that corner of the loss plot stays empty.
        self.legend = self.loss_step.addLegend(
            offset=(4, -4), labelTextSize="7pt", brush=pg.mkBrush(21, 23, 28, 200), verSpacing=-4
        )
        self.setToolTip(
            "Loss and accuracy update live; step time after each batch of steps; memory and the Pareto view "
            "when a run ends (peak on CPU = parameters + gradients + optimizer state; on CUDA the allocator's peak)"
        )
        self.summaries: list[RunSummary] = []
        self.colors: list[str] = []
        self._train: list[pg.PlotDataItem] = []
        self._val: list[pg.PlotDataItem] = []
        self._wall: list[pg.PlotDataItem] = []
        self._acc: list[pg.PlotDataItem] = []
        self._bar_items: list[tuple[pg.PlotItem, pg.GraphicsObject]] = []
        self._pareto_items: list[pg.GraphicsObject] = []
        self.batch_size = 1

    # --- data -------------------------------------------------------------------------------------------------

    def reset(self, summaries: list[RunSummary], colors: list[str], batch_size: int) -> None:
        """A new session: one set of curves per run, empty."""
        self.summaries, self.colors, self.batch_size = summaries, colors, batch_size
        for plot in (self.loss_step, self.loss_wall, self.accuracy):
            plot.clear()
        self.legend.clear()
        self._clear_bars()
        self._train, self._val, self._wall, self._acc = [], [], [], []
        for summary, color in zip(summaries, colors, strict=True):
            thin = pg.mkPen(color, width=1)
            thin.setCosmetic(True)
            train = pg.PlotDataItem(pen=thin, connect="finite")
            train.setOpacity(0.55)
            val = pg.PlotDataItem(pen=pg.mkPen(color, width=2.2), connect="finite", name=summary.label)
            self.loss_step.addItem(train)
            self.loss_step.addItem(val)  # named: the plot's legend lists it
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
        for plot, item in self._bar_items:
            plot.removeItem(item)
        for item in self._pareto_items:
            self.pareto.removeItem(item)
        self._bar_items, self._pareto_items = [], []

    def _rows(self, plot: pg.PlotItem, extra: list[str] | None = None) -> None:
        """One row per run, top to bottom; the run's name is written above its bars (an axis of names would
        take a third of a narrow plot's width)."""
        plot.hideAxis("left")
        plot.setYRange(-0.75, max(0.6, len(self.summaries) - 0.35), padding=0)
        plot.getViewBox().invertY(True)
        for k, s in enumerate(self.summaries):
            words = s.label + (extra[k] if extra else "")
            name = pg.TextItem(words, color=MUTED, anchor=(0, 1))
            name.setPos(0, k - 0.12)
            self._add(plot, name)

    def _draw_bars(self) -> None:
        self._clear_bars()
        n = len(self.summaries)
        if n == 0:
            return
        ys = np.arange(n, dtype=float)
        # Speed: median step time per run, labelled with samples per second.
        ms = [1000 * float(np.median(s.step_times)) if s.step_times else 0.0 for s in self.summaries]
        bars = pg.BarGraphItem(x0=0, y=ys + 0.12, height=0.42, width=ms, brushes=self.colors, pens=[None] * n)
        self._add(self.speed, bars)
        for k, s in enumerate(self.summaries):
            if s.step_times:
                text = pg.TextItem(f"{s.throughput(self.batch_size):,.0f}/s", color=TEXT, anchor=(0, 0.5))
                text.setPos(ms[k], k + 0.12)
                self._add(self.speed, text)
        self.speed.setXRange(0, max([*ms, 1e-3]) * 1.6, padding=0)
        self._rows(self.speed)
        # Memory: measured state (solid) over the registry's figure (outline); the peak is written beside the
        # run's name (and is the Pareto view's x).
        measured, theory, peaks = [], [], []
        for s in self.summaries:
            m = s.memory
            measured.append(m.state / MIB if m else 0.0)
            theory.append(m.theoretical_state / MIB if m else 0.0)
            peaks.append(f" · peak {format_bytes(m.peak)}" if m else "")
        self._add(self.memory, pg.BarGraphItem(x0=0, y=ys + 0.12, height=0.42, width=measured, brushes=self.colors))
        outline = [pg.mkPen(c, width=1.5) for c in self.colors]
        self._add(self.memory, pg.BarGraphItem(x0=0, y=ys + 0.12, height=0.42, width=theory, brush=None, pens=outline))
        for k, s in enumerate(self.summaries):
            if s.memory is not None:
                text = pg.TextItem(f"{s.memory.state_per_param:.2f} B/param", color=TEXT, anchor=(0, 0.5))
                text.setPos(max(measured[k], theory[k]), k + 0.12)
                self._add(self.memory, text)
            elif s.status == "running":
                text = pg.TextItem("(measured when the run ends)", color=MUTED, anchor=(0, 0.5))
                text.setPos(0, k + 0.12)
                self._add(self.memory, text)
        self.memory.setXRange(0, max([*measured, *theory, 1e-3]) * 1.7, padding=0)
        self._rows(self.memory, peaks)
        self._draw_pareto()

    def _draw_pareto(self) -> None:
        done = [(k, s) for k, s in enumerate(self.summaries) if s.memory is not None and math.isfinite(s.final_loss())]
        if not done:
            return
        speeds = [s.throughput(self.batch_size) for _, s in done]
        fastest = max(speeds) or 1.0
        spots = []
        for (k, s), speed in zip(done, speeds, strict=True):
            spots.append(
                {
                    # A scatter added to a log-y plot is not transformed (curves are): give it log10 itself.
                    "pos": (s.memory.peak / MIB, math.log10(max(s.final_loss(), 1e-12))),
                    "size": 8 + 22 * speed / fastest,
                    "brush": self.colors[k],
                    "pen": None,
                    "data": f"{s.label}: peak {format_bytes(s.memory.peak)}, final loss {s.final_loss():.4g}, "
                    f"{speed:,.0f} samples/s",
                }
            )
        # Colours name the runs (the loss chart's legend); hovering a point names it too. Text labels beside
        # the points overlapped as soon as two runs used similar memory.
        scatter = pg.ScatterPlotItem(spots=spots, hoverable=True, tip=lambda x, y, data: data)
        self._pareto_items.append(scatter)
        self.pareto.addItem(scatter)
        xs = [spot["pos"][0] for spot in spots]
        span = max(xs) - min(xs) or max(xs) or 1.0
        self.pareto.setXRange(min(xs) - 0.2 * span, max(xs) + 0.2 * span, padding=0)

    def _add(self, plot: pg.PlotItem, item: pg.GraphicsObject) -> None:
        plot.addItem(item)
        self._bar_items.append((plot, item))

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(900, 520)
