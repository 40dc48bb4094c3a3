"""Sweeps: one optimizer over a grid of hyperparameters or of start points, as batched races reduced to per-cell
summaries (final and best loss, steps to tolerance, the minimum reached, divergence), never keeping every path.

- `axes.py`: a swept hyperparameter's values (`SweepAxis`, parsed from `lr=1e-4:1:64:log`).
- `summary.py`: what a sweep keeps of each run (`CellSummaries`), reduced from a `RaceResult`.
- `run.py`: `sweep_hyperparams` (a sensitivity map), `sweep_starts` (basins of attraction), run in chunks of
  rows with per-run hyperparameters, cancellable, and `progressive` (a coarse grid first, then finer); a
  cell sees its race's gradient pathology, clipping and lr schedule (`RunConditions`).
- `tune.py`: fair tuning, every optimizer's learning rate searched on the same grid with the same objective.
"""

from optviz.core.sweep.axes import SweepAxis, default_axis, parse_axis
from optviz.core.sweep.run import (
    HyperparamSweep,
    RunConditions,
    StartSweep,
    progressive,
    sweep_hyperparams,
    sweep_starts,
)
from optviz.core.sweep.summary import CellSummaries
from optviz.core.sweep.tune import TuneResult, tune

__all__ = [
    "CellSummaries",
    "HyperparamSweep",
    "RunConditions",
    "StartSweep",
    "SweepAxis",
    "TuneResult",
    "default_axis",
    "parse_axis",
    "progressive",
    "sweep_hyperparams",
    "sweep_starts",
    "tune",
]
