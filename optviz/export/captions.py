"""The words and numbers an export's overlays show, computed from the scene and the race (no Qt).

Names follow the app's legend: an optimizer's label, else its registry title, numbered when one optimizer
races twice. The hyperparameters shown are the learning rate plus every value the scene sets explicitly
(the registry defaults for the rest would crowd the legend without telling anything).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.race.result import RaceResult, RunStatus
from optviz.core.scene import Scene


@dataclass(frozen=True)
class RunCaption:
    name: str
    color: str
    params: str  # e.g. "lr=0.001 · momentum=0.9"


def format_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def format_loss(value: float) -> str:
    if not np.isfinite(value):
        return "—"
    return f"{value:.3g}"


def run_captions(scene: Scene, result: RaceResult, colors: list[str]) -> list[RunCaption]:
    """One caption per optimizer of `result` (its configs match the scene's enabled optimizers in order)."""
    entries = [e for e in scene.optimizers if e.enabled]
    if len(entries) != len(result.configs):
        entries = [None] * len(result.configs)
    titles = []
    for entry, config in zip(entries, result.configs, strict=True):
        if entry is not None and entry.label:
            titles.append(entry.label)
        else:
            titles.append(config.label or get_optimizer(config.optimizer).title)
    captions = []
    for k, (entry, config) in enumerate(zip(entries, result.configs, strict=True)):
        name = titles[k]
        same = [i for i, t in enumerate(titles) if t == name]
        if len(same) > 1:
            name = f"{name} #{same.index(k) + 1}"
        shown = ["lr"] + [n for n in (entry.hyperparams if entry is not None else {}) if n != "lr"]
        params = " · ".join(f"{n}={format_value(config.hyperparams[n])}" for n in shown if n in config.hyperparams)
        captions.append(RunCaption(name, colors[k % len(colors)], params))
    return captions


def loss_series(result: RaceResult, k: int) -> np.ndarray:
    """(N+1,) loss of optimizer k per step: the run's own, or the median over its starts."""
    values = np.asarray(result.losses[k], dtype=np.float64)
    if values.shape[0] == 1:
        return values[0]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps (every start diverged) stay NaN
        return np.nanmedian(values, axis=0)


def status_text(result: RaceResult, k: int, step: int) -> str:
    """'' while running; 'converged' / 'diverged' once the cursor has passed that step (counts with a grid)."""
    status = np.asarray(result.status[k])
    stopped = np.asarray(result.stopped_at[k])
    diverged = int(((status == RunStatus.DIVERGED.value) & (stopped <= step)).sum())
    converged = int(((status == RunStatus.CONVERGED.value) & (stopped <= step)).sum())
    m = len(status)
    if m == 1:
        return "diverged" if diverged else ("converged" if converged else "")
    parts = [f"{converged}/{m} converged"] if converged else []
    if diverged:
        parts.append(f"{diverged}/{m} diverged")
    return ", ".join(parts)
