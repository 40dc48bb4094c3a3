"""The re-simulation session: a scene in, an `Outcome` out, simulating only what changed, judging what is stale.

The app's scheduler moves `RaceSession.compute` to a worker thread and hands `RaceSession.accept`'s verdict
back to its model; nothing here knows about Qt, so it is tested as plain code.

- **Only what changed is simulated.** Raw trajectories are cached per (surface, starts, steps, seed,
  optimizer, hyperparameters), so dragging one optimizer's slider runs that optimizer alone; the others come
  from the cache bit for bit, and the outcome keeps a key per run so `accept` can say which optimizer indices
  changed (the view re-uploads only those trails).
- **Only what changed is scored.** Scoring (losses, norms, status along every path) is elementwise per
  optimizer, so each optimizer's scored arrays are cached under the same key plus the tolerance and the race
  is assembled from them (`RaceResult.concat`): a slider drag scores one optimizer instead of all of them.
  The assembled result is identical to scoring the whole race at once.
- **Stale results are dropped.** An outcome carries the revision of the scene it was computed for; `accept`
  drops one whose revision is not the current one, so a slow job never draws over a newer setting.
- **Learned surfaces** (`scene.learned`) run the `LearnedSession` (`optviz.core.learn.session`): real training
  per optimizer, one shared plane kept between jobs, with progress reports.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.race.engine import score, simulate
from optviz.core.race.memory import check_race_memory
from optviz.core.race.perturb import draw_plan
from optviz.core.race.result import RaceResult, RunConfig

if TYPE_CHECKING:
    from optviz.core.learn.session import LearnedSession
    from optviz.core.scene import Scene

CACHE_RUNS = 96  # raw trajectories kept: a few scenes' worth of 8 optimizers, bounded memory

Progress = Callable[[str, int, int], None]  # what is being done, done, total


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
    """What one computation of a scene produced: a result or a one-line error, and what it recomputed."""

    revision: int = -1  # the scene revision it was computed for (set by whoever started the job)
    result: RaceResult | None = None
    keys: list[Any] = field(default_factory=list)  # per run: equal keys mean the same drawn path
    scene_key: Any = None  # equal scene keys mean the same surface, starts and steps
    simulated: list[int] = field(default_factory=list)  # run indices computed afresh (not from the cache)
    error: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What to do with a finished outcome: draw `result` (re-uploading only the runs in `changed`, or all of
    them when it is None), report `error`, or nothing at all when `stale`."""

    stale: bool = False
    result: RaceResult | None = None
    changed: frozenset[int] | None = None
    error: str = ""


class RaceSession:
    """See the module doc. One per window: its caches outlive single jobs."""

    def __init__(self) -> None:
        self.runs = RunCache()
        self.scores = RunCache()  # per-optimizer scored arrays: the run keys plus the tolerance
        self._learned: LearnedSession | None = None
        self._learned_lock = threading.Lock()  # made on first use, from the UI thread or the worker
        self._shown: Outcome | None = None
        self.applied_revision = -1

    @property
    def learned(self) -> LearnedSession:
        """The learned-surface session (made on first use: it imports torch)."""
        with self._learned_lock:
            if self._learned is None:
                from optviz.core.learn.session import LearnedSession

                self._learned = LearnedSession()
            return self._learned

    def request_refit(self) -> None:
        self.learned.request_refit()

    def compute(
        self, scene: Scene, cancelled: Callable[[], bool] = lambda: False, progress: Progress | None = None
    ) -> Outcome | None:
        """The outcome of racing every optimizer of `scene` (enabled or not, so indices match the scene's list);
        None when cancelled."""
        if scene.is_learned:
            return self._compute_learned(scene, cancelled, progress or (lambda *_: None))
        return compute_race(scene, self.runs, cancelled, self.scores)

    def accept(self, outcome: Outcome, revision: int, displayed_runs: int | None) -> Verdict:
        """Judge a finished outcome against the scene's current `revision` (see `Verdict`). `displayed_runs` is
        how many optimizers' runs the display holds now (None: no result), which may differ from the last
        accepted outcome's when the display dropped or removed runs meanwhile."""
        if outcome.revision != revision:
            return Verdict(stale=True)
        self.applied_revision = revision
        if outcome.result is None:
            return Verdict(error=outcome.error)
        shown = self._shown if displayed_runs == len(outcome.keys) else None
        changed = changed_runs(shown, outcome)
        self._shown = outcome
        return Verdict(result=outcome.result, changed=changed)

    def _compute_learned(self, scene: Scene, cancelled: Callable[[], bool], progress: Progress) -> Outcome | None:
        t0 = time.perf_counter()
        try:
            configs = [scene.run_config(k) for k in range(len(scene.optimizers))]
            for report in self.learned.race_steps(scene.learned, configs, scene.steps, cancelled):
                progress(report.message, report.done, report.total)
                if report.result is not None:
                    return Outcome(
                        result=report.result,
                        keys=list(report.keys),
                        scene_key=("learned", self.learned.frame_number),
                        simulated=list(report.recomputed),
                        seconds=time.perf_counter() - t0,
                    )
        except OptvizError as exc:
            return Outcome(error=str(exc))
        return None


