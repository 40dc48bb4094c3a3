"""The Training panel's Robustness tab: the robustness test (`core/learn/robustness.py`) for the panel's
optimizers on its set-up, on a worker thread with progress and Cancel.

The outcome table has a row per optimizer (and one more with gradient clipping), a column per case; each
cell says what happened in one word, coloured by outcome (ok green, recovered amber, worse / NaN / raised red)
with the full reason on hover. A click on a cell draws that run's loss around the event beside the untouched
run's (same batches), the event step marked.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.background import BackgroundJob
from optviz.app.widgets.theme import ERROR, MUTED, PANEL, TEXT
from optviz.core.errors import OptvizError
from optviz.core.learn.robustness import (
    BASELINE_FAILED,
    CASES,
    NAN_WEIGHTS,
    NOT_RECOVERED,
    RAISED,
    RECOVERED,
    STAYED,
    CaseResult,
    RobustnessConfig,
    RobustnessReport,
)

GOOD, AMBER, BAD = "#2e7d4f", "#9a6b12", "#a33a3a"
#: Each outcome's cell colour.
OUTCOME_COLORS = {
    STAYED: GOOD,
    RECOVERED: AMBER,
    NOT_RECOVERED: BAD,
    NAN_WEIGHTS: BAD,
    RAISED: BAD,
    BASELINE_FAILED: BAD,
}
BASELINE, EVENT = "#8a93a3", "#ffb74d"
#: Defaults of the test's settings (as `optviz robustness`).
AT_STEP, AFTER, CLIP = 20, 30, 1.0


def outcome_color(result: CaseResult) -> str:
    return OUTCOME_COLORS[result.outcome.split(":")[0]]


def describe(result: CaseResult, label: str) -> str:
    """The cell's tooltip: the case, the outcome with its reason, and the numbers behind it."""
    clip = "" if result.clip is None else f", clip norm {result.clip:g}"
    lines = [f"{label}: {result.case} ({CASES[result.case].description}){clip}", result.outcome]
    if result.recovered_at is not None:
        lines.append(f"back within tolerance of the untouched run at step {result.recovered_at}")
    if result.first_nonfinite_step is not None:
        lines.append(f"weights became NaN or infinite at step {result.first_nonfinite_step}")
    if math.isfinite(result.final_loss) or math.isfinite(result.baseline_final_loss):
        lines.append(f"loss at the judgement step {result.final_loss:.4g} (untouched {result.baseline_final_loss:.4g})")
    if result.state_finite is False:
        lines.append("the optimizer's state holds NaN or inf afterwards")
    lines.append("Click to see the loss around the event.")
    return "\n".join(lines)


