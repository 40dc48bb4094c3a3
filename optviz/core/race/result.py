"""What a race produces: arrays indexed (optimizer, start, step), and a status per run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, ClassVar

import numpy as np

from optviz.core.jsonsafe import finite_list
from optviz.core.params import Value
from optviz.core.race.clip import Clip
from optviz.core.race.lr_schedule import LrSchedule
from optviz.core.surfaces.base import Surface


class RunStatus(str, Enum):
    RUNNING = "running"  # neither converged nor diverged within the steps asked for
    CONVERGED = "converged"
    DIVERGED = "diverged"


@dataclass(frozen=True)
class RunConfig:
    """One racing optimizer: its registry name, every hyperparameter value used (defaults included), how
    its gradient is clipped (None: not at all) and its learning-rate schedule (None: constant)."""

    optimizer: str
    hyperparams: dict[str, Value]
    label: str = ""
    clip: Clip | None = None
    schedule: LrSchedule | None = None

    @property
    def display_name(self) -> str:
        """The label, or the optimizer's name with its clipping and schedule (two momentum runs, one clipped,
        read apart)."""
        if self.label:
            return self.label
        extras = ([f"clip {self.clip.to_text()}"] if self.clip else []) + (
            [self.schedule.to_text()] if self.schedule else []
        )
        return self.optimizer + (f" ({', '.join(extras)})" if extras else "")


def settings_suffix(clip: Clip | None, schedule: LrSchedule | None) -> str:
    """' (clip norm=1, one-cycle)': what an optimizer's name carries of its clipping and schedule ('' for none)."""
    extras = ([f"clip {clip.to_text()}"] if clip else []) + ([schedule.to_text()] if schedule else [])
    return f" ({', '.join(extras)})" if extras else ""


@dataclass
class RaceResult:
    """Trajectories of K optimizers from M starts over N steps.

    Arrays are indexed [k, m, t] with t = 0 the start. After a run diverges at step s, its positions stay at
    the last finite point (so a trail ends where the run broke) and its losses and norms are NaN.
    """

    configs: list[RunConfig]
    starts: np.ndarray  # (M, 2)
    positions: np.ndarray  # (K, M, N+1, 2)
    losses: np.ndarray  # (K, M, N+1)
    grad_norms: np.ndarray  # (K, M, N+1): |∇f| at the drawn point (noise-free)
    update_norms: np.ndarray  # (K, M, N+1): |x_t − x_(t−1)|, 0 at t = 0
    distances: np.ndarray  # (K, M, N+1): to the nearest known global minimum (inf if none is known)
    status: np.ndarray  # (K, M) of RunStatus values as strings ("running", "converged", "diverged")
    stopped_at: np.ndarray  # (K, M) int: step of convergence or divergence, −1 while running
    reasons: np.ndarray  # (K, M) str: why a run diverged ("" otherwise)
    steps: int
    seed: int
    tolerance: float
    engines: list[str] = field(default_factory=list)  # "fast" or "library", per optimizer
    #: The surface the result is drawn on when it is not the scene's own (a learned race computes its surface);
    #: None: the scene's surface.
    surface: Surface | None = field(default=None, repr=False)
    #: (K, N+1): the learning rate each optimizer's step t used (index t; index 0 repeats step 1's), as its
    #: schedule set it; NaN where an optimizer has no single learning rate. None where not worked out.
    learning_rates: np.ndarray | None = None

    #: The array fields indexed by optimizer first: what `select` and `concat` slice and join. Subclasses with
    #: more per-run arrays extend it; optional ones may be None.
    PER_RUN: ClassVar[tuple[str, ...]] = (
        "positions",
        "losses",
        "grad_norms",
        "update_norms",
        "distances",
        "status",
        "stopped_at",
        "reasons",
        "learning_rates",
    )

    def select(self, ks: Sequence[int]) -> RaceResult:
        """The result restricted to optimizers `ks`, in that order (new arrays; the rest is shared)."""
        ks = list(ks)
        arrays = {name: np.asarray(value)[ks] for name in self.PER_RUN if (value := getattr(self, name)) is not None}
        return replace(
            self,
            configs=[self.configs[k] for k in ks],
            engines=[self.engines[k] for k in ks] if self.engines else [],
            **arrays,
        )

    @classmethod
    def concat(cls, parts: Sequence[RaceResult]) -> RaceResult:
        """One result from results of the same starts and steps, optimizers in order (new arrays)."""
        if not parts:
            raise ValueError("concat needs at least one result")
        first = parts[0]
        arrays = {
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in first.PER_RUN
            if getattr(first, name) is not None
        }
        return replace(
            first,
            configs=[c for p in parts for c in p.configs],
            engines=[e for p in parts for e in p.engines],
            **arrays,
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        k, m, n1, _ = self.positions.shape
        return k, m, n1 - 1

    def valid_length(self, k: int, m: int) -> int:
        """Number of recorded points up to divergence (the start included)."""
        if self.status[k, m] == RunStatus.DIVERGED:
            return int(self.stopped_at[k, m])
        return self.steps + 1

    def run_record(self, k: int, m: int) -> dict[str, Any]:
        """One run as plain data, for JSON (the command line's --json and the exporter)."""
        n = self.valid_length(k, m)
        stopped = int(self.stopped_at[k, m])
        config = self.configs[k]
        return {
            "optimizer": config.optimizer,
            "label": config.display_name,
            "hyperparameters": dict(config.hyperparams),
            "clip": None if config.clip is None else {"kind": config.clip.kind, "threshold": config.clip.threshold},
            "schedule": None if config.schedule is None else config.schedule.to_text(),
            "start": self.starts[m].tolist(),
            "positions": self.positions[k, m, :n].tolist(),
            "losses": finite_list(self.losses[k, m, :n]),
            "grad_norms": finite_list(self.grad_norms[k, m, :n]),
            **({"learning_rates": finite_list(self.learning_rates[k, :n])} if self.learning_rates is not None else {}),
            "status": str(self.status[k, m]),
            "stopped_at": None if stopped < 0 else stopped,
            "reason": str(self.reasons[k, m]) or None,
            "engine": self.engines[k] if self.engines else None,
        }
