"""The Studies tab's pictures, drawn from a `StudyReport` (the numbers the HTML report draws):

- best objective so far against trial number, per optimizer;
- each optimizer's best trial's validation loss against step (stored with the trial: nothing is retrained);
- hyperparameter importances: one bar per optimizer, split into each tuned hyperparameter's share;
- a grid study's objective over its grid, one optimizer at a time (chosen in a list).

Colours are the optimizers' in the report (`optimizer_color`). The importances and the grid map are painted in
pixels (text measured and elided or left out where it does not fit) so nothing overlaps on a small dock.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.widgets.axis import compact_axes, format_tick
from optviz.app.widgets.small_plot import style_small_plot
from optviz.app.widgets.theme import BORDER, MUTED, PANEL, TEXT
from optviz.core.study.report import GridMap, StudyReport
from optviz.core.study.space import NEAR_ONE

#: Colours of the hyperparameters' shares in an importance bar (the optimizer's colour names the row).
SHARE_COLORS = ("#4cc9f0", "#f8961e", "#90be6d", "#f94144", "#b388eb", "#ffd166")


def chart(title: str, x: str, y: str) -> pg.PlotWidget:
    """A small themed plot with the app's compact axes."""
    widget = pg.PlotWidget(background=PANEL, axisItems=compact_axes())
    widget.setMinimumSize(160, 110)
    style_small_plot(widget.getPlotItem(), title, x, y)
    return widget


def wide(values: np.ndarray) -> bool:
    """Whether positive values span more than a factor of ten (a log axis shows them better)."""
    finite = values[np.isfinite(values) & (values > 0)]
    return finite.size > 0 and float(finite.max()) > 10 * float(finite.min())


class StudyCharts:
    """The two curve charts; `set_report(report, colors)` redraws both."""

    def __init__(self) -> None:
        self.best = chart("Best objective so far", "trial number", "")
        self.best.setToolTip(
            "Each optimizer's lowest objective (mean validation loss at the end) over its finished trials, "
            "trial by trial"
        )
        self.curves = chart("Best trial: validation loss", "step", "")
        self.curves.setToolTip("The validation loss of each optimizer's best trial (mean over its seeds)")

    def set_report(self, report: StudyReport | None, colors: dict[str, str]) -> None:
        for widget in (self.best, self.curves):
            widget.getPlotItem().clear()
        if report is None:
            return
        history = {k: v for k, v in report.history.items() if any(math.isfinite(b) for _, b in v)}
        self._draw(self.best, {k: ([n for n, _ in v], [b for _, b in v]) for k, v in history.items()}, colors, True)
        self._draw(self.curves, dict(report.curves), colors, False)

    @staticmethod
    def _draw(widget: pg.PlotWidget, series: dict, colors: dict[str, str], symbols: bool) -> None:
        item = widget.getPlotItem()
        ys = np.array([y for _, v in series.items() for y in v[1]], dtype=float)
        log = wide(ys)
        item.setLogMode(x=False, y=log)
        for name, (x, y) in series.items():
            y = np.asarray(y, dtype=float)
            y = np.where(np.isfinite(y) & ((y > 0) | (not log)), y, np.nan)
            color = colors.get(name, TEXT)
            curve = pg.PlotDataItem(np.asarray(x, dtype=float), y, pen=pg.mkPen(color, width=2), connect="finite")
            if symbols:
                curve.setSymbol("o")
                curve.setSymbolSize(5)
                curve.setSymbolBrush(color)
                curve.setSymbolPen(None)
            item.addItem(curve)
        if series:
            item.enableAutoRange()


