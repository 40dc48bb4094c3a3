"""The leaderboard: per optimizer, at the time cursor, its loss, distance to the nearest minimum, steps to
reach the tolerance and status (a diverged run says why), sorted live, best first.

Refreshes at most ~12 times a second while the race plays (reading a few numbers out of the arrays), and
at once when a result or a colour changes.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import qthrottled

from optviz.app.model import SceneModel
from optviz.app.readouts import metrics
from optviz.app.widgets.icons import swatch
from optviz.app.widgets.theme import ERROR, MUTED, TEXT

COLUMNS = ("Optimizer", "Loss", "lr", "Distance", "To tol.", "Status")
TIPS = (
    "Optimizer (label, or registry title), ranked at the current step: lowest loss first, diverged last",
    "Loss f(x, y) at the current step",
    "The learning rate of the current step, as the optimizer's schedule set it (shown while one has a schedule)",
    "Distance to the nearest known global minimum",
    "First step within the tolerance of a minimum (once the race has got there)",
    "Running, converged, or diverged (hover for the reason: NaN, infinity, far outside the domain, or left the "
    "region where f is defined)",
)
REFRESH_MS = 80
ROW_PX = 24
LR_COLUMN = 2
STATUS_COLUMN = 5
#: Columns hidden first when the names would not fit: "To tol.", then "Distance".
NARROW_HIDES = (4, 3)
MIN_ROWS = 8
STATUS_COLORS = {"diverged": ERROR, "converged": "#7bd389", "running": MUTED}


class Leaderboard(QtWidgets.QTableWidget):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.model = model
        self.setHorizontalHeaderLabels(COLUMNS)
        for i, tip in enumerate(TIPS):
            self.horizontalHeaderItem(i).setToolTip(tip)
        self.setToolTip("The race at the current step, best first")
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.verticalHeader().setDefaultSectionSize(ROW_PX)
        # Room for MIN_ROWS rows in any layout: a neighbour dock scrolls before the ranking shrinks.
        self.setMinimumHeight(self.horizontalHeader().sizeHint().height() + MIN_ROWS * ROW_PX + 2 * self.frameWidth())
        self.standings: list[metrics.Standing] = []
        self.show_lr = False  # the lr column, while an optimizer of the race has a schedule
        # Trailing: the refresh after a burst of cursor moves shows the last one.
        self._soon = qthrottled(self.refresh, REFRESH_MS, leading=False)
        model.cursorChanged.connect(self._soon)
        model.resultChanged.connect(self._result)
        for signal in (model.optimizersReset, model.sceneReplaced, model.tunedChanged):
            signal.connect(self.refresh)
        model.optimizerStyleChanged.connect(self.refresh)
        self.refresh()

    def _result(self, _changed: object) -> None:
        # A slider's re-race refreshes after the view's frame, like the charts; a result that replaces "computing…"
        # (or drops the old one on a surface switch) shows in the same frame as the view.
        if self.model.result is None or self.rowCount() == 0:
            self.refresh()
        else:
            self._soon()

    def refresh(self, *_args: object) -> None:
        self._soon.cancel()
        result = self.model.result
        shown = self.model.shown_runs()
        if result is None or len(result.configs) != len(self.model.optimizers):
            self.standings = []
            self.setRowCount(0)
            return
        step = int(self.model.cursor)
        self.standings = metrics.ranking(result, step, shown)
        self.setRowCount(len(self.standings))
        self.show_lr = metrics.scheduled(result)
        for row, s in enumerate(self.standings):
            name = self.model.display_name(s.k)
            steps = "—" if s.steps_to_tolerance is None else f"{s.steps_to_tolerance:,}"
            lr = metrics.format_value(metrics.learning_rate(result, s.k, step))
            cells = (name, metrics.format_value(s.loss), lr, metrics.format_value(s.distance), steps)
            for col, text in enumerate(cells):
                item = self._item(row, col)
                item.setText(text)
                item.setForeground(QtGui.QColor(TEXT))
                align = QtCore.Qt.AlignmentFlag.AlignVCenter
                align |= QtCore.Qt.AlignmentFlag.AlignLeft if col == 0 else QtCore.Qt.AlignmentFlag.AlignRight
                item.setTextAlignment(align)
            self._item(row, 0).setIcon(swatch(self.model.color(s.k), 8))
            tuned = self.model.tuned(s.k)
            if tuned:  # Tune all set its values: say so where the ranking is read
                self._item(row, 0).setText(f"{name}  (tuned)")
            self._item(row, 0).setToolTip(
                f"#{row + 1}: {html.escape(name)}<br>loss {cells[1]}{f', lr {lr}' * self.show_lr}, "
                f"distance {cells[3]}, within the tolerance "
                f"{'at step ' + steps if s.steps_to_tolerance is not None else 'not yet'}; {html.escape(s.detail)}"
                + (f"<br>{html.escape(tuned)}" * bool(tuned))
            )
            # One short word, so the names keep the width; a diverged run's reason is on hover.
            status = self._item(row, STATUS_COLUMN)
            status.setText(s.status)
            status.setForeground(QtGui.QColor(STATUS_COLORS.get(s.status, TEXT)))
            status.setToolTip(html.escape(s.detail))

        self._fit_columns()

    def _fit_columns(self) -> None:
        """Names are never cut: in a narrow dock, "To tol." and then "Distance" give way (the name's tooltip
        has every value)."""
        header = self.horizontalHeader()

        def width(col: int) -> int:
            return max(self.sizeHintForColumn(col), header.sectionSizeHint(col))

        for col in NARROW_HIDES:
            self.setColumnHidden(col, False)
        self.setColumnHidden(LR_COLUMN, not self.show_lr)
        for col in NARROW_HIDES:
            shown = [c for c in range(1, len(COLUMNS)) if not self.isColumnHidden(c)]
            if width(0) + sum(width(c) for c in shown) <= self.viewport().width():
                break
            self.setColumnHidden(col, True)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def row_of(self, k: int) -> int:
        """Where optimizer k stands now (0 = leading); -1 if it is not shown."""
        return next((i for i, s in enumerate(self.standings) if s.k == k), -1)

    def _item(self, row: int, col: int) -> QtWidgets.QTableWidgetItem:
        item = self.item(row, col)
        if item is None:
            item = QtWidgets.QTableWidgetItem()
            self.setItem(row, col, item)
        return item

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(380, 170)
