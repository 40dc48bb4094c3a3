"""The plain warning over the 3-D view when a learned surface's plane explains little of a path.

A projection can make a path look as if it ran downhill while the real weights went somewhere the plane
never shows; then this line names the optimizers and how much of their movement the plane holds.
Hidden for analytic surfaces and for planes that explain every path well.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel

#: Same threshold as `optviz.core.learn.learned_race.POOR_FIT` (not imported: that module imports torch).
POOR_FIT = 0.5


class PlaneWarning(QtWidgets.QLabel):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("plane_warning")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#plane_warning { background: rgba(60, 28, 28, 215); border: 1px solid #ff6b6b;"
            " border-radius: 7px; padding: 6px 10px; color: #ffd7d7; }"
        )
        for signal in (model.resultChanged, model.sceneReplaced, model.surfaceChanged, model.optimizerStyleChanged):
            signal.connect(self.refresh)
        self.hide()

    def text_for(self) -> str:
        """The warning for the current result ("" when none is due)."""
        result = self.model.learned_result
        if result is None:
            return ""
        explained = result.explained
        poor = [
            (self.model.display_name(k), float(e))
            for k, e in enumerate(explained)
            if self.model.shown(k) and e < POOR_FIT
        ]
        if not poor:
            return ""
        names = ", ".join(f"{html.escape(n)} ({e * 100:.0f} %)" for n, e in poor)
        return (
            f"⚠ This plane shows little of where {names} really went: most of the path lies off the plane, "
            "so the trail and the surface under it can mislead. Compare the true and plane losses in the "
            "Surface panel, or refit the plane."
        )

    def refresh(self, *_args: object) -> None:
        text = self.text_for()
        self.setVisible(bool(text))
        if text and text != self.text():
            self.setText(text)
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None or not self.isVisible():
            return
        width = min(560, max(240, parent.width() - 360))
        self.setFixedWidth(width)
        self.adjustSize()
        # Bottom centre, above the mouse hint: the legend holds the top-left corner.
        self.move((parent.width() - width) // 2, parent.height() - self.height() - 34)
