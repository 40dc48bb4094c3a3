"""What the leaderboard and the charts show, computed from a `RaceResult` with numpy only (no Qt).

With several start points per optimizer (a grid), a chart shows the median over the starts and a row
counts how many runs converged or diverged; with one start these are simply that run's numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from optviz.core.race import RaceResult, RunStatus

#: Chart series: (RaceResult attribute, title, y-axis label).
METRICS: tuple[tuple[str, str, str], ...] = (
    ("losses", "Loss", "f(x, y)"),
    ("grad_norms", "Gradient norm", "|∇f|"),
    ("update_norms", "Update size", "|Δθ|"),
    ("distances", "Distance to minimum", "‖θ − θ*‖"),
)

#: The series the distance chart shows on a surface without a known minimum: how far each run has moved.
FROM_START = "distance_from_start"
#: The chart shown beside them while an optimizer has a learning-rate schedule.
LEARNING_RATE = ("learning_rates", "Learning rate", "lr")
TITLES = {metric: title for metric, title, _unit in (*METRICS, LEARNING_RATE)} | {FROM_START: "Distance from start"}


def scheduled(result: RaceResult | None) -> bool:
    """Whether any optimizer of the race has a learning-rate schedule (the lr chart and column show)."""
    return result is not None and result.learning_rates is not None and any(c.schedule for c in result.configs)


def learning_rate(result: RaceResult, k: int, step: int) -> float:
    """The learning rate optimizer k's step `step` used (NaN where the result has none)."""
    if result.learning_rates is None:
        return math.nan
    return float(result.learning_rates[k, int(min(max(step, 0), result.steps))])


def title(metric: str) -> str:
    return TITLES[metric]


def distance_from_start(result: RaceResult, k: int) -> np.ndarray:
    """(M, N+1) distance of optimizer k's runs from their start points, NaN once a run has diverged (as the
    other series)."""
    positions = np.asarray(result.positions[k], dtype=np.float64)
    with np.errstate(all="ignore"):
        moved = np.hypot(*np.moveaxis(positions - positions[:, :1], -1, 0))
    return np.where(np.isnan(np.asarray(result.grad_norms[k], dtype=np.float64)), np.nan, moved)


@dataclass(frozen=True)
class Standing:
    """One leaderboard row, at one step of the race."""

    k: int
    loss: float
    distance: float
    steps_to_tolerance: int | None  # first step within tolerance, once the cursor has reached it
    status: str  # "running", "converged" or "diverged" (as of the cursor)
    detail: str  # e.g. "diverged at step 212: NaN", "3 of 16 runs diverged"

    @property
    def diverged(self) -> bool:
        return self.status == RunStatus.DIVERGED.value


def series(result: RaceResult, k: int, metric: str) -> np.ndarray:
    """(N+1,) values of a metric (a `METRICS` name or `FROM_START`) for optimizer k: the run itself, or the
    median over starts."""
    values = distance_from_start(result, k) if metric == FROM_START else np.asarray(getattr(result, metric))[k]
    if values.ndim == 1:  # one value per step for all starts (the learning rate)
        return values
    if values.shape[0] == 1:
        return values[0]
    with np.errstate(all="ignore"), _quiet_nanmedian():
        return np.nanmedian(values, axis=0)


def standing(result: RaceResult, k: int, step: int) -> Standing:
    step = int(min(max(step, 0), result.steps))
    status = np.asarray(result.status[k])
    stopped = np.asarray(result.stopped_at[k])
    m_count = len(status)
    diverged = (status == RunStatus.DIVERGED.value) & (stopped <= step)
    converged = (status == RunStatus.CONVERGED.value) & (stopped <= step)
    with np.errstate(all="ignore"), _quiet_nanmedian():
        loss = float(np.nanmedian(result.losses[k, :, step])) if not diverged.all() else math.nan
        distance = float(np.nanmedian(result.distances[k, :, step])) if not diverged.all() else math.nan
    reached = stopped[converged]
    steps_to_tol = int(np.median(reached)) if len(reached) and converged.sum() * 2 > m_count else None
    if m_count == 1:
        if diverged[0]:
            reason = str(result.reasons[k, 0]) or "diverged"
            return Standing(k, loss, distance, None, "diverged", f"diverged at step {int(stopped[0])}: {reason}")
        if converged[0]:
            return Standing(k, loss, distance, steps_to_tol, "converged", f"converged at step {int(stopped[0])}")
        return Standing(k, loss, distance, None, "running", "running")
    n_div, n_conv = int(diverged.sum()), int(converged.sum())
    parts = [f"{n_conv} of {m_count} converged"] if n_conv else []
    if n_div:
        parts.append(f"{n_div} of {m_count} diverged")
    state = "diverged" if n_div == m_count else "converged" if n_conv == m_count else "running"
    return Standing(k, loss, distance, steps_to_tol, state, ", ".join(parts) or "running")


def ranking(result: RaceResult, step: int, shown: list[int]) -> list[Standing]:
    """Standings of the optimizers in `shown`, best first: lowest loss, then the diverged, longest-lived first."""
    rows = [standing(result, k, step) for k in shown]

    def key(row: Standing) -> tuple:
        if row.diverged:
            return (2, -int(np.max(result.stopped_at[row.k])), row.k)
        loss = row.loss if math.isfinite(row.loss) else math.inf
        return (0 if math.isfinite(loss) else 1, loss, row.k)

    return sorted(rows, key=key)


def format_value(value: float) -> str:
    """Compact numbers for tables and hover labels: 3 significant digits, scientific when tiny or huge."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


def byte_unit(n: float) -> tuple[str, float]:
    """The unit `format_bytes` writes `n` bytes in, and its size: ("kB", 1000.0) for 19,500 (an axis of byte
    counts reads 0, 5, 10 kB rather than 5e-3 MiB)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return unit, size
    return "B", 1.0


def format_bytes(n: float) -> str:
    unit, size = byte_unit(n)
    return f"{n / size:.3g} {unit}" if size > 1 else f"{n:g} B"


@contextmanager
def _quiet_nanmedian() -> Iterator[None]:
    """nanmedian of an all-NaN slice warns; an all-NaN slice (a diverged run) is expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
