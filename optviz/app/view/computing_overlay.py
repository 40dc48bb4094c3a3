"""What the 3-D view shows while it has no result to draw: the race (or the learned surface) being computed.

- An analytic race with no result yet (a new surface, an example just opened) says "Computing the race…"
  after a short grace period, so a race that lands within a frame or two never flashes it.
- A learned surface says which stage runs (training with each optimizer, then the loss over the grid), a
  progress bar for that stage, the time it has left (from the rate so far) and Cancel; after a Cancel it
  says nothing was computed and offers to compute again.
- With a learned result already drawn (a slider retrains one optimizer), the same box sits at the bottom of the
  view instead of over the surface.
"""

from __future__ import annotations

import re
import time

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel

GRACE_MS = 250  # an analytic race shorter than this shows no box at all
_TRAINING = re.compile(r"^training .*\((\d+)/(\d+)\)$")


def format_left(seconds: float) -> str:
    if seconds < 1.5:
        return "about 1 s left"
    if seconds < 90:
        return f"about {seconds:.0f} s left"
    return f"about {seconds / 60:.0f} min left"


class ComputingOverlay(QtWidgets.QFrame):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("computing")
        self.setStyleSheet(
            "QFrame#computing { background: rgba(21, 23, 28, 225); border: 1px solid rgba(255,255,255,30);"
            " border-radius: 8px; } QFrame#computing QLabel { background: transparent; }"
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)
        self.title = QtWidgets.QLabel(self)
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.stage = QtWidgets.QLabel(self)
        self.stage.setWordWrap(True)
        self.bar = QtWidgets.QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        row = QtWidgets.QHBoxLayout()
        self.left = QtWidgets.QLabel(self)
        self.left.setProperty("role", "muted")
        self.cancel = QtWidgets.QPushButton("Cancel", self)
        self.cancel.setToolTip("Stop computing the learned surface (nothing restarts until you change something)")
        self.cancel.clicked.connect(model.learnedCancelRequested)
        self.again = QtWidgets.QPushButton("Compute", self)
        self.again.setToolTip("Train and compute the learned surface now")
        self.again.clicked.connect(model.learnedRefitRequested)
        row.addWidget(self.left, 1)
        row.addWidget(self.cancel)
        row.addWidget(self.again)
        for widget in (self.title, self.stage, self.bar):
            layout.addWidget(widget)
        layout.addLayout(row)
        self.setFixedWidth(380)

        self._stage_key: tuple[str, int] | None = None  # (stage, total) of the reports being timed
        self._stage_start = 0.0
        self._cancelled = False
        self._grace = QtCore.QTimer(self, singleShot=True, interval=GRACE_MS)
        self._grace.timeout.connect(self.refresh)
        model.busyChanged.connect(self._busy)
        model.resultChanged.connect(self.refresh)
        model.learnedProgress.connect(self._progress)
        model.learnedCancelRequested.connect(self._cancel_requested)
        for signal in (model.sceneReplaced, model.surfaceChanged, model.raceInputsChanged):
            signal.connect(self._inputs_changed)
        self.hide()

    # ---- model -> box ------------------------------------------------------------------------------------
    def _inputs_changed(self, *_args: object) -> None:
        self._cancelled = False
        self._stage_key = None
        if self.model.result is None:
            self._grace.start()  # analytic races: only if it takes longer than a frame or two
        self.refresh()

    def _cancel_requested(self) -> None:
        self._cancelled = True

    def _busy(self, busy: bool) -> None:
        if busy and self.model.result is None:
            self._grace.start()
        if not busy:
            self._stage_key = None
        self.refresh()

    def _progress(self, text: str, done: int, total: int) -> None:
        if text == "done":
            self._stage_key = None
            self.refresh()
            return
        stage = "train" if text.startswith("training") else "grid"
        now = time.monotonic()
        if self._stage_key != (stage, total):
            self._stage_key, self._stage_start = (stage, total), now
        if stage == "train":
            match = _TRAINING.match(text)
            k = int(match.group(1)) - 1 if match else done
            name = self.model.display_name(k) if 0 <= k < len(self.model.optimizers) else text
            self.stage.setText(f"1 of 2 · training the network with {name} ({done + 1} of {total})")
        else:
            self.stage.setText(f"2 of 2 · the loss over the {total} × {total} grid · {100 * done // max(total, 1)} %")
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        elapsed = now - self._stage_start
        self.left.setText(format_left(elapsed / done * (total - done)) if done > 0 else "estimating the time left…")
        self.refresh()

    def refresh(self, *_args: object) -> None:
        model = self.model
        learned = model.scene.is_learned
        computing = model.busy and ((learned and self._stage_key is not None) or not self._grace.isActive())
        show = False
        if model.result is None and computing:
            show = True
            self.title.setText("Computing the learned surface…" if learned else "Computing the race…")
            if not learned or self._stage_key is None:
                self.stage.setText("racing every optimizer from the start point" if not learned else "starting")
                self.bar.setRange(0, 0)  # busy indicator: an analytic race has no steps to count
                self.left.setText("")
        elif learned and model.busy and self._stage_key is not None:
            show = True  # a drawn result, retraining under a slider: the same box, at the bottom
            self.title.setText("Updating the learned surface…")
        elif learned and model.result is None and not model.busy and self._cancelled:
            show = True
            self.title.setText("The learned surface was not computed")
            self.stage.setText("Cancelled. Change a setting, or compute it now.")
            self.left.setText("")
        self.cancel.setVisible(learned and model.busy)
        self.again.setVisible(learned and not model.busy)
        self.bar.setVisible(model.busy)
        self.setVisible(show)
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None or not self.isVisible():
            return
        self.adjustSize()
        x = (parent.width() - self.width()) // 2
        y = (
            (parent.height() - self.height()) // 2
            if self.model.result is None
            else parent.height() - self.height() - 34
        )
        self.move(x, max(y, 0))
        self.raise_()
