"""One trial: an optimizer with one hyperparameter setting trained over the study's seed set, each seed a real
training run through `TrainingSession` (the code the Training panel runs), with what the report needs kept.

The objective is the mean validation loss after the last step over the seeds; a seed whose run diverged or
failed makes it infinite (the setting is unusable, and the trial still used its share of the budget).
"""

from __future__ import annotations

import hashlib
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optviz.core.learn.control import RunControl
from optviz.core.params import Value
from optviz.core.study.setup import StudySetup

#: Points kept of each training-loss curve (the validation curve, about 20 points, is kept whole).
CURVE_POINTS = 50


@dataclass
class SeedResult:
    """One seed's run of a trial: how it ended, its final numbers, a thinned curve, speed and memory."""

    seed: int
    status: str  # done, diverged, oom, error, stopped, pruned
    message: str = ""
    val_loss: float = math.nan
    val_accuracy: float = math.nan
    curve_steps: list[int] = field(default_factory=list)
    curve_train_loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    step_time: float = math.nan  # median seconds per step (forward, backward, optimizer)
    optimizer_time: float = math.nan  # median seconds of the optimizer step alone
    throughput: float = math.nan  # samples per second at the median step time
    state_bytes: int = 0
    state_per_param: float = math.nan
    peak_bytes: int = 0
    parameters: int = 0
    train_seconds: float = 0.0  # the run's own training time, steps and evaluations
    batches: str = ""  # fingerprint of the batch order this seed's run drew (the same for every optimizer)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeedResult:
        return cls(**{k: (math.nan if v is None and k in _FLOATS else v) for k, v in data.items()})


_FLOATS = {"val_loss", "val_accuracy", "step_time", "optimizer_time", "throughput", "state_per_param"}


@dataclass
class TrialOutcome:
    """What a trial measured. `objective` is what Optuna minimises; `pruned`/`stopped` say it ended early."""

    seeds: list[SeedResult]
    objective: float
    pruned: bool = False
    stopped: bool = False
    seconds: float = 0.0  # wall time of the whole trial, data loading and model building included


def run_trial(
    setup: StudySetup,
    optimizer: str,
    hp: dict[str, Value],
    *,
    control: RunControl | None = None,
    on_step: Callable[[int, int], None] | None = None,
    prune: Callable[[int, float], bool] | None = None,
) -> TrialOutcome:
    """Train `optimizer` with `hp` once per seed. `on_step(done, total)` reports steps over all seeds;
    `prune(step, val_loss)` (step counted over the seeds: seed i's step s is i * steps + s) says whether to stop
    early; `control` pauses and stops between steps (a stopped trial says so and is not a result)."""
    from optviz.core.learn.config import OptimizerRun, TrainConfig
    from optviz.core.learn.records import RunEnded, StepRecord
    from optviz.core.learn.training import TrainingSession

    control = control or RunControl()
    started = time.perf_counter()
    total = setup.steps * setup.seeds
    results: list[SeedResult] = []
    pruned = False
    for index, seed in enumerate(setup.seed_list):
        config = TrainConfig(
            model=setup.model,
            dataset=setup.dataset,
            optimizers=(OptimizerRun(optimizer, hp),),
            batch_size=setup.batch_size,
            steps=setup.steps,
            device=setup.device,
            precision=setup.precision,
            seed=seed,
        )
        session = TrainingSession(config, control)
        result = SeedResult(seed=seed, status="running", batches=batch_fingerprint(session, setup))
        clock = time.perf_counter()
        events = session.events()
        for event in events:
            if isinstance(event, StepRecord):
                if on_step is not None:
                    on_step(index * setup.steps + event.step, total)
                step = index * setup.steps + event.step
                value = event.val_loss
                if prune is not None and value is not None and math.isfinite(value) and prune(step, value):
                    pruned = True
                    events.close()
                    break
            elif isinstance(event, RunEnded):
                result.status, result.message = event.status, event.message
        result.train_seconds = time.perf_counter() - clock
        _fill(result, session.summaries[0], setup.batch_size)
        if pruned:
            result.status = "pruned"
        results.append(result)
        if pruned or control.stopped:
            break
    finals = [r.val_loss for r in results]
    complete = len(results) == setup.seeds and all(r.status == "done" for r in results)
    objective = statistics.fmean(finals) if complete and all(math.isfinite(v) for v in finals) else math.inf
    return TrialOutcome(
        seeds=results,
        objective=objective,
        pruned=pruned,
        stopped=control.stopped and not pruned,
        seconds=time.perf_counter() - started,
    )


def batch_fingerprint(session: Any, setup: StudySetup) -> str:
    """A short hash of the batch order the session's runs draw (the same function, seed and sizes it uses):
    equal fingerprints mean every optimizer saw the same batches in the same order."""
    from optviz.core.learn.stepping import batch_indices

    order = batch_indices(len(session.dataset.x_train), setup.batch_size, session.config.seed)
    h = hashlib.sha256()
    for _ in range(setup.steps):
        h.update(next(order).numpy().tobytes())
    return h.hexdigest()[:16]


def _fill(result: SeedResult, summary: Any, batch_size: int) -> None:
    if summary.val_loss:
        result.val_loss = summary.val_loss[-1]
        result.val_accuracy = summary.val_accuracy[-1]
    stride = max(1, math.ceil(len(summary.steps) / CURVE_POINTS))
    keep = list(range(0, len(summary.steps), stride))
    if summary.steps and keep[-1] != len(summary.steps) - 1:
        keep.append(len(summary.steps) - 1)
    result.curve_steps = [summary.steps[i] for i in keep]
    result.curve_train_loss = [summary.train_loss[i] for i in keep]
    result.val_steps, result.val_losses = list(summary.val_steps), list(summary.val_loss)
    if summary.step_times:
        result.step_time = statistics.median(summary.step_times)
        result.optimizer_time = statistics.median(summary.optimizer_times)
        result.throughput = summary.throughput(batch_size)
    result.parameters = summary.parameters
    if summary.memory is not None:
        result.state_bytes = summary.memory.state
        result.state_per_param = summary.memory.state_per_param
        result.peak_bytes = summary.memory.peak
