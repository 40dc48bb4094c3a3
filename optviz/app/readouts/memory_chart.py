"""Optimizer-state memory: a horizontal bar per racing optimizer, the bytes its state holds for this run.

A surface point has 2 parameters, so a run holds `state_bytes_per_param x 2` bytes (per start point); each
row also gives the per-parameter rule (Adam: 8 B/param, two fp32 moments), which is what matters at scale:
the tooltip prints the same rule for a 7-billion-parameter model.

Painted with QPainter rather than as a plot: a handful of labelled bars must stay legible at any dock
width, so the layout measures its text (names left, numbers right) and gives the bars what is left.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.readouts.metrics import format_bytes
from optviz.app.widgets.theme import BORDER, MUTED, PANEL, TEXT
from optviz.core.optimizers import get_optimizer

PARAMS_PER_POINT = 2
LARGE_MODEL = 7e9  # parameters, for the "at scale" line of the tooltip
TITLE = "Optimizer state (this run)"


class MemoryChart(QtWidgets.QWidget):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.rows: list[tuple[str, float, float, str]] = []  # (name, bytes this run, bytes/param, colour)
        self.setMinimumSize(200, 120)
        # Bytes depend on which optimizers race, their settings and how many starts, never on a result: no
        # refresh per race.
        for signal in (model.optimizersReset, model.sceneReplaced, model.startsChanged, model.surfaceChanged):
            signal.connect(self.refresh)
        model.optimizerStyleChanged.connect(self.refresh)
        model.optimizerChanged.connect(self.refresh)  # momentum on or off changes what SGD keeps
        self.refresh()

    def label(self, i: int) -> str:
        _name, total, per_param, _color = self.rows[i]
        return f"{format_bytes(total)} · {per_param:g} B/param"

    def refresh(self, *_args: object) -> None:
        m_count = len(self.model.scene.start_points(self.model.surface))
        self.rows, tips = [], []
        for k in self.model.shown_runs():
            entry = self.model.optimizers[k]
            # The registry's rule for this run's settings (SGD without momentum keeps no buffer).
            per_param = get_optimizer(entry.name).state_bytes(self.model.hyperparams(k))
            total = per_param * PARAMS_PER_POINT * m_count
            name = self.model.display_name(k)
            self.rows.append((name, total, per_param, self.model.color(k)))
            tips.append(
                f"<b>{html.escape(name)}</b>: {format_bytes(total)} for {PARAMS_PER_POINT * m_count} parameters "
                f"({per_param:g} B/param in fp32); a 7B-parameter model: {format_bytes(per_param * LARGE_MODEL)}"
            )
        self.setToolTip("Bytes of optimizer state (fp32) held for this race:<br>" + "<br>".join(tips))
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """Each row: the name left and the bytes right on one line, its bar under them (thinner when space
        is short), bars scaled to the largest. Nothing overflows at any size: long names are elided."""
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QtGui.QColor(PANEL))
        fm = QtGui.QFontMetrics(self.font())
        pad, text_h = 10, fm.height()
        width = self.width() - 2 * pad
        p.setPen(QtGui.QColor(TEXT))
        p.drawText(QtCore.QRect(pad, 6, width, text_h), QtCore.Qt.AlignmentFlag.AlignHCenter, TITLE)
        if not self.rows:
            return
        top = 6 + text_h + 8
        row_h = max(text_h + 3, min(text_h + 14, (self.height() - top - 4) // len(self.rows)))
        bar_h = max(2, min(7, row_h - text_h - 5))
        biggest = max(r[1] for r in self.rows) or 1.0
        left, right = QtCore.Qt.AlignmentFlag.AlignLeft, QtCore.Qt.AlignmentFlag.AlignRight
        for i, (name, total, _per_param, color) in enumerate(self.rows):
            y = top + i * row_h
            label = self.label(i)
            label_w = fm.horizontalAdvance(label)
            p.setPen(QtGui.QColor(TEXT))
            p.drawText(QtCore.QRect(pad, y, width, text_h), right, label)
            p.setPen(QtGui.QColor(MUTED))
            p.drawText(
                QtCore.QRect(pad, y, width, text_h),
                left,
                fm.elidedText(name, QtCore.Qt.TextElideMode.ElideRight, max(width - label_w - 8, 20)),
            )
            bar_y = y + text_h + 1
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(QtGui.QColor(BORDER))
            p.drawRoundedRect(QtCore.QRectF(pad, bar_y, width, bar_h), bar_h / 2, bar_h / 2)
            p.setBrush(QtGui.QColor(color))
            p.drawRoundedRect(
                QtCore.QRectF(pad, bar_y, max(width * total / biggest, bar_h), bar_h), bar_h / 2, bar_h / 2
            )
        p.end()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(300, 150)
