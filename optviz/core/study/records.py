"""A study's trials as plain records (no Optuna types), for the report, the app and JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from optviz.core.params import Value
from optviz.core.study.trial import SeedResult

#: Trial states, as Optuna names them in lower case.
COMPLETE, PRUNED, RUNNING, FAIL, WAITING = "complete", "pruned", "running", "fail", "waiting"


@dataclass
class TrialRecord:
    """One trial of one optimizer: its number (in the order trials were started), state, objective (inf when a
    seed diverged), hyperparameters and per-seed results; `note` says why a failed trial failed."""

    optimizer: str
    number: int
    state: str
    value: float
    params: dict[str, Value]
    seeds: list[SeedResult] = field(default_factory=list)
    seconds: float = math.nan
    note: str = ""

    @property
    def finished(self) -> bool:
        """Whether the trial used its share of the budget and ended (complete or pruned)."""
        return self.state in (COMPLETE, PRUNED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "number": self.number,
            "state": self.state,
            "value": self.value,
            "params": self.params,
            "seconds": self.seconds,
            "note": self.note,
            "seeds": [s.to_dict() for s in self.seeds],
        }


def from_frozen(optimizer: str, trial: Any) -> TrialRecord:
    """A record of an Optuna `FrozenTrial`."""
    attrs = trial.user_attrs
    value = trial.value if trial.value is not None else math.nan
    return TrialRecord(
        optimizer=optimizer,
        number=trial.number,
        state=trial.state.name.lower(),
        value=float(value),
        params=dict(trial.params),
        seeds=[SeedResult.from_dict(s) for s in attrs.get("seeds", [])],
        seconds=float(attrs.get("seconds") or math.nan),
        note=str(attrs.get("failed") or attrs.get("skipped") or ""),
    )