class RobustnessView(QtWidgets.QWidget):
    """See the module doc. `config_source()` gives the test's set-up and optimizers from the panel (raising
    `OptvizError` with one line when they cannot run); the event step, the steps after and clipping are here."""

    started = QtCore.Signal()
    finished = QtCore.Signal()

    def __init__(
        self,
        config_source: Callable[[int, int, float | None], RobustnessConfig],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("robustness_view")
        self.config_source = config_source
        self.report: RobustnessReport | None = None
        self.shown: tuple[int, int] | None = None  # the cell whose curve is drawn
        self.job = BackgroundJob(self)
        self.at_step = self._spin(1, 10_000, AT_STEP, "The step whose gradient goes bad")
        self.after = self._spin(1, 10_000, AFTER, "Steps after the event until the outcome is judged")
        self.clip = QtWidgets.QDoubleSpinBox(self)
        self.clip.setRange(0.0, 1000.0)
        self.clip.setSingleStep(0.5)
        self.clip.setValue(CLIP)
        self.clip.setSpecialValueText("off")
        self.clip.setToolTip("Also run every case with the gradient's norm clipped to this (0: no clipped runs)")
        self.run_button = QtWidgets.QPushButton("Run robustness", self)
        self.run_button.setToolTip(
            "Train each optimizer of the list untouched and once per case (exploding, vanishing, sparse, NaN, inf "
            "gradients at the event step), with and without clipping, and judge each against the untouched run"
        )
        self.cancel_button = QtWidgets.QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the test now (its partial results are dropped)")
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setFixedWidth(180)
        self.status = QtWidgets.QLabel(self)
        self.status.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(self)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        # No selection highlight: it would paint over the outcome colour. The shown cell is bold and underlined.
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setDefaultAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        # Columns as wide as their words (never cut to "plodi"), sharing any width left over.
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setMinimumSectionSize(52)
        self.table.setToolTip("")
        self.table.setMinimumWidth(260)
        self.plot = pg.PlotWidget(self, background=PANEL, axisItems=compact_axes())
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step", color=MUTED)
        item.setLabel("left", "training loss", color=MUTED)
        item.setLogMode(x=False, y=True)
        for side in ("left", "bottom"):
            item.getAxis(side).setTextPen(MUTED)
        self.plot.setMinimumWidth(200)
        self.legend = QtWidgets.QLabel(self)
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.baseline_line = self.plot.plot(
            [], [], pen=pg.mkPen(BASELINE, width=1.6, style=QtCore.Qt.PenStyle.DashLine)
        )
        self.event_line = self.plot.plot([], [], pen=pg.mkPen(EVENT, width=2.2))
        self.event_mark = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(ERROR, width=1))
        self.plot.addItem(self.event_mark)
        self.event_mark.hide()

        bar = QtWidgets.QHBoxLayout()
        bar.setSpacing(6)
        for text, widget in (("Event at step", self.at_step), ("judged after", self.after), ("clip", self.clip)):
            label = QtWidgets.QLabel(text, self)
            label.setToolTip(widget.toolTip())
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress)
        bar.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(2)
        right.addWidget(self.legend)
        right.addWidget(self.plot, 1)
        body = self._body = QtWidgets.QHBoxLayout()
        body.setSpacing(8)
        body.addWidget(self.table, 3)  # shares set by `_share_width` once the table has columns
        body.addLayout(right, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 2)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.job.cancel)
        self.job.progressed.connect(self._progressed)
        self.job.succeeded.connect(self._show)
        self.job.failed.connect(lambda text: self._say(text, error=True))
        self.job.cancelled.connect(lambda: self._say("Cancelled. Nothing was kept from the partial test."))
        self.job.runningChanged.connect(self._set_running)
        self.table.cellClicked.connect(self.show_cell)
        self._set_running(False)
        self._say(
            "Each optimizer of the list trains untouched and once per case, the case applied to the real "
            "gradients at the event step; Run to fill the table."
        )

    def _spin(self, low: int, high: int, value: int, tip: str) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox(self)
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    # --- running --------------------------------------------------------------------------------------------

    def run(self) -> bool:
        """Validate and start; False (the reason in the status line) when the set-up cannot run."""
        if self.job.running:
            return False
        try:
            config = self.config_source(self.at_step.value(), self.after.value(), self.clip.value() or None)
        except OptvizError as exc:
            self._say(str(exc), error=True)
            return False
        runs = len(config.optimizers) * len(config.clips) * (1 + len(config.cases))
        self.progress.setRange(0, 0)
        self.progress.setFormat("starting…")
        self._say(
            f"Training {runs} runs of {config.total_steps} steps on {config.setup.model} / {config.setup.dataset}…"
        )

        def job(progress, cancelled):
            from optviz.core.learn.robustness import robustness_test

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # library warnings are not the user's
                return robustness_test(config, progress, cancelled)

        self.job.start(job)
        self.started.emit()
        return True

    def cancel(self) -> None:
        self.job.cancel()

    def shutdown(self, ms: int = 30_000) -> None:
        self.job.shutdown(ms)

    def _progressed(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"%p%  {text}")
        self.progress.setToolTip(text)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        for widget in (self.at_step, self.after, self.clip):
            widget.setEnabled(not running)
        if not running:
            self.finished.emit()

    # --- the outcome ------------------------------------------------------------------------------------------

    def _show(self, report: RobustnessReport) -> None:
        self.report = report
        cfg = report.config
        cases = list(cfg.cases)
        rows = [(opt, clip) for opt in report.optimizers for clip in cfg.clips]
        self.table.clear()
        self.table.setColumnCount(len(cases))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(cases)
        for c, case in enumerate(cases):
            self.table.horizontalHeaderItem(c).setToolTip(CASES[case].description)
        for r, (opt, clip) in enumerate(rows):
            name = opt.label if clip is None else f"{opt.label} + clip {clip:g}"
            # The clipped row names only what differs from the row above: short headers leave the cells room.
            head = QtWidgets.QTableWidgetItem(opt.label if clip is None else f"+ clip {clip:g}")
            head.setToolTip(f"{name}: {opt.name} {opt.hp}")
            self.table.setVerticalHeaderItem(r, head)
            for c, case in enumerate(cases):
                result = opt.result(case, clip)
                cell = QtWidgets.QTableWidgetItem(result.short)
                cell.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                cell.setBackground(QtGui.QBrush(QtGui.QColor(outcome_color(result))))
                cell.setForeground(QtGui.QBrush(QtGui.QColor(TEXT)))
                cell.setToolTip(describe(result, name))
                self.table.setItem(r, c, cell)
        self._say(
            f"Event at step {cfg.at_step}, judged at step {cfg.judged_at} against the untouched run (tolerance "
            f"{cfg.tolerance:g} %) on {report.device}. ok: stayed finite, recovered, worse: not recovered, NaN: "
            "weights became NaN, raised: the step raised; *: the optimizer's state holds NaN or inf. "
            "Hover a cell for the reason, click it for the curve."
        )
        self.shown = None
        if rows:
            self.show_cell(0, 0)
        self._share_width()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._share_width()

    def _share_width(self) -> None:
        """The table gets the width its columns need (no scrolling sideways to see the last case) as long as the
        curve keeps its minimum width; the curve gets the rest. Stretch factors, not minimum widths, so the
        panel can still be made narrower."""
        table = self.table
        if table.columnCount() == 0:
            return
        need = (
            table.verticalHeader().sizeHint().width()
            + table.horizontalHeader().length()
            + 2 * table.frameWidth()
            + table.verticalScrollBar().sizeHint().width()
        )
        margins = self.layout().contentsMargins()
        available = self.width() - margins.left() - margins.right() - self._body.spacing()
        share = max(1, min(need, available - self.plot.minimumWidth()))
        self._body.setStretch(0, share)
        self._body.setStretch(1, max(1, available - share))

    def cell(self, row: int, column: int) -> tuple[str, CaseResult] | None:
        if self.report is None:
            return None
        clips = self.report.config.clips
        opt = self.report.optimizers[row // len(clips)]
        clip = clips[row % len(clips)]
        label = opt.label if clip is None else f"{opt.label} + clip {clip:g}"
        return label, opt.result(self.report.config.cases[column], clip)

    def show_cell(self, row: int, column: int) -> None:
        """The loss around the event of one cell's run beside the untouched run."""
        picked = self.cell(row, column)
        if picked is None:
            return
        label, result = picked
        for r, c, on in ((*self.shown, False), (row, column, True)) if self.shown else ((row, column, True),):
            cell = self.table.item(r, c)
            if cell is not None:
                font = cell.font()
                font.setBold(on)
                font.setUnderline(on)
                cell.setFont(font)
        self.shown = (row, column)
        steps = np.asarray(result.window_steps, dtype=float)

        def positive(values: list[float]) -> np.ndarray:
            array = np.asarray(values, dtype=float)
            return np.where(np.isfinite(array) & (array > 0), array, np.nan)

        self.baseline_line.setData(steps, positive(result.baseline_loss), connect="finite")
        self.event_line.setData(steps, positive(result.loss), connect="finite")
        at = self.report.config.at_step if self.report is not None else 0
        self.event_mark.setValue(at)
        self.event_mark.show()
        self.plot.getPlotItem().enableAutoRange()
        self.legend.setText(
            f"<span style='color:{TEXT}'>{label}: {result.case}</span> "
            f"<span style='color:{EVENT}'>━ {result.short}</span> "
            f"<span style='color:{BASELINE}'>╌ untouched</span> "
            f"<span style='color:{ERROR}'>│ event</span>"
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ERROR if error else MUTED}")
