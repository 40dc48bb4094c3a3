"""What a sweep keeps of each run: a few numbers per cell, reduced from the race's full result."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from optviz.core.race.result import RaceResult, RunStatus
from optviz.core.surfaces.base import Surface

#: The summaries a map can colour by, with the words a legend uses.
METRICS = {
    "final_loss": "final loss",
    "best_loss": "best loss",
    "steps_to_tolerance": "steps to tolerance",
    "minimum": "minimum reached",
}


@dataclass
class CellSummaries:
    """Per run (any array shape, the same for every field): the numbers a sensitivity map or basin map shows.

    - final_loss: the loss at the last step (NaN for a diverged run);
    - best_loss: the lowest loss on the path (up to divergence);
    - steps_to_tolerance: the first step within the race's tolerance of a known minimum (of a zero gradient on
      surfaces without one), -1 if never;
    - minimum: the index of the known minimum that step came close to (`surface.minima`), -1 if none;
    - status: "converged", "diverged" or "running" (the race's own status);
    - stopped_at: the step it converged or diverged at, -1 if neither; reason: why it diverged ("" if not);
    - final: the last drawn point (the last finite one for a diverged run), shape (..., 2);
    - budget_loss: the loss after each of a few step counts (`checkpoints`, the last being the race's steps),
      shape (..., B), NaN once diverged: one race answers "what if the budget were shorter".
    """

    final_loss: np.ndarray
    best_loss: np.ndarray
    steps_to_tolerance: np.ndarray
    minimum: np.ndarray
    status: np.ndarray
    stopped_at: np.ndarray
    reason: np.ndarray
    final: np.ndarray
    budget_loss: np.ndarray

    @classmethod
    def from_race(cls, race: RaceResult, surface: Surface, checkpoints: tuple[int, ...] = ()) -> CellSummaries:
        """Summaries of every run of `race`, shape (K, M); `checkpoints` are the step counts of `budget_loss`
        (the race's own step count when empty)."""
        k_count, m_count = race.status.shape
        last = np.take_along_axis(race.positions, np.full((k_count, m_count, 1, 2), race.steps), axis=2)[:, :, 0]
        with np.errstate(all="ignore"):
            finite_losses = np.where(np.isnan(race.losses), np.inf, race.losses)
        best = finite_losses.min(axis=-1)
        converged = race.status == RunStatus.CONVERGED.value
        minimum = np.full((k_count, m_count), -1)
        if surface.minima and converged.any():
            step = np.clip(race.stopped_at, 0, race.steps)
            at = np.take_along_axis(race.positions, step[..., None, None].repeat(2, -1), axis=2)[:, :, 0]
            mins = np.asarray(surface.minima, dtype=np.float64)
            nearest = np.linalg.norm(at[..., None, :] - mins, axis=-1).argmin(-1)
            minimum = np.where(converged, nearest, -1)
        return cls(
            final_loss=race.losses[:, :, race.steps].copy(),
            best_loss=np.where(np.isinf(best), np.nan, best),
            steps_to_tolerance=np.where(converged, race.stopped_at, -1),
            minimum=minimum,
            status=race.status.astype(str),
            stopped_at=race.stopped_at.copy(),
            reason=np.asarray(race.reasons, dtype=str),
            final=last.copy(),
            budget_loss=race.losses[:, :, list(checkpoints or (race.steps,))].copy(),
        )

    @classmethod
    def concat(cls, parts: list[CellSummaries], axis: int) -> CellSummaries:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=axis) for f in fields(cls)})

    def reshape(self, *shape: int) -> CellSummaries:
        """Every field reshaped to `shape` (`final` keeps its trailing 2)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            trailing = value.shape[-1:] if f.name in ("final", "budget_loss") else ()
            out[f.name] = value.reshape(*shape, *trailing)
        return CellSummaries(**out)

    @property
    def converged(self) -> np.ndarray:
        return self.status == RunStatus.CONVERGED.value

    @property
    def diverged(self) -> np.ndarray:
        return self.status == RunStatus.DIVERGED.value
