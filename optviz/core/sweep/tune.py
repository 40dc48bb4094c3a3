"""Fair tuning: every optimizer gets the same budget and the same objective.

Each optimizer's learning rate (and optionally one more hyperparameter) is searched over the same grid, and
scored by one stated objective: the median, over K random starts in the domain (the same starts for every
optimizer), of the final loss after the race's step count, a diverged run counting as +inf. Grid points outside
an optimizer's own range count as not tried (+inf), never as clipped values.

The step budget can be swept too (`budgets`): the same runs are scored after each shorter step count as well,
so an optimizer that starts fast but stalls is not favoured by one short budget (the losses of a run of N
steps contain those of every shorter run, so this costs nothing more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.race.engine import DEFAULT_TOLERANCE
from optviz.core.surfaces.base import Surface
from optviz.core.sweep.axes import SweepAxis
from optviz.core.sweep.run import PLAIN, RunConditions, median_loss, run_rows

#: The learning-rate grid every optimizer is searched over, unless the caller gives another.
LR_LOW, LR_HIGH = 1e-5, 10.0
OBJECTIVE = "median over {k} random starts of the final loss after {steps} steps (diverged = +inf)"


@dataclass
class TuneResult:
    """One optimizer's search: the objective at every grid point and the best point's values."""

    optimizer: str
    hyperparams: dict[str, Value]  # the values it was tuned from (the other hyperparameters stay so)
    lr: SweepAxis
    second: SweepAxis | None
    objective: np.ndarray  # (len(second) or 1, len(lr)); +inf where diverged or outside its range
    best: dict[str, float]  # the best grid point's values (empty when every point diverged)
    best_objective: float
    #: Step budget -> (objective grid, best values, best objective) after that many steps (the full step count
    #: included): where the best learning rate moves with the budget.
    by_budget: dict[int, tuple[np.ndarray, dict[str, float], float]]


def random_starts(surface: Surface, count: int, seed: int) -> np.ndarray:
    """`count` starts drawn uniformly over the surface's domain: the same for every optimizer of a tuning."""
    (x0, x1), (y0, y1) = surface.domain
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])


def tune(
    surface: Surface,
    entries: Sequence[tuple[str, Mapping[str, Value]]],
    budget: int,
    starts: np.ndarray,
    steps: int,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    second: Mapping[str, SweepAxis] | None = None,
    lr_range: tuple[float, float] = (LR_LOW, LR_HIGH),
    cancelled: Callable[[], bool] | None = None,
    budgets: Sequence[int] = (),
    conditions: Sequence[RunConditions] | None = None,
) -> list[TuneResult]:
    """Search each (optimizer, hyperparameters) entry's lr over `budget` log-spaced values in `lr_range`
    (and, where `second` names an axis for that optimizer, over that axis too), from every start; also scored
    after each of the shorter step counts in `budgets`. `conditions` (one per entry) gives an entry's runs those of its
    race: its gradient pathology, clipping and lr schedule."""
    if budget < 2:
        raise OptvizError(f"a tuning budget needs at least 2 learning rates, got {budget}")
    if any(not 1 <= b <= steps for b in budgets):
        raise OptvizError(f"every step budget must be 1 to the step count {steps}, got {list(budgets)}")
    checkpoints = tuple(sorted({*budgets, steps}))
    lr_axis = SweepAxis("lr", lr_range[0], lr_range[1], budget, log=True)
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    results = []
    if conditions is not None and len(conditions) != len(entries):
        raise ValueError("one RunConditions per entry")
    for e, (name, hyperparams) in enumerate(entries):
        spec = get_optimizer(name)
        base = spec.resolve(hyperparams, surface.name)
        lr_param = spec.schema.get("lr")
        extra = (second or {}).get(name)
        ys = extra.values if extra is not None else np.array([np.nan])
        lrs = lr_axis.values
        inside = (lrs >= lr_param.low) & (lrs <= lr_param.high)
        objectives = np.full((len(checkpoints), len(ys), len(lrs)), np.inf)
        if inside.any():
            tried = lrs[inside]
            per_run = {"lr": np.repeat(np.tile(tried, len(ys)), len(starts))}
            if extra is not None:
                per_run[extra.name] = np.repeat(np.repeat(ys, len(tried)), len(starts))
            cells_count = len(tried) * len(ys)
            cells = run_rows(
                surface,
                name,
                {**base, **per_run},
                np.tile(starts, (cells_count, 1)),
                np.tile(np.arange(len(starts)), cells_count),
                steps,
                seed,
                tolerance,
                cancelled,
                checkpoints,
                PLAIN if conditions is None else conditions[e],
            )
            per_budget = cells.budget_loss.reshape(len(ys), len(tried), len(starts), len(checkpoints))
            objectives[:, :, inside] = np.moveaxis(median_loss(per_budget, axis=2), -1, 0)
        by_budget = {}
        for b, objective in zip(checkpoints, objectives, strict=True):
            best: dict[str, float] = {}
            best_objective = float(objective.min())
            if np.isfinite(best_objective):
                j, i = np.unravel_index(int(np.argmin(objective)), objective.shape)
                best["lr"] = float(lrs[i])
                if extra is not None:
                    best[extra.name] = float(ys[j])
            by_budget[b] = (objective, best, best_objective)
        objective, best, best_objective = by_budget[steps]
        results.append(TuneResult(name, base, lr_axis, extra, objective, best, best_objective, by_budget))
    return results