class ImportanceBars(QtWidgets.QWidget):
    """One row per optimizer: its name, then a bar split into each tuned hyperparameter's share (see the module
    doc); an optimizer without importances yet says why in its row."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 90)
        self.rows: list[tuple[str, str, dict[str, float], str]] = []  # name, colour, shares, note
        self.params: list[str] = []  # in the study's tune order: each keeps its colour in every row
        self.setToolTip(
            "Which tuned hyperparameter mattered, per optimizer: Optuna's PED-ANOVA importances over its finished "
            "trials (how much more concentrated the best trials' values are than all trials'); each bar adds up "
            "to 100 %"
        )

    def set_report(self, report: StudyReport | None, colors: dict[str, str]) -> None:
        self.rows = []
        self.params = [t.name for t in report.setup.tune] if report is not None else []
        if report is not None:
            for name, weight in report.importances.items():
                self.rows.append((name, colors.get(name, TEXT), dict(weight.values), weight.note))
        self.update()

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        font = painter.font()
        font.setPointSizeF(8.0)
        painter.setFont(font)
        metrics = QtGui.QFontMetrics(font)
        painter.setPen(QtGui.QColor(TEXT))
        title = QtCore.QRect(0, 2, self.width(), metrics.height())
        painter.drawText(title, QtCore.Qt.AlignmentFlag.AlignHCenter, "Hyperparameter importance")
        top = title.bottom() + 6
        if not self.rows:
            painter.setPen(QtGui.QColor(MUTED))
            painter.drawText(self.rect().adjusted(8, top, -8, 0), QtCore.Qt.AlignmentFlag.AlignHCenter, "no study")
            return
        shown = {p for _, _, shares, _ in self.rows for p in shares}
        params = [p for p in self.params if p in shown]
        legend_h = metrics.height() + 4
        room = self.height() - top - legend_h - 4
        row_h = min(34, room / len(self.rows))
        legend_top = top + row_h * len(self.rows) + 2  # right under the rows, however few
        name_w = min(max(metrics.horizontalAdvance(r[0]) for r in self.rows) + 10, self.width() // 3)
        left, right = 8 + name_w, self.width() - 10
        for k, (name, color, shares, note) in enumerate(self.rows):
            y = top + k * row_h
            box = QtCore.QRectF(left, y + row_h * 0.18, max(0, right - left), row_h * 0.64)
            painter.setPen(QtGui.QColor(color))
            label = metrics.elidedText(name, QtCore.Qt.TextElideMode.ElideRight, name_w - 8)
            painter.drawText(QtCore.QRectF(8, y, name_w - 8, row_h), QtCore.Qt.AlignmentFlag.AlignVCenter, label)
            if not shares:
                painter.setPen(QtGui.QColor(MUTED))
                text = metrics.elidedText(note, QtCore.Qt.TextElideMode.ElideRight, int(box.width()))
                painter.drawText(box, QtCore.Qt.AlignmentFlag.AlignVCenter, text)
                continue
            x = box.left()
            for param in params:
                share = shares.get(param, 0.0)
                if share <= 0:
                    continue
                part = QtCore.QRectF(x, box.top(), box.width() * share, box.height())
                painter.fillRect(part, QtGui.QColor(_share_color(params, param)))
                text = f"{param} {share:.0%}"
                if metrics.horizontalAdvance(text) + 6 > part.width():
                    text = f"{share:.0%}"
                if metrics.horizontalAdvance(text) + 6 <= part.width() and part.height() >= metrics.height() - 2:
                    painter.setPen(QtGui.QColor("#15171c"))
                    painter.drawText(part, QtCore.Qt.AlignmentFlag.AlignCenter, text)
                x = part.right()
        # Which colour is which hyperparameter, under the rows.
        x, y = float(left), float(legend_top)
        for param in params:
            width = metrics.horizontalAdvance(param)
            if x + 14 + width > self.width():
                break
            painter.fillRect(QtCore.QRectF(x, y + 4, 10, 10), QtGui.QColor(_share_color(params, param)))
            painter.setPen(QtGui.QColor(MUTED))
            painter.drawText(QtCore.QPointF(x + 14, y + metrics.ascent() + 2), param)
            x += 14 + width + 14


def _share_color(params: list[str], param: str) -> str:
    return SHARE_COLORS[params.index(param) % len(SHARE_COLORS)]


class GridMapView(QtWidgets.QWidget):
    """A grid study's objective over its first two tuned axes, one optimizer at a time (the list above it):
    cells coloured from low (bright) to high (dark) objective, the same scale for every optimizer; a cell
    with no finished trial is left empty."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 110)
        self.choice = QtWidgets.QComboBox(self)
        self.choice.setToolTip("The optimizer whose grid is shown")
        self.canvas = _GridCanvas(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        top = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel("Objective over the grid", self)
        title.setStyleSheet(f"color: {TEXT}; font-size: 8pt")
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.choice)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        self.maps: dict[str, GridMap] = {}
        self.choice.currentTextChanged.connect(self._chosen)

    def set_report(self, report: StudyReport | None) -> None:
        self.maps = dict(report.grids) if report is not None else {}
        current = self.choice.currentText()
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItems(list(self.maps))
        if current in self.maps:
            self.choice.setCurrentText(current)
        self.choice.blockSignals(False)
        finite = np.array([v for m in self.maps.values() for row in m.values for v in row if math.isfinite(v)])
        self.canvas.log = wide(finite) and bool((finite > 0).all())
        shown = np.log(finite) if self.canvas.log else finite
        self.canvas.scale = (float(shown.min()), float(shown.max())) if finite.size else (0.0, 1.0)
        self._chosen(self.choice.currentText())

    def _chosen(self, name: str) -> None:
        self.canvas.grid = self.maps.get(name)
        self.canvas.update()


