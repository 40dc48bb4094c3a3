"""`SweepWorker`: runs the core's progressive sweeps on a worker thread, newest request first.

A request is a function of the grid size (`run(n)`) and the sizes to try, coarse first. Each finished size is
delivered on the main thread as `finished(tag, n, result)`. A newer request cancels the older one between two
chunks of its batched runs (the core's `SweepCancelled`), so dragging a slider never queues stale work, and a
result of a cancelled request is never delivered: nothing half-drawn.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence

from PySide6 import QtCore

from optviz.app.widgets.events import process_events_until
from optviz.core.errors import OptvizError
from optviz.core.sweep.run import SweepCancelled


class _Signals(QtCore.QObject):
    finished = QtCore.Signal(int, int, object)  # generation, grid size, result (queued to the main thread)
    failed = QtCore.Signal(int, str)


class _Job(QtCore.QRunnable):
    def __init__(self, generation: int, run: Callable, counts: Sequence[int], stop: threading.Event, signals):
        super().__init__()
        self.generation, self.run_fn, self.counts, self.stop, self.signals = generation, run, counts, stop, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            for n in self.counts:
                if self.stop.is_set():
                    return
                result = self.run_fn(n, self.stop.is_set)
                if self.stop.is_set():
                    return
                self.signals.finished.emit(self.generation, n, result)
        except SweepCancelled:
            return
        except OptvizError as exc:
            self.signals.failed.emit(self.generation, str(exc))
        except Exception as exc:  # a bug: one line, the app stays alive
            self.signals.failed.emit(self.generation, f"internal error in a sweep: {exc!r}")


class SweepWorker(QtCore.QObject):
    """See the module doc. `finished(tag, n, result)` and `failed(tag, message)` name the request's tag."""

    finished = QtCore.Signal(object, int, object)
    failed = QtCore.Signal(object, str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._deliver)
        self._signals.failed.connect(self._fail)
        self._generations = itertools.count(1)
        self._current = 0
        self._tags: dict[int, object] = {}
        self._stop = threading.Event()
        self._pending = 0  # sizes still to deliver for the current request

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def request(self, tag: object, run: Callable[[int, Callable[[], bool]], object], counts: Sequence[int]) -> None:
        """Run `run(n, cancelled)` for each n in `counts` (coarse first), cancelling any older request."""
        self.cancel()
        self._current = next(self._generations)
        self._tags = {self._current: tag}
        self._stop = threading.Event()
        self._pending = len(counts)
        self._pool.start(_Job(self._current, run, list(counts), self._stop, self._signals))

    def cancel(self) -> None:
        self._stop.set()
        self._pending = 0

    def _deliver(self, generation: int, n: int, result: object) -> None:
        if generation != self._current or self._stop.is_set():
            return  # superseded: never drawn
        self._pending = max(0, self._pending - 1)
        self.finished.emit(self._tags[generation], n, result)

    def _fail(self, generation: int, message: str) -> None:
        if generation == self._current:
            self._pending = 0
            self.failed.emit(self._tags[generation], message)

    def wait(self, timeout: float = 60.0) -> bool:
        """Process events until the current request has delivered everything (tests, screenshots)."""
        return process_events_until(lambda: not self.busy, timeout)

    def shutdown(self) -> None:
        self.cancel()
        self._pool.waitForDone(10_000)
