"""`RaceScheduler`: turns model changes into race results, on a worker thread, never blocking the UI.

- **One job in flight.** A change while a job runs only marks the scheduler "wanted"; when the job ends, one
  new job starts from the scene as it is then. This is the throttle: however fast a slider fires, the
  engine runs back to back on the latest value and skips every value in between.
- **Stale results are discarded.** A job carries the model's `revision` when it started; if the model moved
  on meanwhile, its result is dropped (never drawn) and the next job starts at once. A newer request also
  cancels a library-path run between its start-point groups.
- **A short rendezvous.** After starting a job the UI thread waits up to `RENDEZVOUS_S` (8 ms) for it. A
  fast-path race (a few ms) then lands in the same event-loop pass as the slider move that caused it, so one
  frame shows both: on software GL every frame composes the whole window (tens of ms), and a result that
  arrived a moment later would need a second one. Longer jobs (library optimizers) finish in the background.
  Because a result may land inside the model's signal, make the scheduler after every other listener of
  the model (Qt calls slots in connection order): they have seen the change before its result arrives.
- **Learned surfaces** (`scene.learned`) run `LearnedSession.compute` instead (see `learned_jobs`): real
  training per optimizer, one shared plane kept between jobs, a grid with progress (`model.learnedProgress`).
  Such a job is never cancelled by a newer request (its work is cached and reused by the next job); only
  the user's Cancel (`model.learnedCancelRequested`) stops it, and then nothing restarts until the scene
  changes or the user asks to refit (`model.learnedRefitRequested`).
- **Only what changed is simulated.** Raw trajectories are cached per (surface, starts, steps, seed,
  optimizer, hyperparameters), so dragging one optimizer's slider runs that optimizer alone; the others come
  from the cache bit for bit, and the result says which optimizer indices changed so the view re-uploads
  only those trails.
- **Only what changed is scored.** Scoring (losses, norms, status along every path) is elementwise per
  optimizer, so each optimizer's scored arrays are cached under the same key plus the tolerance and the race
  is assembled from them: a slider drag scores one optimizer instead of all of them (it was most of the
  job's time on the fast path, which the UI thread waits for in the rendezvous). The assembled result is
  identical to scoring the whole race at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6 import QtCore

from optviz.app.model import SceneModel
from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.race import RaceResult, RunConfig, simulate
from optviz.core.race.engine import score
from optviz.core.scene import Scene

CACHE_RUNS = 96  # raw trajectories kept: a few scenes' worth of 8 optimizers, bounded memory
RENDEZVOUS_S = 0.008  # longest the UI thread waits for a job it just started (see the module doc)


class RunCache:
    """A small thread-safe LRU: raw trajectories, key -> (positions (M, N+1, 2), errors, engine), or scored
    ones, (key, tolerance) -> a one-optimizer RaceResult."""

    def __init__(self, limit: int = CACHE_RUNS) -> None:
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Any, item: Any) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Outcome:
    revision: int
    result: RaceResult | None = None
    keys: list[Any] = field(default_factory=list)
    scene_key: Any = None
    simulated: list[int] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def _freeze(values: dict[str, Any]) -> tuple:
    return tuple(sorted(values.items()))


def compute_race(
    scene: Scene, cache: RunCache, cancelled=lambda: False, scores: RunCache | None = None
) -> Outcome | None:
    """The race of every optimizer of `scene` (enabled or not, so indices match the scene's list).

    Returns None when cancelled. An optimizer whose settings the library rejects becomes a run that
    diverged at step 1 with the library's message as the reason: one bad setting never stops the race.
    `scores` caches each optimizer's scored arrays (see the module doc); None scores everything afresh.
    """
    t0 = time.perf_counter()
    outcome = Outcome(revision=-1)
    try:
        surface = scene.build_surface()
        starts = scene.start_points(surface)
    except OptvizError as exc:
        outcome.error = str(exc)
        return outcome
    steps, seed = scene.steps, scene.seed
    scene_key = (scene.surface, _freeze(dict(surface.params)), starts.tobytes(), steps, seed)
    configs: list[RunConfig] = []
    raw, errors, engines, keys = [], [], [], []
    for k, entry in enumerate(scene.optimizers):
        try:
            config = RunConfig(
                entry.name, get_optimizer(entry.name).resolve(entry.hyperparams, scene.surface), entry.label
            )
        except OptvizError as exc:  # a value the registry refuses on this surface
            config = RunConfig(entry.name, dict(entry.hyperparams), entry.label)
            configs.append(config)
            keys.append(None)
            raw.append(_failed_run(starts, steps))
            errors.append([str(exc)] * len(starts))
            engines.append("none")
            continue
        configs.append(config)
        key = (scene_key, config.optimizer, _freeze(config.hyperparams))
        hit = cache.get(key)
        if hit is None:
            try:
                positions, errs, engine = simulate(surface, config, starts, steps, seed, cancelled=cancelled)
            except OptvizError as exc:
                positions, errs, engine = _failed_run(starts, steps), [str(exc)] * len(starts), "none"
            if cancelled():
                return None
            hit = (positions, errs, engine)
            cache.put(key, hit)
            outcome.simulated.append(k)
        keys.append(key)
        raw.append(hit[0])
        errors.append(hit[1])
        engines.append(hit[2])
    if not raw:
        positions = np.zeros((0, len(starts), steps + 1, 2))
        outcome.result = score(surface, configs, starts, positions, errors, steps, seed, scene.tolerance, engines)
    else:
        parts = []
        for k, key in enumerate(keys):
            score_key = None if key is None or scores is None else (key, scene.tolerance)
            part = scores.get(score_key) if score_key is not None else None
            if part is None:
                part = score(
                    surface, [configs[k]], starts, raw[k][None], [errors[k]], steps, seed, scene.tolerance, [engines[k]]
                )
                if score_key is not None:
                    scores.put(score_key, part)
            parts.append(part)
        outcome.result = _assemble(parts, configs, starts, steps, seed, scene.tolerance, engines)
    outcome.keys = keys
    outcome.scene_key = scene_key
    outcome.seconds = time.perf_counter() - t0
    return outcome


_SCORED = ("positions", "losses", "grad_norms", "update_norms", "distances", "status", "stopped_at", "reasons")


def _assemble(parts: list[RaceResult], configs, starts, steps: int, seed: int, tolerance: float, engines):
    """One RaceResult from per-optimizer ones (new arrays: the cached parts are never handed out)."""
    arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _SCORED}
    return RaceResult(
        configs=list(configs),
        starts=starts,
        steps=steps,
        seed=seed,
        tolerance=tolerance,
        engines=list(engines),
        **arrays,
    )


def _failed_run(starts: np.ndarray, steps: int) -> np.ndarray:
    positions = np.full((len(starts), steps + 1, 2), np.nan)
    positions[:, 0] = starts
    return positions


class _Signals(QtCore.QObject):
    finished = QtCore.Signal(object)  # the _Job, delivered on the main thread (queued)
    progress = QtCore.Signal(str, int, int)  # learned races: what is being done, done, total (queued)


class _Job(QtCore.QRunnable):
    def __init__(self, scene: Scene, revision: int, cache: RunCache, signals: _Signals, learned=None, scores=None):
        super().__init__()
        self.scene, self.revision, self.cache, self.signals = scene, revision, cache, signals
        self.learned = learned  # the LearnedSession, used when the scene's surface is learned
        self.scores: RunCache | None = scores  # per-optimizer scored arrays (see compute_race)
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.outcome: Outcome | None = None

    def run(self) -> None:
        try:
            if self.scene.is_learned:
                outcome = self.learned.compute(self.scene, self.cancel.is_set, self.signals.progress.emit)
            else:
                outcome = compute_race(self.scene, self.cache, self.cancel.is_set, self.scores)
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
        self.cache = RunCache()
        self.scores = RunCache()  # per-optimizer scored arrays: the run keys plus the tolerance
        from optviz.app.learned.learned_jobs import LearnedSession

        self.learned = LearnedSession()
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
        self._applied_revision = -1
        self._shown_keys: list[Any] | None = None
        self._shown_scene_key: Any = None
        self.discarded = 0  # stale results dropped (tests and benchmarks read it)
        for signal in (
            model.sceneReplaced,
            model.surfaceChanged,
            model.optimizersReset,
            model.optimizerChanged,
            model.startsChanged,
            model.raceSettingsChanged,
        ):
            signal.connect(self.request)

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
        self.learned.request_refit()
        self._held_revision = -1
        self.request()

    def _start(self) -> None:
        self._wanted = False
        job = _Job(self.model.snapshot(), self.model.revision, self.cache, self._signals, self.learned, self.scores)
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
        outcome = job.outcome
        current = self.model.revision
        if outcome is not None and outcome.revision == current:
            if outcome.result is not None:
                self._apply(outcome)
            elif outcome.error:
                self.model.errorRaised.emit(outcome.error)
            self._applied_revision = current
        elif outcome is not None:
            self.discarded += 1
        if self._wanted or (self._applied_revision != current and self._held_revision != current):
            self._start()
        else:
            self.model.set_busy(False)

    def _apply(self, outcome: Outcome) -> None:
        changed: frozenset[int] | None = None
        old = self._shown_keys
        if (
            old is not None
            and self.model.result is not None
            and outcome.scene_key == self._shown_scene_key
            and len(old) == len(outcome.keys)
            and len(self.model.result.configs) == len(outcome.keys)
        ):
            changed = frozenset(
                k for k, (a, b) in enumerate(zip(old, outcome.keys, strict=True)) if a != b or a is None
            )
        self._shown_keys = outcome.keys
        self._shown_scene_key = outcome.scene_key
        self.model.set_result(outcome.result, changed)
        self.raceApplied.emit(outcome)

    def wait(self, timeout: float = 120.0) -> bool:
        """Process events until idle (screenshots, tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        app = QtCore.QCoreApplication.instance()
        while not self.idle:
            if time.monotonic() > deadline:
                return False
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        return True

    def shutdown(self) -> None:
        """Let the running job end (it cannot be killed mid-step) before the window goes away."""
        if self._running is not None:
            self._running.cancel.set()
        self._pool.waitForDone(10_000)