class _GridCanvas(QtWidgets.QWidget):
    GAP = 6

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.grid: GridMap | None = None
        self.scale = (0.0, 1.0)
        self.log = False  # colours by log(objective): a diverging corner must not flatten the rest
        self.colormap = pg.colormap.get("viridis")

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        font = painter.font()
        font.setPointSizeF(8.0)
        painter.setFont(font)
        metrics = QtGui.QFontMetrics(font)
        grid = self.grid
        if grid is None:
            painter.setPen(QtGui.QColor(MUTED))
            painter.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "a grid study shows its map here")
            return
        xs, ys = _shown(grid.x_name, grid.x_values), _shown(grid.y_name, grid.y_values) if grid.y_name else []
        x_labels = [format_tick(v) for v in xs[1]]
        y_labels = [format_tick(v) for v in ys[1]] if ys else [""]
        left = (max(metrics.horizontalAdvance(t) for t in y_labels) + 8 if grid.y_name else 8) + metrics.height()
        bottom = 2 * metrics.height() + 6
        area = QtCore.QRectF(left, 2, self.width() - left - 6, self.height() - bottom - 2)
        nx, ny = len(grid.x_values), len(grid.values)
        cw, ch = area.width() / nx, area.height() / ny
        low, high = self.scale
        for j in range(ny):
            for i in range(nx):
                # Rows and columns in the shown order (1 - beta spaced from small to large, see `_shown`).
                value = grid.values[ys[0][j] if ys else 0][xs[0][i]]
                cell = QtCore.QRectF(area.left() + i * cw, area.bottom() - (j + 1) * ch, cw - 1, ch - 1)
                if not math.isfinite(value):
                    painter.setPen(QtGui.QColor(BORDER))
                    painter.drawRect(cell)
                    continue
                shade = math.log(value) if self.log else value
                t = 0.5 if high <= low else (shade - low) / (high - low)
                color = self.colormap.map(1.0 - t, mode="qcolor")  # bright = low objective
                painter.fillRect(cell, color)
                text = f"{value:.3g}"
                if metrics.horizontalAdvance(text) + 4 <= cw and metrics.height() <= ch:
                    painter.setPen(QtGui.QColor("#15171c" if t < 0.5 else TEXT))
                    painter.drawText(cell, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        painter.setPen(QtGui.QColor(MUTED))
        _axis_labels(painter, metrics, x_labels, area, cw, horizontal=True)
        painter.drawText(
            QtCore.QRectF(area.left(), area.bottom() + metrics.height() + 4, area.width(), metrics.height()),
            QtCore.Qt.AlignmentFlag.AlignHCenter,
            xs[2],
        )
        if grid.y_name:
            _axis_labels(painter, metrics, y_labels, area, ch, horizontal=False)
            painter.save()
            painter.translate(2, area.center().y())
            painter.rotate(-90)
            painter.drawText(
                QtCore.QRectF(-area.height() / 2, 0, area.height(), metrics.height()),
                QtCore.Qt.AlignmentFlag.AlignHCenter,
                ys[2],
            )
            painter.restore()


def _shown(name: str | None, values: list[float]) -> tuple[list[int], list[float], str]:
    """The order to draw an axis's cells in, the values written under them, and the axis's title: betas and
    momentum spaced in 1 - value read as 1 - value (as the HTML report draws them)."""
    order = list(range(len(values)))
    if name in NEAR_ONE and values and values[-1] < 1:
        return order[::-1], [1 - values[i] for i in order[::-1]], f"1 − {name}"
    return order, list(values), name or ""


def _axis_labels(
    painter: QtGui.QPainter, metrics: QtGui.QFontMetrics, labels: list[str], area: QtCore.QRectF, step: float,
    horizontal: bool,
) -> None:  # fmt: skip
    """Each cell's value beside it, every k-th cell only when they would touch."""
    if horizontal:
        widest = max(metrics.horizontalAdvance(t) for t in labels) + 6
        every = max(1, math.ceil(widest / step))
    else:
        every = max(1, math.ceil((metrics.height() + 2) / step))
    for i, text in enumerate(labels):
        if i % every:
            continue
        if horizontal:
            rect = QtCore.QRectF(area.left() + i * step, area.bottom() + 2, step, metrics.height())
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.TextFlag.TextDontClip, text)
        else:
            # Right of the axis's title (one line high, turned on its side at the left edge).
            rect = QtCore.QRectF(
                metrics.height(), area.bottom() - (i + 1) * step, area.left() - 4 - metrics.height(), step
            )
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter, text)
