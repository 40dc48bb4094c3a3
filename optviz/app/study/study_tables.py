"""The Studies tab's tables, from a `StudyReport`: each optimizer at its best (with "Apply best"), and every
trial (newest first: the trials as they land)."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.widgets.theme import ERROR, MUTED, TEXT
from optviz.core.study.report import StudyReport

Header = QtWidgets.QHeaderView.ResizeMode
#: Optimizers the best table shows without scrolling (more scroll): the trials table gives up its height first.
SHOWN_ROWS = 6
STATE_COLORS = {"complete": TEXT, "pruned": MUTED, "running": "#4cc9f0", "fail": ERROR, "waiting": MUTED}


def setting_text(params: dict) -> str:
    """lr=0.00123, beta2=0.9999: a trial's setting as people write it (4 digits: 0.9999 is not 1)."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _item(text: str, color: str = TEXT, right: bool = False, tip: str = "") -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    item.setForeground(QtGui.QBrush(QtGui.QColor(color)))
    if right:
        item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
    item.setToolTip(tip or text)
    return item


class BestTable(QtWidgets.QTableWidget):
    """One row per optimizer: finished trials of its budget, best objective, best setting, "Apply best"."""

    applyRequested = QtCore.Signal(str, dict)  # optimizer, the best trial's hyperparameters

    HEADERS = ("optimizer", "trials", "best", "best setting", "")

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().hide()
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        for column, mode in enumerate(
            (Header.ResizeToContents, Header.ResizeToContents, Header.ResizeToContents, Header.Stretch, Header.Fixed)
        ):
            header.setSectionResizeMode(column, mode)
        self.setColumnWidth(4, 92)
        self.setMinimumSize(160, 60)
        # The setting column gives up width (elided, whole on hover) rather than the table scrolling sideways.
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.setToolTip("Each optimizer at its best trial so far; Apply best sets its sliders in the Training panel")
        self.buttons: dict[str, QtWidgets.QPushButton] = {}

    def set_report(self, report: StudyReport | None, colors: dict[str, str]) -> None:
        rows = report.rows if report is not None else []
        self.setRowCount(len(rows))
        self.buttons = {}
        for k, row in enumerate(rows):
            best = f"{row.objective:.4g}" if math.isfinite(row.objective) else "-"
            self.setItem(k, 0, _item(row.optimizer, colors.get(row.optimizer, TEXT)))
            trials = _item(f"{row.finished}/{row.budget}", right=True, tip=f"{row.failed} failed (not counted)")
            self.setItem(k, 1, trials)
            self.setItem(k, 2, _item(best, right=True, tip="mean validation loss at the end, over the seeds"))
            self.setItem(k, 3, _item(setting_text(row.best_params) or "no finished trial yet", TEXT))
            button = QtWidgets.QPushButton("Apply best", self)
            button.setObjectName(f"apply_{row.optimizer}")
            button.setEnabled(row.best_trial is not None)
            button.setToolTip(
                f"Set {row.optimizer}'s sliders in the Training panel to trial #{row.best_trial}'s values"
                if row.best_trial is not None
                else "No finished trial yet"
            )
            button.clicked.connect(
                lambda _=False, name=row.optimizer, params=dict(row.best_params): self.applyRequested.emit(name, params)
            )
            self.setCellWidget(k, 4, button)
            self.buttons[row.optimizer] = button
        # As tall as its rows, up to SHOWN_ROWS of them (the trials below give up the height first).
        row_h = self.verticalHeader().defaultSectionSize()
        chrome = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth() + 2
        self.setMaximumHeight(chrome + row_h * max(1, len(rows)))
        self.setMinimumHeight(chrome + row_h * max(1, min(len(rows), SHOWN_ROWS)))


class TrialsTable(QtWidgets.QTableWidget):
    """Every trial of every optimizer, newest first: number, optimizer, state, objective, setting (and why a
    failed trial failed, on hover)."""

    HEADERS = ("#", "optimizer", "state", "objective", "setting")

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().hide()
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setMinimumSize(160, 60)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, Header.ResizeToContents)
        header.setSectionResizeMode(4, Header.Stretch)
        self.setToolTip("Every trial, newest first; a failed trial's note says why (failed trials do not count)")

    def set_report(self, report: StudyReport | None, colors: dict[str, str]) -> None:
        order = list(report.trials) if report is not None else []
        trials = [t for ts in (report.trials.values() if report is not None else []) for t in ts]
        trials.sort(key=lambda t: (t.number, order.index(t.optimizer)), reverse=True)
        self.setRowCount(len(trials))
        for k, t in enumerate(trials):
            value = f"{t.value:.4g}" if math.isfinite(t.value) else ("diverged" if math.isinf(t.value) else "-")
            self.setItem(k, 0, _item(str(t.number), MUTED, right=True))
            self.setItem(k, 1, _item(t.optimizer, colors.get(t.optimizer, TEXT)))
            self.setItem(k, 2, _item(t.state, STATE_COLORS.get(t.state, TEXT), tip=t.note or t.state))
            self.setItem(k, 3, _item(value, right=True))
            self.setItem(k, 4, _item(setting_text(t.params), tip=t.note or setting_text(t.params)))

    def rows(self) -> list[tuple[str, int, str, str]]:
        """(optimizer, number, state, objective text) of each row, top to bottom (tests)."""
        return [
            (self.item(k, 1).text(), int(self.item(k, 0).text()), self.item(k, 2).text(), self.item(k, 3).text())
            for k in range(self.rowCount())
        ]
