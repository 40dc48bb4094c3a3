"""Runs a `TrainingSession` on a QThread and hands its events to the UI in batches.

The session's generator is the job (core/learn/training.py); this object only moves it off the UI thread.
Events are batched (one signal every `BATCH_MS` at most, and at each run's end) so a fast run on a tiny model
cannot flood the event loop with thousands of signals a second. Pause, resume and stop go straight to the
session's thread-safe `RunControl`; a paused job blocks in the worker thread, never in the UI.
"""

from __future__ import annotations

import time
import warnings

from PySide6 import QtCore

from optviz.core.learn.records import RunEnded
from optviz.core.learn.training import TrainingSession

BATCH_MS = 60


class TrainingWorker(QtCore.QObject):
    """Lives in its own thread; `start()` runs the session there."""

    events = QtCore.Signal(list)  # a batch of StepRecord / RunEnded
    finished = QtCore.Signal()
    failed = QtCore.Signal(str)  # an unexpected error (a bug): one line for the status bar

    def __init__(self, session: TrainingSession) -> None:
        super().__init__()
        self.session = session
        self.thread = QtCore.QThread()
        self.thread.setObjectName("optviz-training")
        self.moveToThread(self.thread)
        self.thread.started.connect(self._run)

    def start(self) -> None:
        self.thread.start()

    @QtCore.Slot()
    def _run(self) -> None:
        batch: list = []
        last = time.monotonic()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # library warnings (torchao's compile cache) are not the user's
                for event in self.session.events():
                    batch.append(event)
                    now = time.monotonic()
                    if isinstance(event, RunEnded) or (now - last) * 1000 >= BATCH_MS:
                        self.events.emit(batch)
                        batch, last = [], now
        except Exception as exc:  # a bug, not a user mistake: say it in one line and keep the app alive
            self.failed.emit(f"training stopped: {type(exc).__name__}: {exc}".splitlines()[0])
        finally:
            if batch:
                self.events.emit(batch)
            self.finished.emit()
            self.thread.quit()

    def pause(self) -> None:
        self.session.control.pause()

    def resume(self) -> None:
        self.session.control.resume()

    def stop(self) -> None:
        self.session.control.stop()

    def wait(self, ms: int = 30_000) -> bool:
        """Stop and wait for the thread to end (closing the window must not leave a thread running)."""
        self.stop()
        return self.thread.wait(ms)