def changed_runs(shown: Outcome | None, new: Outcome) -> frozenset[int] | None:
    """Indices of the runs of `new` that differ from those of `shown` (the outcome on display), or None when
    everything must be redrawn (nothing shown, another surface, start set or step count, another run count)."""
    if shown is None or shown.result is None or new.scene_key != shown.scene_key or len(shown.keys) != len(new.keys):
        return None
    return frozenset(k for k, (a, b) in enumerate(zip(shown.keys, new.keys, strict=True)) if a != b or a is None)


def _freeze(values: dict[str, Any]) -> tuple:
    return tuple(sorted(values.items()))


def compute_race(
    scene: Scene, cache: RunCache, cancelled: Callable[[], bool] = lambda: False, scores: RunCache | None = None
) -> Outcome | None:
    """The race of every optimizer of an analytic `scene`, from `cache` where it can (see the module doc).

    Returns None when cancelled. An optimizer whose settings the library rejects becomes a run that
    diverged at step 1 with the library's message as the reason: one bad setting never stops the race.
    `scores` caches each optimizer's scored arrays; None scores everything afresh.
    """
    t0 = time.perf_counter()
    outcome = Outcome()
    try:
        surface = scene.build_surface()
        starts = scene.start_points(surface)
        check_race_memory(len(scene.optimizers), len(starts), scene.steps)
    except OptvizError as exc:
        outcome.error = str(exc)
        return outcome
    steps, seed = scene.steps, scene.seed
    # The perturbation is part of what every run sees, like the surface; the clip and schedule are the optimizer's.
    scene_key = (scene.surface, _freeze(dict(surface.params)), starts.tobytes(), steps, seed, scene.perturbation)
    plan = draw_plan(scene.perturbation, len(starts), steps, seed)
    configs: list[RunConfig] = []
    raw, errors, engines, keys = [], [], [], []
    for k, entry in enumerate(scene.optimizers):
        try:
            config = scene.run_config(k)
        except OptvizError as exc:  # a value the registry refuses on this surface
            configs.append(RunConfig(entry.name, dict(entry.hyperparams), entry.label, entry.clip, entry.schedule))
            keys.append(None)
            raw.append(_failed_run(starts, steps))
            errors.append([str(exc)] * len(starts))
            engines.append("none")
            continue
        configs.append(config)
        key = (scene_key, config.optimizer, _freeze(config.hyperparams), config.clip, config.schedule)
        hit = cache.get(key)
        if hit is None:
            try:
                positions, errs, engine = simulate(surface, config, starts, steps, seed, cancelled=cancelled, plan=plan)
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
        outcome.result = score(surface, configs, starts, positions, errors, steps, seed, scene.tolerance, engines, plan)
    else:
        parts = []
        for k, key in enumerate(keys):
            score_key = None if key is None or scores is None else (key, scene.tolerance)
            part = scores.get(score_key) if score_key is not None else None
            if part is None:
                part = score(
                    surface,
                    [configs[k]],
                    starts,
                    raw[k][None],
                    [errors[k]],
                    steps,
                    seed,
                    scene.tolerance,
                    [engines[k]],
                    plan,
                )
                if score_key is not None:
                    scores.put(score_key, part)
            parts.append(part)
        # The cached parts are never handed out: concat makes new arrays. The configs are the scene's labels.
        outcome.result = RaceResult.concat(parts)
        outcome.result.configs = configs
    outcome.keys = keys
    outcome.scene_key = scene_key
    outcome.seconds = time.perf_counter() - t0
    return outcome


def _failed_run(starts: np.ndarray, steps: int) -> np.ndarray:
    positions = np.full((len(starts), steps + 1, 2), np.nan)
    positions[:, 0] = starts
    return positions
