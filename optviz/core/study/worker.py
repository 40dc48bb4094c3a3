"""The study job: create or resume a study in a storage, and take trials until each optimizer's budget is
reached. The Studies tab runs `TuningStudy.run_worker` on a worker thread, `optviz study run` and
`optviz study worker` in each process; they all take trials from the same storage.

**One Optuna study per optimizer** (`NAME/optimizer`): each optimizer has its own search space (SGD has no
beta2) and its own sampler history (TPE models one space), and the budget is then simply each study's count.

**The budget** is counted, not assumed: a trial counts when it is complete, pruned or running. Before asking for
a trial a worker picks the optimizer with the fewest counted trials still under budget; after asking, it
counts the counted trials numbered before its own (the storage numbers trials in the order they were created,
under its lock or transaction): if the budget was already full, or in grid mode another counted trial already
has its grid cell, the new trial is failed at once with a note and does not count. Two workers racing for the
last place thus both see the earlier trial, and only one trains.

**Interrupted trials**: a running trial writes a heartbeat (a user attribute) every few seconds from a
thread beside the training. Before each trial a worker fails the running trials whose heartbeat is older than
`stale_after`, or whose process on this host no longer exists (a kill, a crash: then at once), with a note;
they do not count, so the budget is topped up, and finished trials are never touched. Optuna's own heartbeat
covers only its SQL storages and only `study.optimize`; this one works on every storage with ask and tell.

**Reproducible**: each trial's sampler is seeded from the study's seed, the optimizer and the number of trials
before it, so one worker run twice, or stopped and resumed, asks for the same settings; several workers
interleave by timing and are not.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optviz.core.atomic import _host, _process_exists
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_ready
from optviz.core.learn.control import RunControl
from optviz.core.params import Value
from optviz.core.study import records
from optviz.core.study.records import TrialRecord
from optviz.core.study.setup import StudyOptimizer, StudySetup, budget, grid, search_space, validate
from optviz.core.study.space import Dimension
from optviz.core.study.trial import TrialOutcome, run_trial

HEARTBEAT_S = 5.0
#: A running trial whose heartbeat is older than this is taken for dead (a killed worker on another machine).
STALE_AFTER_S = 60.0
SETUP_ATTR = "optviz_setup"
#: The median pruner, the same for every optimizer: no pruning before 3 trials have finished, nor in the
#: first quarter of the first seed's steps.
PRUNER_STARTUP_TRIALS = 3


@dataclass(frozen=True)
class WorkerEvent:
    """What a worker reports: a trial started or ended (`ended`), or a step of it (`fraction` of the trial).
    `done` and `total` are the study's counted finished trials and its whole budget, all optimizers."""

    kind: str  # "started", "step", "ended", "note"
    optimizer: str = ""
    trial: int = -1
    fraction: float = 0.0
    done: int = 0
    total: int = 0
    message: str = ""
    record: TrialRecord | None = None


@dataclass
class WorkerSummary:
    trained: int = 0  # trials this worker finished (complete or pruned)
    failed_stale: list[str] = field(default_factory=list)  # "optimizer #n" of trials it marked failed
    stopped: bool = False


