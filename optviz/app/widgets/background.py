"""`BackgroundJob`: one long core computation (the lr finder, the robustness test, an lr sweep) on a worker
thread, with progress, Cancel and one-line failures, so the UI never waits.

The job is a plain function `fn(progress, cancelled)` in the core's style (see ARCHITECTURE, "A long
computation"): it reports `progress(done, total, text)` and checks `cancelled()` between steps. Its signals
arrive on the UI thread (queued). A cancelled job's result is never delivered, even one that finished in the
instant between Cancel and the check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from optviz.app.widgets.events import process_events_until
from optviz.core.errors import OptvizError

Progress = Callable[[int, int, str], None]
Job = Callable[[Progress, Callable[[], bool]], Any]


class _Signals(QtCore.QObject):
    progressed = QtCore.Signal(int, int, int, str)  # generation, done, total, text
    ended = QtCore.Signal(int, str, object)  # generation, "done" / "failed" / "cancelled", result or message


class _Runnable(QtCore.QRunnable):
    def __init__(self, generation: int, fn: Job, stop: threading.Event, signals: _Signals) -> None:
        super().__init__()
        self.generation, self.fn, self.stop, self.signals = generation, fn, stop, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        def progress(done: int, total: int, text: str) -> None:
            self.signals.progressed.emit(self.generation, int(done), int(total), str(text))

        try:
            result = self.fn(progress, self.stop.is_set)
        except OptvizError as exc:  # the core's Cancelled and SweepCancelled are OptvizErrors too
            if self.stop.is_set():
                self.signals.ended.emit(self.generation, "cancelled", None)
            else:
                self.signals.ended.emit(self.generation, "failed", str(exc).splitlines()[0] if str(exc) else "")
            return
        except Exception as exc:  # a bug, not a user mistake: one line, and the app stays alive
            self.signals.ended.emit(self.generation, "failed", f"internal error: {type(exc).__name__}: {exc}")
            return
        self.signals.ended.emit(self.generation, "cancelled" if self.stop.is_set() else "done", result)


class BackgroundJob(QtCore.QObject):
    """See the module doc. One job at a time; `start` while one runs cancels the older one."""

    progressed = QtCore.Signal(int, int, str)
    succeeded = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    runningChanged = QtCore.Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.progressed.connect(self._progressed)
        self._signals.ended.connect(self._ended)
        self._generation = 0
        self._stop = threading.Event()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def start(self, fn: Job) -> None:
        self._stop.set()  # an older job still in flight ends unseen
        self._generation += 1
        self._stop = threading.Event()
        self._set_running(True)
        self._pool.start(_Runnable(self._generation, fn, self._stop, self._signals))

    def cancel(self) -> None:
        """Ask the job to stop at its next check; `cancelled` follows at once (the UI is usable again)."""
        if not self._running:
            return
        self._stop.set()
        self._generation += 1  # whatever the old job still sends is ignored
        self._set_running(False)
        self.cancelled.emit()

    def wait(self, timeout: float = 60.0) -> bool:
        """Process events until the job has ended (tests, screenshots); False on timeout."""
        return process_events_until(lambda: not self._running, timeout)

    def shutdown(self, ms: int = 30_000) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        self.cancel()
        self._pool.waitForDone(ms)

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.runningChanged.emit(running)

    def _progressed(self, generation: int, done: int, total: int, text: str) -> None:
        if generation == self._generation:
            self.progressed.emit(done, total, text)

    def _ended(self, generation: int, how: str, payload: object) -> None:
        if generation != self._generation:
            return
        self._set_running(False)
        if how == "done":
            self.succeeded.emit(payload)
        elif how == "failed":
            self.failed.emit(str(payload))
        else:
            self.cancelled.emit()
