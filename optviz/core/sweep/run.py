"""Sweeps as batched races: every cell's runs are rows of one race with per-run hyperparameters, run in chunks
of rows so memory stays bounded, and reduced to `CellSummaries` as each chunk finishes.

Each cell equals the race it stands for (tests/core/test_sweep.py): a hyperparameter cell is a race of the
sweep's starts at that cell's values, a start cell a race from that start alone, with the same seed, so the
gradient noise a row sees is the noise that race would give it. The same holds for the race's conditions
(`RunConditions`): the scene's gradient pathology (the draw of the start a row stands for), the optimizer's
clipping and its lr schedule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.race.clip import Clip
from optviz.core.race.engine import DEFAULT_TOLERANCE, gradient_noise, run_race
from optviz.core.race.lr_schedule import LrSchedule
from optviz.core.race.perturb import Perturbation, draw_plan
from optviz.core.race.result import RunConfig
from optviz.core.race.starts import grid_starts
from optviz.core.surfaces.base import Surface
from optviz.core.sweep.axes import SweepAxis
from optviz.core.sweep.summary import CellSummaries

#: Bytes of race arrays one chunk may hold (positions, losses, norms, distances: ~80 bytes a point).
CHUNK_BYTES = 96 * 2**20
BYTES_PER_POINT = 80


class SweepCancelled(OptvizError):
    """A newer request replaced this sweep (or the user stopped it) between two chunks."""


@dataclass(frozen=True)
class RunConditions:
    """What a sweep's runs see besides their hyperparameters, as the race they stand for does: the scene's
    gradient pathology, the optimizer's gradient clipping and its learning-rate schedule (None: none)."""

    perturbation: Perturbation | None = None
    clip: Clip | None = None
    schedule: LrSchedule | None = None

    @classmethod
    def of(cls, scene: Any, k: int) -> RunConditions:
        """Those of optimizer k's race in `scene` (a `core.scene.Scene`): read off its entry, nothing resolved,
        so building a cache key on every slider move costs nothing."""
        entry = scene.optimizers[k]
        return cls(scene.perturbation, entry.clip, entry.schedule)


PLAIN = RunConditions()


@dataclass
class HyperparamSweep:
    """A sensitivity map: one optimizer over x and y values of two hyperparameters, from each of S starts.

    `cells` fields are shaped (len(y), len(x), S), indexed [y][x][start].
    """

    optimizer: str
    hyperparams: dict[str, Value]
    x: SweepAxis
    y: SweepAxis
    starts: np.ndarray
    steps: int
    seed: int
    tolerance: float
    cells: CellSummaries

    def objective(self) -> np.ndarray:
        """(len(y), len(x)): the median over starts of the final loss, a diverged run counting as +inf."""
        return median_final_loss(self.cells)

    def converged_share(self) -> float:
        """The share of the map's runs that came within the tolerance of a minimum: the good region's width."""
        return float(self.cells.converged.mean())


@dataclass
class StartSweep:
    """Basins of attraction: one optimizer from every start of an nx x ny grid over the domain.

    `cells` fields are shaped (ny, nx), row j at the j-th y (bottom to top), column i at the i-th x.
    """

    optimizer: str
    hyperparams: dict[str, Value]
    nx: int
    ny: int
    starts: np.ndarray  # (ny * nx, 2), row by row
    steps: int
    seed: int
    tolerance: float
    cells: CellSummaries


def median_final_loss(cells: CellSummaries) -> np.ndarray:
    """Median over the last axis (the starts) of the final loss; diverged runs count as +inf."""
    return median_loss(cells.final_loss)