class TuningStudy:
    """One study in one storage: its set-up and one Optuna study per optimizer."""

    def __init__(self, storage: Any, setup: StudySetup, studies: dict[str, Any]) -> None:
        self.storage = storage
        self.setup = setup
        self.studies = studies  # optimizer name -> optuna.Study
        self.budget = budget(setup)
        self._spaces = {o.name: search_space(setup, o) for o in setup.optimizers}
        self._fixed = {o.name: dict(o.fixed) for o in setup.optimizers}

    # --- opening ---------------------------------------------------------------------------------------

    @classmethod
    def create(cls, storage: Any, setup: StudySetup) -> TuningStudy:
        """Create the study, or resume it when one of that name exists with the same set-up (another set-up
        under that name is refused, naming the first difference)."""
        import optuna

        _quiet()
        validate(setup)
        wanted = setup.to_dict()
        existing = _names(storage, setup.name)
        extra = sorted(existing - {setup.study_name(o.name) for o in setup.optimizers})
        if extra:
            raise OptvizError(
                f"study {setup.name} exists with other optimizers ({', '.join(n.split('/', 1)[1] for n in extra)}); "
                f"give another --study name, or run `optviz study worker --study {setup.name}` to continue it"
            )
        studies = {}
        for o in setup.optimizers:
            study = optuna.create_study(
                storage=storage, study_name=setup.study_name(o.name), direction="minimize", load_if_exists=True
            )
            stored = study.user_attrs.get(SETUP_ATTR)
            if stored is None:
                study.set_user_attr(SETUP_ATTR, wanted)
            elif stored != wanted:
                raise OptvizError(_difference(setup.name, stored, wanted))
            studies[o.name] = study
        return cls(storage, setup, studies)

    @classmethod
    def load(cls, storage: Any, name: str) -> TuningStudy:
        """An existing study, its set-up read from the storage."""
        import optuna

        _quiet()
        names = _names(storage, name)
        if not names:
            others = study_names(storage)
            where = f"; studies there: {', '.join(others)}" if others else "; it holds no optviz study"
            raise OptvizError(f"no study named {name!r} in this storage{where}")
        first = optuna.load_study(study_name=sorted(names)[0], storage=storage)
        setup = StudySetup.from_dict(first.user_attrs[SETUP_ATTR])
        studies = {
            o.name: optuna.load_study(study_name=setup.study_name(o.name), storage=storage) for o in setup.optimizers
        }
        return cls(storage, setup, studies)

    # --- reading -----------------------------------------------------------------------------------------

    def records(self) -> dict[str, list[TrialRecord]]:
        """Every trial of every optimizer, in trial order."""
        return {
            name: [records.from_frozen(name, t) for t in study.get_trials(deepcopy=False)]
            for name, study in self.studies.items()
        }

    def counted(self) -> dict[str, int]:
        """Trials that count toward each optimizer's budget: complete, pruned or running."""
        return {name: sum(_counts(t) for t in study.get_trials(deepcopy=False)) for name, study in self.studies.items()}

    def finished(self) -> int:
        return sum(r.finished for rs in self.records().values() for r in rs)

    @property
    def total(self) -> int:
        return self.budget * len(self.studies)

    # --- interrupted trials ------------------------------------------------------------------------------

    def fail_stale(self, stale_after: float = STALE_AFTER_S) -> list[str]:
        """Fail the running trials whose worker is gone (see the module doc); returns "optimizer #n" of each."""
        from optuna.trial import TrialState

        host, now, failed = _host(), time.time(), []
        for name, study in self.studies.items():
            for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                worker = t.user_attrs.get("worker") or {}
                beat = t.user_attrs.get("heartbeat")
                if beat is None:  # asked a moment ago, before its first heartbeat
                    beat = t.datetime_start.timestamp()
                gone = worker.get("host") == host and worker.get("pid") != os.getpid()
                gone = gone and not _process_exists(int(worker.get("pid", 0)))
                late = now - float(beat) > stale_after
                if not (gone or late):
                    continue
                why = "its worker process ended" if gone else f"no heartbeat for {now - float(beat):.0f} s"
                try:
                    self.storage.set_trial_user_attr(t._trial_id, "failed", f"interrupted: {why}; not counted")
                    self.storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
                except RuntimeError:
                    continue  # it finished meanwhile
                failed.append(f"{name} #{t.number}")
        return failed

    # --- the job -----------------------------------------------------------------------------------------

    def run_worker(
        self,
        progress: Callable[[WorkerEvent], None] | None = None,
        control: RunControl | None = None,
        *,
        stale_after: float = STALE_AFTER_S,
        heartbeat_s: float = HEARTBEAT_S,
        max_trials: int | None = None,
    ) -> WorkerSummary:
        """Take trials until every optimizer's budget is counted (trials still running elsewhere are left to
        their workers), `max_trials` have been trained, or `control` stops; between trials and steps
        `control` also pauses. A trial stopped part-way is failed with a note and taken again later."""
        control = control or RunControl()
        report = progress or (lambda event: None)
        summary = WorkerSummary()
        order = [o.name for o in self.setup.optimizers]
        skips = 0
        while control.checkpoint() and (max_trials is None or summary.trained < max_trials):
            for item in self.fail_stale(stale_after):
                summary.failed_stale.append(item)
                report(WorkerEvent("note", message=f"{item} was interrupted: marked failed, it will be run again"))
            counted = self.counted()
            open_ = [n for n in order if counted[n] < self.budget]
            if not open_:
                break
            name = min(open_, key=lambda n: (counted[n], order.index(n)))
            asked = self._ask(name)
            if asked is None:
                skips += 1
                if skips > 10 * len(order):  # cannot happen with a sane storage; never spin forever
                    raise OptvizError(f"study {self.setup.name}: could not take a trial within the budget")
                continue
            skips = 0
            record = self._train(name, *asked, report, control, heartbeat_s)
            if record.finished:
                summary.trained += 1
        summary.stopped = control.stopped
        return summary

    def _sampler(self, name: str, index: int, before: int) -> Any:
        import optuna

        seed = (self.setup.seed * 1_000_003 + index * 10_007 + before) % 2**32
        if self.setup.mode == "grid":
            return _grid_sampler()(grid(self.setup, _optimizer(self.setup, name)), seed=seed)
        startup = max(1, min(10, self.budget // 3))
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)

    def _ask(self, name: str) -> tuple[Any, dict[str, Value]] | None:
        from optuna.trial import TrialState

        study = self.studies[name]
        trials = study.get_trials(deepcopy=False)
        index = [o.name for o in self.setup.optimizers].index(name)
        study.sampler = self._sampler(name, index, len(trials))
        if self.setup.pruner:
            import optuna

            study.pruner = optuna.pruners.MedianPruner(
                n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=self.setup.steps // 4
            )
        if self.setup.mode == "grid":
            self._requeue_failed_cell(study, trials)
        trial = study.ask()
        trial.set_user_attr("worker", {"host": _host(), "pid": os.getpid()})
        trial.set_user_attr("heartbeat", time.time())
        params = _suggest(trial, self._spaces[name])
        earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number and _counts(t)]
        reason = ""
        if len(earlier) >= self.budget:
            reason = "over budget: another worker took the last place first"
        elif self.setup.mode == "grid" and any(t.params == params for t in earlier):
            reason = "another worker took this grid cell first"
        if reason:
            trial.set_user_attr("skipped", reason)
            study.tell(trial, state=TrialState.FAIL)
            return None
        return trial, params

    def _requeue_failed_cell(self, study: Any, trials: list[Any]) -> None:
        """Optuna's grid sampler takes a failed trial's cell as visited: once it has no unvisited cell left
        to offer, queue a cell that only failed trials have (none is queued while one waits)."""
        from optuna.trial import TrialState

        axes = grid(self.setup, _optimizer(self.setup, study.study_name.split("/", 1)[1]))
        cells = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]
        if any(t.state == TrialState.WAITING for t in trials):
            return
        offered = {t.system_attrs.get("grid_id") for t in trials if t.state != TrialState.WAITING} - {None}
        covered = [t.params for t in trials if _counts(t)]
        missing = [c for c in cells if c not in covered]
        if missing and len(offered) >= len(cells):
            study.enqueue_trial(missing[0])

    def _train(
        self,
        name: str,
        trial: Any,
        params: dict[str, Value],
        report: Callable[[WorkerEvent], None],
        control: RunControl,
        heartbeat_s: float,
    ) -> TrialRecord:
        from optuna.trial import TrialState

        done, total = self.finished(), self.total
        report(WorkerEvent("started", name, trial.number, 0.0, done, total))

        def on_step(step: int, steps: int) -> None:
            report(WorkerEvent("step", name, trial.number, step / steps, done, total))

        def prune(step: int, value: float) -> bool:
            trial.report(value, step)
            return trial.should_prune()

        with _Heartbeat(self.storage, trial._trial_id, heartbeat_s):
            outcome = run_trial(
                self.setup,
                name,
                {**self._fixed[name], **params},
                control=control,
                on_step=on_step,
                prune=prune if self.setup.pruner else None,
            )
        note = ""
        try:
            _store(trial, outcome)
            if outcome.stopped:
                note = "stopped before its end; not counted, it will be run again"
                trial.set_user_attr("failed", note)
                state = records.FAIL
                trial.study.tell(trial, state=TrialState.FAIL)
            elif outcome.pruned:
                state = records.PRUNED
                trial.study.tell(trial, state=TrialState.PRUNED)
            else:
                state = records.COMPLETE
                trial.study.tell(trial, outcome.objective)
        except RuntimeError as exc:  # another worker took it for dead (a heartbeat far too late) and failed it
            state, note = records.FAIL, f"failed by another worker while training ({exc}); not counted"
        record = TrialRecord(name, trial.number, state, outcome.objective, params, outcome.seeds, outcome.seconds, note)
        report(WorkerEvent("ended", name, trial.number, 1.0, self.finished(), total, note, record))
        return record


