"""Learning-rate tuning on a surface: the same score for every optimizer, so a race is fair.

Used by tools/tune_default_lrs.py to write the registry's per-surface default learning rates, and usable for
any surface (including a user's own formula).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optviz.core.optimizers import get_optimizer
from optviz.core.race.engine import run_race
from optviz.core.race.result import RunConfig, RunStatus
from optviz.core.surfaces.base import Surface

#: Candidate learning rates: three per decade from 1e-5 to 10.
LR_GRID = tuple(float(f"{v:.1g}") for v in np.logspace(-5, 1, 19))
VIEW_MARGIN = 0.25  # a run must stay within the domain grown by this fraction of its size to count
MAX_JUMP = 0.05  # ... and never jump more than this fraction of the domain's diagonal in one step


def lr_scores(surface: Surface, optimizer: str, steps: int = 500, lrs: Sequence[float] = LR_GRID) -> np.ndarray:
    """Score each learning rate from the surface's suggested start (lower is better; inf: unusable).

    Score: the mean over the first half of the race of log10(loss − min) (plain loss where the minimum is
    unknown), which rewards getting low early and staying there. A run that diverges or leaves the view
    (the domain plus a margin) during the first half, or jumps across a twentieth of the view in one step,
    is unusable: nobody could follow it.
    """
    spec = get_optimizer(optimizer)
    configs = [RunConfig(optimizer, spec.resolve({"lr": lr}, surface.name)) for lr in lrs]
    result = run_race(surface, configs, np.asarray([surface.start]), steps)
    half = steps // 2 + 1
    (x0, x1), (y0, y1) = surface.domain
    mx, my = (x1 - x0) * VIEW_MARGIN, (y1 - y0) * VIEW_MARGIN
    max_jump = MAX_JUMP * float(np.hypot(x1 - x0, y1 - y0))
    scores = np.full(len(lrs), np.inf)
    for k in range(len(lrs)):
        if result.status[k, 0] == RunStatus.DIVERGED and result.stopped_at[k, 0] <= half:
            continue
        xy = result.positions[k, 0, :half]
        inside = (xy[:, 0] >= x0 - mx) & (xy[:, 0] <= x1 + mx) & (xy[:, 1] >= y0 - my) & (xy[:, 1] <= y1 + my)
        if not inside.all() or np.nanmax(result.update_norms[k, 0, :half]) > max_jump:
            continue
        losses = result.losses[k, 0, :half]
        if surface.min_value is not None:
            gap = np.maximum(losses - surface.min_value, 1e-12)
            scores[k] = float(np.mean(np.log10(gap)))
        else:
            scores[k] = float(np.mean(losses))
    return scores


def tune_lr(surface: Surface, optimizer: str, steps: int = 500, lrs: Sequence[float] = LR_GRID) -> float | None:
    """The best learning rate of `lrs` for this optimizer on this surface, or None if none is usable."""
    scores = lr_scores(surface, optimizer, steps, lrs)
    if not np.isfinite(scores).any():
        return None
    return float(lrs[int(np.argmin(scores))])
