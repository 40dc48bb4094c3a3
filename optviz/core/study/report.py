"""The answer of a study, from its trials' measurements: each optimizer at its tuned best, compared.

Per optimizer: the best trial (lowest objective), its final validation loss and accuracy over the seed set
(mean and spread: the population standard deviation), optimizer-state bytes per parameter, peak memory,
throughput, how many trials it took to come within 1 % of its best, and its sensitivity: the share of its
finished trials within 10 % of its best objective (in grid mode that is the share of the grid; TPE spends
its later trials near good settings, so there the share flatters every optimizer alike). Then the Pareto front
of memory, loss and throughput, the guides' decision questions answered from these numbers, and which tuned
hyperparameter mattered for each optimizer (`importance.py`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optviz.core.study.importance import Importance, importances
from optviz.core.study.records import COMPLETE, TrialRecord
from optviz.core.study.setup import StudySetup, budget, search_space

#: "Within 1 % of the best loss" and "within 10 % of its best objective".
NEAR = 0.01
FORGIVING = 0.10


@dataclass
class OptimizerRow:
    """One optimizer at its tuned best. Numbers are NaN (and `best_trial` None) while no trial has finished."""

    optimizer: str
    finished: int  # complete or pruned trials
    failed: int  # interrupted, stopped or skipped trials (not counted toward the budget)
    budget: int
    best_trial: int | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    objective: float = math.nan
    val_loss: float = math.nan
    val_loss_spread: float = math.nan
    accuracy: float = math.nan
    accuracy_spread: float = math.nan
    state_per_param: float = math.nan
    peak_bytes: float = math.nan
    throughput: float = math.nan  # training samples per second at the median step time
    trials_to_near: int | None = None  # trials, in the order they were started, to within 1 % of the best
    sensitivity: float = math.nan  # share of finished trials within 10 % of the best objective
    pareto: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GridMap:
    """A grid study's objective over its first two axes (one axis: a single row), NaN where no trial finished."""

    x_name: str
    x_values: list[float]
    y_name: str | None
    y_values: list[float]
    values: list[list[float]]  # [y][x]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StudyReport:
    setup: StudySetup
    rows: list[OptimizerRow]
    answers: list[tuple[str, str]]
    #: Per optimizer: (trial number, best objective so far) over its finished trials, in order.
    history: dict[str, list[tuple[int, float]]]
    #: Per optimizer: the best trial's validation curve, mean over seeds: (steps, losses).
    curves: dict[str, tuple[list[int], list[float]]]
    grids: dict[str, GridMap]
    trials: dict[str, list[TrialRecord]]
    #: Per optimizer: which tuned hyperparameter mattered (Optuna's PED-ANOVA over its finished trials).
    importances: dict[str, Importance] = field(default_factory=dict)

    def row(self, optimizer: str) -> OptimizerRow:
        return next(r for r in self.rows if r.optimizer == optimizer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "optviz-study-report",
            "version": 1,
            "setup": self.setup.to_dict(),
            "optimizers": [r.to_dict() for r in self.rows],
            "answers": [{"question": q, "answer": a} for q, a in self.answers],
            "history": {k: [list(p) for p in v] for k, v in self.history.items()},
            "grids": {k: g.to_dict() for k, g in self.grids.items()},
            "importances": {k: v.to_dict() for k, v in self.importances.items()},
            "trials": {k: [t.to_dict() for t in v] for k, v in self.trials.items()},
        }


def build_report(setup: StudySetup, trials: Mapping[str, list[TrialRecord]]) -> StudyReport:
    """The report of `trials` (per optimizer, as `TuningStudy.records()` gives them)."""
    size = budget(setup)
    rows = [_row(o.name, trials.get(o.name, []), size) for o in setup.optimizers]
    _mark_pareto(rows)
    history = {name: _history(ts) for name, ts in trials.items()}
    curves = {r.optimizer: _curve(trials[r.optimizer], r.best_trial) for r in rows if r.best_trial is not None}
    grids = {o.name: _grid_map(setup, o.name, trials.get(o.name, [])) for o in setup.optimizers}
    grids = {k: g for k, g in grids.items() if g is not None}
    weights = {o.name: importances(search_space(setup, o), trials.get(o.name, [])) for o in setup.optimizers}
    listed = {k: list(v) for k, v in trials.items()}
    return StudyReport(setup, rows, answers(rows), history, curves, grids, listed, weights)