def _grid_sampler() -> type:
    """Optuna's grid sampler, minus its `after_trial`: that stops `study.optimize` once the grid is full, and
    raises with ask and tell (there is no optimize loop to stop). Here the counted budget says when to stop."""
    import optuna

    class Grid(optuna.samplers.GridSampler):
        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            pass

    return Grid


def _store(trial: Any, outcome: TrialOutcome) -> None:
    """The trial's measurements as user attributes: per seed (curves, times, memory) and the whole trial's
    wall time; non-finite numbers are stored as null (every storage and JSON reader accepts them)."""
    trial.set_user_attr("seeds", json_ready([s.to_dict() for s in outcome.seeds]))
    trial.set_user_attr("seconds", outcome.seconds)


def _suggest(trial: Any, space: list[Dimension]) -> dict[str, Value]:
    params: dict[str, Value] = {}
    for d in space:
        if d.kind == "categorical":
            params[d.name] = trial.suggest_categorical(d.name, list(d.choices))
        elif d.kind == "int":
            params[d.name] = trial.suggest_int(d.name, int(d.low), int(d.high), log=d.log)
        else:
            params[d.name] = trial.suggest_float(d.name, d.low, d.high, log=d.log)
    return params


def _counts(trial: Any) -> bool:
    return trial.state.name in ("COMPLETE", "PRUNED", "RUNNING")


