"""A small plot of a learning-rate schedule over a run: the Training panel's multiplier and the race panel's
learning rate per step, one curve, no axes to read but the steps."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6 import QtWidgets

from optviz.app.widgets.theme import ACCENT, MUTED, PANEL


class SchedulePreview(pg.PlotWidget):
    """`show_values(values)`: values[i] is step i + 1's; the y range runs from 0 to the largest."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, tooltip: str = "") -> None:
        super().__init__(parent, background=PANEL)
        self.setFixedHeight(54)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        item = self.getPlotItem()
        item.hideAxis("left")
        item.getAxis("bottom").setStyle(tickLength=-3)
        item.getAxis("bottom").setTextPen(MUTED)
        self.curve = self.plot([], [], pen=pg.mkPen(ACCENT, width=1.6))
        self.setToolTip(tooltip)
        self.values: list[float] = []

    def show_values(self, values: Sequence[float]) -> None:
        self.values = [float(v) for v in values]
        self.curve.setData(list(range(1, len(self.values) + 1)), self.values)
        item = self.getPlotItem()
        item.setXRange(1, max(2, len(self.values)), padding=0.02)
        item.setYRange(0, max([*self.values, 1e-300]) * 1.05, padding=0)
