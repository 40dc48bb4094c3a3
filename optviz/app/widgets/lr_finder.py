"""The lr finder's window, shared by the Training panel (the range test on the real model) and the race panel
(the final loss over an lr sweep on an analytic surface): progress with Cancel while it runs, then the loss
against the lr (log x, `CompactAxis` so ticks never overlap) with both suggestions marked, a choice between
them (steepest by default) and Apply.

The window knows nothing of where the lr goes: its owner gives `on_apply(lr) -> error text` ("" when it was
set) and starts and cancels the job (`cancelRequested`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from optviz.app.widgets.axis import compact_axes, format_tick
from optviz.app.widgets.theme import ERROR, MUTED, PANEL
from optviz.core.sweep.lr_sweep import Suggestions

RAW, SMOOTH, CURRENT = "#6f7a8c", "#4fc3f7", "#b0b8c6"
#: The two suggestions' colours (as `optviz lr-find --png` draws them).
STEEPEST, VALLEY = "#ffb74d", "#81c784"


@dataclass
class LrCurve:
    """What the window draws: the curve the suggestions were computed on (`losses`), optionally the raw loss
    behind it (the range test's unsmoothed steps), over the lr range asked for."""

    lrs: Sequence[float]
    losses: Sequence[float]
    suggestions: Suggestions
    lr_range: tuple[float, float]
    y_label: str
    raw: Sequence[float] | None = None
    log_y: bool = False
    note: str = ""
    current_lr: float | None = None


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.log10(values)


class LrFinderDialog(QtWidgets.QDialog):
    cancelRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lr_finder")
        self.setModal(False)
        self.resize(640, 440)
        self.on_apply: Callable[[float], str] | None = None
        self.curve: LrCurve | None = None
        self.running = False
        self.heading = QtWidgets.QLabel(self)
        self.heading.setProperty("role", "heading")
        self.note = QtWidgets.QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {MUTED}")
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setTextVisible(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the search now (nothing is changed)")
        self.plot = pg.PlotWidget(self, background=PANEL, axisItems=compact_axes())
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "learning rate", color=MUTED)
        for side in ("left", "bottom"):
            item.getAxis(side).setTextPen(MUTED)
        self.raw_line = self.plot.plot([], [], pen=pg.mkPen(RAW, width=1))
        self.smooth_line = self.plot.plot([], [], pen=pg.mkPen(SMOOTH, width=2.2))
        self.marks: dict[str, pg.InfiniteLine] = {}
        for key, colour, position in (("steepest", STEEPEST, 0.93), ("valley", VALLEY, 0.8)):
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                label="",
                labelOpts={"position": position, "color": colour, "anchors": [(0, 0.5), (0, 0.5)]},
            )
            line.setZValue(5)
            self.plot.addItem(line)
            self.marks[key] = line
        self.current_mark = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(CURRENT, width=1, style=QtCore.Qt.PenStyle.DotLine)
        )
        self.plot.addItem(self.current_mark)
        self.steepest = QtWidgets.QRadioButton(self)
        self.steepest.setToolTip("Where the loss falls fastest against log(lr): a fast, still-stable learning rate")
        self.valley = QtWidgets.QRadioButton(self)
        self.valley.setToolTip("A tenth of the lr at the loss's minimum: a step back from where it blows up")
        self.steepest.setChecked(True)
        self.apply_button = QtWidgets.QPushButton("Apply", self)
        self.apply_button.setToolTip("Set this optimizer's lr slider to the chosen suggestion")
        self.apply_button.setDefault(True)
        close = QtWidgets.QPushButton("Close", self)
        close.clicked.connect(self.reject)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        choose = QtWidgets.QHBoxLayout()
        choose.addWidget(self.steepest)
        choose.addWidget(self.valley)
        choose.addStretch(1)
        choose.addWidget(self.apply_button)
        choose.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addLayout(choose)

        self.cancel_button.clicked.connect(self._cancel)
        self.apply_button.clicked.connect(self.apply)
        self.steepest.toggled.connect(self._emphasise)
        self.begin("", "")

    # --- the owner's side ----------------------------------------------------------------------------------

    def begin(self, title: str, text: str) -> None:
        """A new search has started: clear the chart, show the progress bar and Cancel."""
        self.heading.setText(title)
        self.curve = None
        self.running = bool(title)
        self.raw_line.setData([], [])
        self.smooth_line.setData([], [])
        for line in (*self.marks.values(), self.current_mark):
            line.hide()
        self.progress.setRange(0, 0)  # busy until the first report
        self.progress.setFormat(text)
        self.progress.setVisible(self.running)
        self.cancel_button.setVisible(self.running)
        self.cancel_button.setEnabled(True)
        self._say(text)
        self._update_choices()

    def report(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(text)

    def show_curve(self, curve: LrCurve) -> None:
        """The finished search: its curve and both suggestions (a rule that found nothing is left out)."""
        self.running = False
        self.curve = curve
        self.progress.hide()
        self.cancel_button.hide()
        lrs = np.asarray(curve.lrs, dtype=np.float64)
        losses = np.asarray(curve.losses, dtype=np.float64)
        item = self.plot.getPlotItem()
        item.setLogMode(x=True, y=curve.log_y)
        item.setLabel("left", curve.y_label, color=MUTED)
        shown = np.where(np.isfinite(losses) & ((losses > 0) | (not curve.log_y)), losses, np.nan)
        self.smooth_line.setData(lrs, shown, connect="finite")
        raw = None if curve.raw is None else np.asarray(curve.raw, dtype=np.float64)
        if raw is not None:
            raw = np.where(np.isfinite(raw) & ((raw > 0) | (not curve.log_y)), raw, np.nan)
        self.raw_line.setData(lrs if raw is not None else [], raw if raw is not None else [], connect="finite")
        low, high = curve.lr_range
        item.setXRange(np.log10(low), np.log10(high), padding=0.02)
        self._fit_y(shown, raw, curve.log_y)
        s = curve.suggestions
        for key, lr, name in (("steepest", s.steepest_lr, "steepest"), ("valley", s.valley_lr, "min / 10")):
            line = self.marks[key]
            line.setVisible(lr is not None)
            if lr is not None:
                line.setValue(float(np.log10(lr)))
                line.label.setFormat(f"{name}: {format_tick(lr)}")
        if curve.current_lr is not None and curve.current_lr > 0:
            self.current_mark.setValue(float(np.log10(curve.current_lr)))
            self.current_mark.setToolTip(f"the current lr: {format_tick(curve.current_lr)}")
            self.current_mark.show()
        self._say(curve.note)
        self._update_choices()

    def fail(self, text: str) -> None:
        """The search could not run or failed: one line, no chart."""
        self.running = False
        self.progress.hide()
        self.cancel_button.hide()
        self._say(text, error=True)
        self._update_choices()

    def cancelled(self) -> None:
        self.running = False
        self.progress.hide()
        self.cancel_button.hide()
        self._say("Cancelled: nothing was changed.")
        self._update_choices()

    def chosen_lr(self) -> float | None:
        if self.curve is None:
            return None
        s = self.curve.suggestions
        if self.steepest.isChecked() and s.steepest_lr is not None:
            return s.steepest_lr
        return s.valley_lr if self.valley.isChecked() else None

    def apply(self) -> bool:
        """Hand the chosen lr to `on_apply`; close on success, say why not otherwise."""
        lr = self.chosen_lr()
        if lr is None or self.on_apply is None:
            return False
        error = self.on_apply(lr)
        if error:
            self._say(error, error=True)
            return False
        self.accept()
        return True

    # --- inside ---------------------------------------------------------------------------------------------

    def _fit_y(self, shown: np.ndarray, raw: np.ndarray | None, log_y: bool) -> None:
        """The y range spans the curve the suggestions come from (and the raw loss below its top), so the last
        blown-up steps do not flatten the part worth reading (they run off the top), as the PNG does."""
        kept = shown[np.isfinite(shown)]
        if not kept.size:
            return
        values = kept
        if raw is not None:
            values = np.concatenate([kept, raw[np.isfinite(raw) & (raw <= kept.max())]])
        low, high = float(values.min()), float(values.max())
        if log_y:
            low, high = float(np.log10(low)), float(np.log10(high))
        if high <= low:
            low, high = low - 0.5, high + 0.5
        self.plot.getPlotItem().setYRange(low, high, padding=0.06)

    def _update_choices(self) -> None:
        s = self.curve.suggestions if self.curve is not None else Suggestions(None, None, None, None)
        for button, lr, name in ((self.steepest, s.steepest_lr, "steepest"), (self.valley, s.valley_lr, "min / 10")):
            button.setText(f"{name}: {format_tick(lr)}" if lr is not None else f"{name}: none")
            button.setEnabled(lr is not None)
        if s.steepest_lr is None and s.valley_lr is not None:
            self.valley.setChecked(True)
        self.apply_button.setEnabled(self.chosen_lr() is not None and self.on_apply is not None)
        self._emphasise()

    def _emphasise(self, *_args: object) -> None:
        """The chosen suggestion drawn solid and thick, the other dashed."""
        for key, colour, button in (("steepest", STEEPEST, self.steepest), ("valley", VALLEY, self.valley)):
            chosen = button.isChecked()
            style = QtCore.Qt.PenStyle.SolidLine if chosen else QtCore.Qt.PenStyle.DashLine
            self.marks[key].setPen(pg.mkPen(colour, width=2.4 if chosen else 1.4, style=style))
        self.apply_button.setEnabled(self.chosen_lr() is not None and self.on_apply is not None)

    def _say(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(f"color: {ERROR if error else MUTED}")
        self.note.setVisible(bool(text))

    def _cancel(self) -> None:
        if self.running:
            self.cancel_button.setEnabled(False)
            self.cancelRequested.emit()

    def reject(self) -> None:
        self._cancel()  # closing the window stops its search
        super().reject()