def _row(name: str, trials: list[TrialRecord], size: int) -> OptimizerRow:
    finished = [t for t in trials if t.finished]
    row = OptimizerRow(name, len(finished), sum(not t.finished and t.state != "running" for t in trials), size)
    scored = [t for t in finished if t.state == COMPLETE and math.isfinite(t.value)]
    if not scored:
        return row
    best = min(scored, key=lambda t: (t.value, t.number))
    seeds = best.seeds
    row.best_trial, row.best_params, row.objective = best.number, dict(best.params), best.value
    row.val_loss, row.val_loss_spread = _mean_spread([s.val_loss for s in seeds])
    row.accuracy, row.accuracy_spread = _mean_spread([s.val_accuracy for s in seeds])
    row.state_per_param = statistics.fmean(s.state_per_param for s in seeds)
    row.peak_bytes = max(s.peak_bytes for s in seeds)
    row.throughput = statistics.fmean(s.throughput for s in seeds)
    ordered = sorted(finished, key=lambda t: t.number)
    near = best.value + NEAR * abs(best.value)
    row.trials_to_near = next(i + 1 for i, t in enumerate(ordered) if t.state == COMPLETE and t.value <= near)
    within = best.value + FORGIVING * abs(best.value)
    row.sensitivity = sum(t.state == COMPLETE and t.value <= within for t in finished) / len(finished)
    return row


def _mean_spread(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


def _mark_pareto(rows: list[OptimizerRow]) -> None:
    """Non-dominated rows: none other is at least as good in memory, loss and throughput and better in one."""
    scored = [r for r in rows if r.best_trial is not None]

    def dominates(a: OptimizerRow, b: OptimizerRow) -> bool:
        no_worse = a.peak_bytes <= b.peak_bytes and a.val_loss <= b.val_loss and a.throughput >= b.throughput
        better = a.peak_bytes < b.peak_bytes or a.val_loss < b.val_loss or a.throughput > b.throughput
        return no_worse and better

    for r in scored:
        r.pareto = not any(dominates(other, r) for other in scored if other is not r)


def answers(rows: list[OptimizerRow]) -> list[tuple[str, str]]:
    """The decision questions, answered from the measured numbers of this study's set-up."""
    scored = [r for r in rows if r.best_trial is not None]
    if not scored:
        return [("which optimizer?", "no trial has finished yet")]
    best = min(scored, key=lambda r: r.val_loss)
    near = [r for r in scored if r.val_loss <= best.val_loss + NEAR * abs(best.val_loss)]
    others = "" if len(near) > 1 else f" (only {best.optimizer} is within 1 %)"
    light = min(near, key=lambda r: (r.peak_bytes, r.state_per_param))
    fast = max(near, key=lambda r: r.throughput)
    forgiving = max(scored, key=lambda r: r.sensitivity)
    quick = min(scored, key=lambda r: (r.trials_to_near or math.inf, r.val_loss))
    front = ", ".join(r.optimizer for r in scored if r.pareto)
    return [
        ("lowest validation loss", f"{best.optimizer} ({best.val_loss:.4g} ± {best.val_loss_spread:.2g})"),
        ("least memory within 1 % of the best loss", f"{light.optimizer} ({_bytes(light.peak_bytes)} peak){others}"),
        (
            "highest throughput within 1 % of the best loss",
            f"{fast.optimizer} ({fast.throughput:,.0f} samples/s){others}",
        ),
        (
            "most forgiving to tune",
            f"{forgiving.optimizer} ({forgiving.sensitivity:.0%} of its trials within 10 % of its best)",
        ),
        ("fewest trials to within 1 % of its best", f"{quick.optimizer} ({quick.trials_to_near} trials)"),
        ("Pareto front (memory, loss, throughput)", front),
    ]


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _history(trials: list[TrialRecord]) -> list[tuple[int, float]]:
    out, best = [], math.inf
    for t in sorted((t for t in trials if t.finished), key=lambda t: t.number):
        if t.state == COMPLETE and t.value < best:
            best = t.value
        out.append((t.number, best))
    return out


def _curve(trials: list[TrialRecord], number: int | None) -> tuple[list[int], list[float]]:
    best = next(t for t in trials if t.number == number)
    steps = best.seeds[0].val_steps
    losses = [statistics.fmean(s.val_losses[i] for s in best.seeds) for i in range(len(steps))]
    return list(steps), losses


def _grid_map(setup: StudySetup, name: str, trials: list[TrialRecord]) -> GridMap | None:
    from optviz.core.study.setup import grid

    if setup.mode != "grid":
        return None
    axes = {k: v for k, v in grid(setup, next(o for o in setup.optimizers if o.name == name)).items()}
    numeric = [k for k, v in axes.items() if all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)]
    if not numeric or len(axes) > 2 or len(numeric) != len(axes):
        return None
    x_name = numeric[0]
    y_name = numeric[1] if len(numeric) > 1 else None
    xs = [float(v) for v in axes[x_name]]
    ys = [float(v) for v in axes[y_name]] if y_name else [0.0]
    values = [[math.nan] * len(xs) for _ in ys]
    for t in trials:
        if t.state != COMPLETE or x_name not in t.params:
            continue
        i = ys.index(float(t.params[y_name])) if y_name else 0
        values[i][xs.index(float(t.params[x_name]))] = t.value
    return GridMap(x_name, xs, y_name, ys, values)
