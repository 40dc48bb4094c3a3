"""The legend over the 3-D view: a title that fits the race and one line per racing optimizer in its colour,
with its loss at the time cursor (where heads pile up at one point, the numbers say who is where).

A child widget of the GL view (Qt composites it over the GL frame, and `QWidget.grab` includes it), with
mouse events passed through so it never gets in the way of orbiting or picking. It sits in whichever corner
of the view covers least of the picture (the surface, its axis labels, the start rings and the heads), chosen
again after the camera moves or the race changes.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import qthrottled

from optviz.app.model import SceneModel
from optviz.app.readouts import metrics

MARGIN = 14
HINT_ROOM = 30  # the mouse hint's line at the bottom right
MIN_WIDTH = 230
CHROME_PX = 2 * 10 + 2  # the style sheet's side padding and border


def weight_inside(pixels: np.ndarray, weights: np.ndarray, rect: QtCore.QRect) -> float:
    """The summed weight of the points (pixels (n, 2)) inside `rect`."""
    inside = (
        (pixels[:, 0] >= rect.left())
        & (pixels[:, 0] <= rect.right())
        & (pixels[:, 1] >= rect.top())
        & (pixels[:, 1] <= rect.bottom())
    )
    return float(np.sum(weights[inside]))


class Legend(QtWidgets.QLabel):
    #: After each placement (the picture changed: camera, race, size): other overlays re-check their places.
    placed = QtCore.Signal()

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget, scene_view=None) -> None:
        super().__init__(parent)
        self.model = model
        self.scene_view = scene_view
        self.setObjectName("legend")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setWordWrap(True)  # a long title takes two lines rather than half the view's width
        self.setStyleSheet(
            "QLabel#legend { background: rgba(21, 23, 28, 190); border: 1px solid rgba(255,255,255,22);"
            " border-radius: 7px; padding: 6px 10px; color: #d8dde6; }"
        )
        self._last = ""
        self._table = ""  # the rows' part of the text (see `fit`)
        self.corner = "top-left"
        for signal in (model.optimizersReset, model.sceneReplaced, model.surfaceChanged):
            signal.connect(self.refresh)
        model.optimizerStyleChanged.connect(self.refresh)
        model.resultChanged.connect(self.refresh)
        model.cursorChanged.connect(self._cursor_moved)
        # After the picture changes: a camera move (a release, a wheel turn), a resize, a new race.
        self.place_soon = qthrottled(self.place, 120, leading=False)
        for signal in (model.resultChanged, model.viewOptionsChanged, model.sceneReplaced, model.startsChanged):
            signal.connect(self.place_soon)
        parent.installEventFilter(self)
        self.move(MARGIN, MARGIN)
        self.refresh()

    def _cursor_moved(self, _step: float) -> None:
        # The losses at the cursor change; cheap to recompute (a few lines of text).
        self.refresh()

    def refresh(self, *_args: object) -> None:
        model = self.model
        rows = []
        result = model.result
        step = int(model.cursor)
        for k in model.shown_runs():
            mark, loss = "", ""
            if result is not None and k < len(result.configs):
                row = metrics.standing(result, k, step)
                if row.diverged:
                    mark = " <span style='color:#ff6b6b'>✕ diverged</span>"
                else:
                    if row.status == "converged":
                        mark = " <span style='color:#8a93a3'>✓</span>"
                    loss = metrics.format_value(row.loss) if math.isfinite(row.loss) else ""
            rows.append(
                f"<tr><td><span style='color:{model.color(k)}; font-size:12pt'>━</span>&nbsp;</td>"
                f"<td style='white-space:nowrap'>{html.escape(model.display_name(k))}{mark}</td>"
                f"<td align='right' style='color:#aab2c0; padding-left:12px; white-space:nowrap'>{loss}</td></tr>"
            )
        title = f"<div style='font-weight:600; margin-bottom:3px'>{html.escape(model.display_title())}</div>"
        table = "<table cellspacing='0' cellpadding='0'>" + "".join(rows) + "</table>"
        if title + table != self._last:
            self._last = title + table
            self._table = table
            self.setText(title + table)
            self.fit()

    def fit(self) -> None:
        """Size to the text, at most a third of the view wide, but never narrower than the rows (a name and its
        loss): the title wraps, a row is never cut (at 1280x800 a long name pushed the losses out of the box)."""
        parent = self.parentWidget()
        whole = self._ideal_width(self.text())
        width = min(whole, max(MIN_WIDTH, parent.width() // 3))
        if width < whole:  # too wide for a third (rare): then the rows alone say how narrow it may be
            width = min(whole, max(width, self._ideal_width(self._table)))
        # QLabel.adjustSize guesses a wrapped label's height from its own aspect rule and can cut the last line.
        size = QtCore.QSize(width, self.heightForWidth(width))
        if size != self.size():  # the losses change at every tick of the animation; the box rarely does
            self.resize(size)
            self.place_soon()

    def _ideal_width(self, text: str) -> int:
        doc = QtGui.QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setHtml(text)
        return math.ceil(doc.idealWidth()) + CHROME_PX

    # ---- placement ---------------------------------------------------------------------------------------
    def corners(self) -> dict[str, QtCore.QRect]:
        """Where the legend may sit, by name, in the view's pixels."""
        parent = self.parentWidget()
        w, h = self.width(), self.height()
        right, bottom = parent.width() - w - MARGIN, parent.height() - h - MARGIN - HINT_ROOM
        return {
            name: QtCore.QRect(x, y, w, h)
            for name, x, y in (
                ("top-left", MARGIN, MARGIN),
                ("top-right", right, MARGIN),
                ("bottom-left", MARGIN, bottom),
                ("bottom-right", right, bottom),
            )
        }

    def picture(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the picture is, in the view's pixels (`SceneView.occupied_pixels`): (pixels, weights)."""
        if self.scene_view is None:
            return np.zeros((0, 2)), np.zeros(0)
        parent = self.parentWidget()
        return self.scene_view.occupied_pixels((parent.width(), parent.height()))

    def covered(self, rect: QtCore.QRect, picture: tuple[np.ndarray, np.ndarray] | None = None) -> float:
        """How much of the picture `rect` would hide (`picture`: `self.picture()`, projected once by a caller
        weighing several rectangles)."""
        return weight_inside(*(picture or self.picture()), rect.adjusted(-6, -6, 6, 6))

    def place(self) -> None:
        """Move to the corner that hides least of the picture (the current one on a tie, then top-left)."""
        parent = self.parentWidget()
        if parent is None or parent.width() < 2 * self.width():
            self.corner = "top-left"
            self.move(MARGIN, MARGIN)
            self.placed.emit()
            return
        corners = self.corners()
        # Other boxes over the view (the basins' key, the plane warning) keep their places.
        others = [
            w.geometry()
            for w in parent.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
            if w is not self and w.isVisible() and w.objectName() != "view_hint"
        ]
        free = {n: r for n, r in corners.items() if not any(r.intersects(o) for o in others)} or corners
        picture = self.picture()
        cost = {name: self.covered(rect, picture) for name, rect in free.items()}
        best = min(cost, key=cost.get)  # dicts keep order: top-left wins a tie
        if self.corner not in cost or cost[best] < cost[self.corner]:  # a real gain only: no jumping about
            self.corner = best
        self.move(corners[self.corner].topLeft())
        self.placed.emit()

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Resize:
            self.fit()
        elif kind in (QtCore.QEvent.Type.MouseButtonRelease, QtCore.QEvent.Type.Wheel):
            self.place_soon()
        return False