def _optimizer(setup: StudySetup, name: str) -> StudyOptimizer:
    return next(o for o in setup.optimizers if o.name == name)


def study_names(storage: Any) -> list[str]:
    """The optviz studies a storage holds (each is Optuna studies named NAME/optimizer), sorted."""
    import optuna

    _quiet()
    return sorted({n.split("/", 1)[0] for n in optuna.get_all_study_names(storage) if "/" in n})


def _names(storage: Any, name: str) -> set[str]:
    import optuna

    return {n for n in optuna.get_all_study_names(storage) if n.split("/", 1)[0] == name and "/" in n}


def _difference(name: str, stored: dict[str, Any], wanted: dict[str, Any]) -> str:
    key = next(k for k in wanted if stored.get(k) != wanted[k])
    return (
        f"study {name} exists with another set-up ({key}: {stored.get(key)!r} there, {wanted[key]!r} now); "
        f"give another --study name, or run it as it was to continue it"
    )


def _quiet() -> None:
    """Optuna logs every trial at INFO; our progress says what matters."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)


class _Heartbeat:
    """Writes the trial's heartbeat attribute every `interval` seconds from a thread while the trial trains."""

    def __init__(self, storage: Any, trial_id: int, interval: float) -> None:
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="optviz-study-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.storage.set_trial_user_attr(self.trial_id, "heartbeat", time.time())
            except Exception:  # finished meanwhile, or the storage is briefly away: the next beat tries again
                continue