def median_loss(losses: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median over `axis` (the starts); NaN (a diverged run) counts as +inf."""
    return np.median(np.where(np.isnan(losses), np.inf, losses), axis=axis)


def run_rows(
    surface: Surface,
    optimizer: str,
    hyperparams: Mapping[str, Any],
    starts: np.ndarray,
    race_rows: np.ndarray,
    steps: int,
    seed: int,
    tolerance: float,
    cancelled: Callable[[], bool] | None = None,
    checkpoints: tuple[int, ...] = (),
    conditions: RunConditions = PLAIN,
) -> CellSummaries:
    """Summaries (R,) of R runs: row r from starts[r] with row r's hyperparameters (arrays of length R or
    numbers), standing for start `race_rows[r]` of a race with `seed`: it sees that start's gradient noise and
    draw of the pathology, under `conditions`; `checkpoints`: the step counts whose losses `budget_loss` keeps."""
    rows = len(starts)
    chunk = max(1, CHUNK_BYTES // ((steps + 1) * BYTES_PER_POINT))
    race_rows = np.asarray(race_rows, dtype=int)
    race_starts = int(race_rows.max()) + 1 if rows else 1
    noise = gradient_noise(surface, race_starts, steps, seed)
    plan = draw_plan(conditions.perturbation, race_starts, steps, seed)
    config = RunConfig(optimizer, {}, clip=conditions.clip, schedule=conditions.schedule)
    parts = []
    for lo in range(0, rows, chunk):
        if cancelled is not None and cancelled():
            raise SweepCancelled("sweep cancelled")
        hi = min(rows, lo + chunk)
        hp = {k: (v[lo:hi] if isinstance(v, np.ndarray) else v) for k, v in hyperparams.items()}
        race = run_race(
            surface,
            [dataclasses.replace(config, hyperparams=hp)],
            starts[lo:hi],
            steps,
            seed,
            tolerance,
            noise=None if noise is None else noise[race_rows[lo:hi]],
            plan=None if plan is None else plan.rows(race_rows[lo:hi]),
        )
        parts.append(CellSummaries.from_race(race, surface, checkpoints).reshape(-1))
    return CellSummaries.concat(parts, axis=0)


def sweep_hyperparams(
    surface: Surface,
    optimizer: str,
    hyperparams: Mapping[str, Value],
    x: SweepAxis,
    y: SweepAxis,
    starts: np.ndarray,
    steps: int,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    cancelled: Callable[[], bool] | None = None,
    conditions: RunConditions = PLAIN,
) -> HyperparamSweep:
    """A sensitivity map of `optimizer` (its other hyperparameters as given) over x and y, from each start."""
    if x.name == y.name:
        raise OptvizError(f"the two axes must be different hyperparameters (both are {x.name})")
    spec = get_optimizer(optimizer)
    base = spec.resolve(hyperparams, surface.name)
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    s_count = len(starts)
    xs, ys = x.values, y.values
    # Rows: y outer, x, then the starts innermost, so a reshape gives [y][x][start].
    per_run = {
        x.name: np.repeat(np.tile(xs, len(ys)), s_count),
        y.name: np.repeat(np.repeat(ys, len(xs)), s_count),
    }
    cells_count = len(xs) * len(ys)
    row_starts = np.tile(starts, (cells_count, 1))
    race_rows = np.tile(np.arange(s_count), cells_count)
    cells = run_rows(
        surface,
        optimizer,
        {**base, **per_run},
        row_starts,
        race_rows,
        steps,
        seed,
        tolerance,
        cancelled,
        (),
        conditions,
    )
    return HyperparamSweep(
        optimizer, base, x, y, starts, steps, seed, tolerance, cells.reshape(len(ys), len(xs), s_count)
    )


def sweep_starts(
    surface: Surface,
    optimizer: str,
    hyperparams: Mapping[str, Value],
    nx: int,
    ny: int,
    steps: int,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    cancelled: Callable[[], bool] | None = None,
    conditions: RunConditions = PLAIN,
) -> StartSweep:
    """Basins of attraction of `optimizer` over an nx x ny grid of starts covering the surface's domain."""
    spec = get_optimizer(optimizer)
    base = spec.resolve(hyperparams, surface.name)
    starts = grid_starts(surface.domain, nx, ny)
    alone = np.zeros(len(starts), dtype=int)  # each cell is a race from its start alone
    cells = run_rows(surface, optimizer, base, starts, alone, steps, seed, tolerance, cancelled, (), conditions)
    return StartSweep(optimizer, base, nx, ny, starts, steps, seed, tolerance, cells.reshape(ny, nx))


T = TypeVar("T")


def progressive(run: Callable[[int], T], counts: Sequence[int] = (16, 64)) -> Iterator[T]:
    """`run(n)` for each grid size in turn, coarse first, so a first picture appears at once; the caller stops
    iterating (or `run` raises `SweepCancelled`) when a newer request replaces this one."""
    for n in counts:
        yield run(n)
