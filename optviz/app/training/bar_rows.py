"""Horizontal bars on a plot, one row per run, with each row's text laid out in pixels so that nothing overlaps.

A row is a line of text (the run's name on the left, elided to fit; its value on the right) over its bar. The
layout is worked out from the view box's size in pixels each time it changes: text written at data positions
(pyqtgraph's TextItem) keeps its pixel size while the rows shrink, so a fixed layout in data units puts names on
the bars of a short chart. When a row is too short for a line of text and a bar, the text goes (the plot's
tooltip lists every row) and the bars fill the rows. Bars use the full width: no value is written past a bar's
end, where it would leave the plot on a narrow chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from optviz.app.widgets.theme import MUTED, TEXT

#: Pixels: the thinnest bar under a line of text, the thickest bar, and the gap between name and value.
MIN_BAR, MAX_BAR, GAP = 5, 16, 10
#: The narrowest elided name worth writing (a few letters and the ellipsis).
MIN_NAME = 36


@dataclass
class Bar:
    width: float  # in the plot's x units
    outline: bool = False  # a figure to compare with (the registry's), drawn as an outline over the solid bar


@dataclass
class Row:
    name: str
    value: str
    color: str
    bars: list[Bar] = field(default_factory=list)
    tip: str = ""
    value_muted: bool = False  # a note rather than a number


def _text(text: str, color: str, anchor: tuple[float, float]) -> pg.TextItem:
    item = pg.TextItem(text, color=color, anchor=anchor)
    item.textItem.document().setDocumentMargin(0)  # the box is the line: rows are laid out by its height
    item.updateTextPos()
    return item


class BarRows:
    """Rows of bars on `plot` (its left axis hidden: the names are in the rows); `set_rows` to redraw."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.rows: list[Row] = []
        self.items: list[pg.GraphicsObject] = []
        self.labelled = False  # whether the rows' text is shown (see the module doc)
        self._probe = _text("", TEXT, (0, 0))  # never shown: measures the font the rows' text is written in
        plot.hideAxis("left")
        plot.setMouseEnabled(x=False, y=False)
        view = plot.getViewBox()
        view.invertY(True)
        view.sigResized.connect(self._layout)

    def set_rows(self, rows: list[Row]) -> None:
        self.rows = rows
        self._layout()

    def clear(self) -> None:
        self.set_rows([])

    def _layout(self, *_args: object) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        view = self.plot.getViewBox()
        n = len(self.rows)
        view.setToolTip("\n".join(row.tip for row in self.rows if row.tip))
        if n == 0:
            return
        largest = max((bar.width for row in self.rows for bar in row.bars), default=0.0)
        right = largest * 1.04 if largest > 0 else 1.0
        self.plot.setXRange(0, right, padding=0)
        self.plot.setYRange(-0.5, n - 0.5, padding=0)
        width, height = view.width(), view.height()
        if width <= 0 or height <= 0:
            return
        metrics = QtGui.QFontMetricsF(self._probe.textItem.font())
        text_h = metrics.height()
        row_px = height / n
        per_px = 1.0 / row_px  # rows (y units) per pixel
        self.labelled = row_px >= text_h + MIN_BAR + 4
        if self.labelled:
            bar_px = min(MAX_BAR, row_px - text_h - 5)
            centre = [k - 0.5 + (text_h + 2 + bar_px / 2) * per_px for k in range(n)]
        else:
            bar_px = max(2.0, min(MAX_BAR, row_px * 0.7))
            centre = [float(k) for k in range(n)]
        layers = max((len(row.bars) for row in self.rows), default=0)
        for layer in range(layers):
            widths, brushes, pens, ys = [], [], [], []
            for k, row in enumerate(self.rows):
                if layer < len(row.bars):
                    bar = row.bars[layer]
                    widths.append(bar.width)
                    ys.append(centre[k])
                    brushes.append(None if bar.outline else pg.mkBrush(row.color))
                    pens.append(pg.mkPen(row.color, width=1.5) if bar.outline else pg.mkPen(None))
            if widths:
                self._add(pg.BarGraphItem(x0=0, y=ys, height=bar_px * per_px, width=widths, brushes=brushes, pens=pens))
        if not self.labelled:
            return
        for k, row in enumerate(self.rows):
            top = k - 0.5 + per_px
            value_w = metrics.horizontalAdvance(row.value) + 1
            if value_w > width:
                continue
            value = _text(row.value, MUTED if row.value_muted else TEXT, (1, 0))
            value.setPos(right, top)
            self._add(value)
            room = width - value_w - GAP
            name = metrics.elidedText(row.name, QtCore.Qt.TextElideMode.ElideRight, room)
            if name and metrics.horizontalAdvance(name) >= min(MIN_NAME, metrics.horizontalAdvance(row.name)):
                label = _text(name, MUTED, (0, 0))
                label.setPos(0, top)
                self._add(label)

    def _add(self, item: pg.GraphicsObject) -> None:
        self.plot.addItem(item)
        self.items.append(item)
