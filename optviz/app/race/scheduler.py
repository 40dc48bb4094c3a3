"""`RaceScheduler`: runs the core's `RaceSession` on a worker thread, never blocking the UI.

What is simulated, cached and judged stale is the session's business (`optviz.core.race.session`); this
class only moves work to a thread and verdicts back to the model.

- **One job in flight.** A change while a job runs only marks the scheduler "wanted"; when the job ends, one
  new job starts from the scene as it is then. This is the throttle: however fast a slider fires, the
  engine runs back to back on the latest value and skips every value in between. A newer request also
  cancels a library-path run between its start-point groups.
- **A short rendezvous.** After starting a job the UI thread waits up to `RENDEZVOUS_S` (8 ms) for it. A
  fast-path race (a few ms) then lands in the same event-loop pass as the slider move that caused it, so one
  frame shows both: on software GL every frame composes the whole window (tens of ms), and a result that
  arrived a moment later would need a second one. Longer jobs (library optimizers) finish in the background.
  The scheduler listens to `model.raceInputsChanged`, which the model emits after every other signal of a
  change, so every other listener has seen the change before its result arrives, whatever the order in
  which they were connected.
- **Learned surfaces**: such a job is never cancelled by a newer request (its work is cached and reused by
  the next job); only the user's Cancel (`model.learnedCancelRequested`) stops it, and then nothing restarts
  until the scene changes or the user asks to refit (`model.learnedRefitRequested`). Progress goes to
  `model.learnedProgress`.
"""

from __future__ import annotations

import threading

from PySide6 import QtCore

from optviz.app.model import SceneModel
from optviz.app.widgets.events import process_events_until
from optviz.core.race.session import Outcome, RaceSession
from optviz.core.scene import Scene

RENDEZVOUS_S = 0.008  # longest the UI thread waits for a job it just started (see the module doc)


class _Signals(QtCore.QObject):
    finished = QtCore.Signal(object)  # the _Job, delivered on the main thread (queued)
    progress = QtCore.Signal(str, int, int)  # learned races: what is being done, done, total (queued)


class _Job(QtCore.QRunnable):
    def __init__(self, scene: Scene, revision: int, session: RaceSession, signals: _Signals):
        super().__init__()
        self.scene, self.revision, self.session, self.signals = scene, revision, session, signals
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.outcome: Outcome | None = None

    def run(self) -> None:
        try:
            outcome = self.session.compute(self.scene, self.cancel.is_set, self.signals.progress.emit)
        except Exception as exc:  # a bug, not a user error: report it in one line, keep the app alive
            outcome = Outcome(revision=self.revision, error=f"internal error while racing: {exc!r}")
        if outcome is not None:
            outcome.revision = self.revision
        self.outcome = outcome
        self.done.set()
        self.signals.finished.emit(self)


class RaceScheduler(QtCore.QObject):
    """See the module doc. `idle` is True when no job runs and none is wanted."""

    raceApplied = QtCore.Signal(object)  # the Outcome just drawn (for timings in the status bar)

    def __init__(self, model: SceneModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.session = RaceSession()
        self._held_revision = -1  # a learned job the user cancelled: not restarted until the scene changes
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self._signals.progress.connect(model.learnedProgress)
        model.learnedCancelRequested.connect(self.cancel_learned)
        model.learnedRefitRequested.connect(self.refit_learned)
        self._running: _Job | None = None
        self._wanted = False
        model.raceInputsChanged.connect(self.request)

    @property
    def idle(self) -> bool:
        return self._running is None and not self._wanted

    def request(self, *_args: object) -> None:
        """Ask for a race of the scene as it is now (coalesced with any job already running)."""
        if self._running is not None:
            self._wanted = True
            if not self._running.scene.is_learned:
                self._running.cancel.set()
            return
        self._start()

    def cancel_learned(self) -> None:
        """The user's Cancel: stop the running learned job and start nothing until the scene changes."""
        self._held_revision = self.model.revision
        self._wanted = False
        if self._running is not None:
            self._running.cancel.set()

    def refit_learned(self) -> None:
        """Fit a new shared plane (and grid) to the current paths; also resumes after a Cancel."""
        self.session.request_refit()
        self._held_revision = -1
        self.request()

    def _start(self) -> None:
        self._wanted = False
        job = _Job(self.model.snapshot(), self.model.revision, self.session, self._signals)
        job.setAutoDelete(False)  # we keep the Python object: PySide must not delete it under us
        self._running = job
        self.model.set_busy(True)
        self._pool.start(job)
        if job.done.wait(RENDEZVOUS_S):
            self._finished(job)  # its queued signal arrives later and is ignored

    def _finished(self, job: _Job) -> None:
        if job is not self._running:
            return  # delivered already (the rendezvous), or superseded
        self._running = None
        current = self.model.revision
        if job.outcome is not None:
            result = self.model.result
            verdict = self.session.accept(job.outcome, current, None if result is None else len(result.configs))
            if verdict.result is not None:
                self.model.set_result(verdict.result, verdict.changed)
                self.raceApplied.emit(job.outcome)
            elif verdict.error:
                self.model.errorRaised.emit(verdict.error)
        if self._wanted or (self.session.applied_revision != current and self._held_revision != current):
            self._start()
        else:
            self.model.set_busy(False)

    def wait(self, timeout: float = 120.0) -> bool:
        """Process events until idle (screenshots, tests, benchmarks); False on timeout."""
        return process_events_until(lambda: self.idle, timeout)

    def shutdown(self) -> None:
        """Let the running job end (it cannot be killed mid-step) before the window goes away."""
        if self._running is not None:
            self._running.cancel.set()
        self._pool.waitForDone(10_000)
