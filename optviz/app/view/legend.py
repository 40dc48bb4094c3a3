"""The legend over the 3-D view: the scene's title and one line per racing optimizer in its colour.

A child widget of the GL view (Qt composites it over the GL frame, and `QWidget.grab` includes it), with
mouse events passed through so it never gets in the way of orbiting or picking.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.readouts import metrics


class Legend(QtWidgets.QLabel):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("legend")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setStyleSheet(
            "QLabel#legend { background: rgba(21, 23, 28, 190); border: 1px solid rgba(255,255,255,22);"
            " border-radius: 7px; padding: 6px 10px; color: #d8dde6; }"
        )
        self._last = ""
        for signal in (model.optimizersReset, model.sceneReplaced, model.surfaceChanged):
            signal.connect(self.refresh)
        model.optimizerStyleChanged.connect(self.refresh)
        model.resultChanged.connect(self.refresh)
        model.cursorChanged.connect(self._cursor_moved)
        self.move(14, 14)
        self.refresh()

    def _cursor_moved(self, _step: float) -> None:
        # Only a change of status (a run diverging under the cursor) changes the text; cheap to recompute.
        self.refresh()

    def refresh(self, *_args: object) -> None:
        model = self.model
        title = model.scene.title or model.surface.title
        lines = [f"<div style='font-weight:600; margin-bottom:3px'>{html.escape(title)}</div>"]
        result = model.result
        step = int(model.cursor)
        for k in model.shown_runs():
            mark = ""
            if result is not None and k < len(result.configs):
                row = metrics.standing(result, k, step)
                if row.diverged:
                    mark = " <span style='color:#ff6b6b'>✕ diverged</span>"
                elif row.status == "converged":
                    mark = " <span style='color:#8a93a3'>✓</span>"
            color = model.color(k)
            lines.append(
                f"<div><span style='color:{color}; font-size:12pt'>━</span>&nbsp; "
                f"{html.escape(model.display_name(k))}{mark}</div>"
            )
        text = "".join(lines)
        if text != self._last:
            self._last = text
            self.setText(text)
            self.adjustSize()
