"""Runs a study's worker job (`TuningStudy.run_worker`) on a QThread and hands its events to the UI.

The job opens the study first (create, resume, or join: whatever `open_study` does, on this thread, since a
remote storage can take seconds), then takes one trial at a time until the budget is counted:

- **Pause** lets the trial in training finish and stops before the next one (the study stays in its storage,
  and Start resumes it);
- **Stop** stops the trial now, between two steps: the core marks it failed, not counted, to be run again.

Step events are thinned to one every `STEP_MS` (a tiny model takes thousands of steps a second); every trial's
start and end, and every note, arrive.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from optviz.core.errors import OptvizError
from optviz.core.learn.control import RunControl
from optviz.core.study.worker import TuningStudy, WorkerEvent

STEP_MS = 100
#: How the job ended, as `finished` says it.
DONE, PAUSED, STOPPED, FAILED = "done", "paused", "stopped", "failed"


class StudyWorker(QtCore.QObject):
    """Lives in its own thread; `start()` runs the job there."""

    opened = QtCore.Signal(object)  # the TuningStudy, once created or loaded
    event = QtCore.Signal(object)  # a WorkerEvent
    finished = QtCore.Signal(str, str)  # how (DONE, PAUSED, STOPPED, FAILED), and a one-line reason on FAILED

    def __init__(self, open_study: Callable[[], TuningStudy]) -> None:
        super().__init__()
        self.open_study = open_study
        self.control = RunControl()
        self._pause = threading.Event()
        self._last_step = 0.0
        self.thread = QtCore.QThread()
        self.thread.setObjectName("optviz-study")
        self.moveToThread(self.thread)
        self.thread.started.connect(self._run)

    def start(self) -> None:
        self.thread.start()

    def pause(self) -> None:
        """Stop after the trial in training (see the module doc)."""
        self._pause.set()

    def stop(self) -> None:
        self.control.stop()

    @property
    def pausing(self) -> bool:
        return self._pause.is_set() and not self.control.stopped

    def wait(self, ms: int = 30_000) -> bool:
        """Stop and wait for the thread (the window is closing)."""
        self.stop()
        return self.thread.wait(ms)

    @QtCore.Slot()
    def _run(self) -> None:
        how, why = DONE, ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna's "experimental" notes are not the user's
                study = self.open_study()
                self.opened.emit(study)
                while not (self._pause.is_set() or self.control.stopped):
                    if study.run_worker(self._report, self.control, max_trials=1).trained == 0:
                        break  # every place is taken (finished, or running on another worker), or Stop
            if self.control.stopped:
                how = STOPPED
            elif self._pause.is_set():
                how = PAUSED
        except OptvizError as exc:  # a set-up the storage refuses, a storage that cannot be reached
            how, why = FAILED, str(exc).splitlines()[0]
        except Exception as exc:  # a bug, not a user mistake: one line, and the app stays alive
            how, why = FAILED, f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            self.finished.emit(how, why)
            self.thread.quit()

    def _report(self, event: WorkerEvent) -> None:
        if event.kind == "step":
            now = time.monotonic()
            if (now - self._last_step) * 1000 < STEP_MS:
                return
            self._last_step = now
        self.event.emit(event)


def open_job(storage_url: str, setup: Any | None, name: str, make_folder: bool = False) -> Callable[[], TuningStudy]:
    """What a worker opens: with a set-up, create the study or resume it when it exists with that set-up;
    without one, join the study `name` as it is stored. `make_folder`: the default journal's folder in the
    user's data folder may not exist yet (a folder typed by hand that does not exist is refused instead)."""

    def open_study() -> TuningStudy:
        from optviz.core.study.storage import open_storage

        if make_folder:
            from pathlib import Path

            Path(storage_url).parent.mkdir(parents=True, exist_ok=True)
        storage = open_storage(storage_url)
        return TuningStudy.create(storage, setup) if setup is not None else TuningStudy.load(storage, name)

    return open_study
