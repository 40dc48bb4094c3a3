"""What a study is: one training set-up, the optimizers, what to tune and the budget, the same for all.

The set-up is stored with the study (each optimizer's Optuna study carries it as a user attribute), so a worker
started elsewhere with only the storage and the study's name trains exactly what the first one did, and running
a study again with another set-up under the same name is refused instead of mixing two comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optviz.core.errors import OptvizError, ValueOutOfRangeError, echo
from optviz.core.learn.config import DEVICES, MAX_STEPS, PRECISIONS
from optviz.core.params import Value, check_seed
from optviz.core.study.space import Dimension, TuneSpec, dimension

MODES = ("tpe", "grid")
#: Most trials per optimizer and most seeds per trial: a typo must not queue a week of training.
MAX_TRIALS = 10_000
MAX_SEEDS = 100
MAX_GRID_POINTS = 50
#: Names become Optuna study names `NAME/optimizer` and default file names: letters, digits, . _ - only.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FORMAT = 1


@dataclass(frozen=True)
class StudyOptimizer:
    """One optimizer in the study: its registry name and the hyperparameters held fixed (not tuned)."""

    name: str
    fixed: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class StudySetup:
    """A study's set-up. Every optimizer gets `trials` trials (the grid's size in grid mode); every trial
    trains `seeds` runs (seeds `seed`, `seed + 1`, ...) of `steps` steps on the same data and batches; the
    objective is the mean validation loss after the last step."""

    name: str
    optimizers: tuple[StudyOptimizer, ...]
    tune: tuple[TuneSpec, ...]
    trials: int = 20
    mode: str = "tpe"
    grid_points: int = 5
    pruner: bool = False
    model: str = "mlp"
    dataset: str = "digits"
    steps: int = 200
    batch_size: int = 64
    seeds: int = 1
    seed: int = 0
    device: str = "cpu"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueOutOfRangeError(
                f"study name {echo(self.name)}: use letters, digits, '.', '_' and '-' (up to 100, no '/')"
            )
        if not self.optimizers:
            raise OptvizError("give at least one --optimizer")
        names = [o.name for o in self.optimizers]
        if len(set(names)) != len(names):
            raise OptvizError(f"an optimizer is given twice ({', '.join(names)}): each gets one budget")
        if self.mode not in MODES:
            raise ValueOutOfRangeError(f"mode {echo(self.mode)}: choose one of {', '.join(MODES)}")
        if not 1 <= self.trials <= MAX_TRIALS:
            raise ValueOutOfRangeError(f"trials={self.trials} is out of range (1 to {MAX_TRIALS})")
        if not 1 <= self.grid_points <= MAX_GRID_POINTS:
            raise ValueOutOfRangeError(f"grid points={self.grid_points} is out of range (1 to {MAX_GRID_POINTS})")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueOutOfRangeError(f"steps={self.steps} is out of range (1 to {MAX_STEPS})")
        if self.batch_size < 1:
            raise ValueOutOfRangeError(f"batch size must be at least 1, got {self.batch_size}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueOutOfRangeError(f"seeds={self.seeds} is out of range (1 to {MAX_SEEDS})")
        check_seed(self.seed)
        if self.device not in DEVICES:
            raise ValueOutOfRangeError(f"device {echo(self.device)}: choose one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise ValueOutOfRangeError(f"precision {echo(self.precision)}: choose one of {', '.join(PRECISIONS)}")

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(self.seed + i for i in range(self.seeds))

    def study_name(self, optimizer: str) -> str:
        return f"{self.name}/{optimizer}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "optimizers": [{"name": o.name, "fixed": dict(o.fixed)} for o in self.optimizers],
            "tune": [{"name": t.name, "low": t.low, "high": t.high} for t in self.tune],
            "trials": self.trials,
            "mode": self.mode,
            "grid_points": self.grid_points,
            "pruner": self.pruner,
            "model": self.model,
            "dataset": self.dataset,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "seeds": self.seeds,
            "seed": self.seed,
            "device": self.device,
            "precision": self.precision,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudySetup:
        if data.get("format") != FORMAT:
            raise OptvizError(f"this study was written by another optviz (set-up format {data.get('format')!r})")
        values = {k: v for k, v in data.items() if k not in ("format", "optimizers", "tune")}
        return cls(
            optimizers=tuple(StudyOptimizer(o["name"], dict(o["fixed"])) for o in data["optimizers"]),
            tune=tuple(TuneSpec(t["name"], t["low"], t["high"]) for t in data["tune"]),
            **values,
        )


def search_space(setup: StudySetup, optimizer: StudyOptimizer) -> list[Dimension]:
    """The axes tuned for one optimizer: the tuned names its schema has (SGD has no beta2), in the given order."""
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(optimizer.name)
    return [dimension(spec.schema.get(t.name), t, spec.name) for t in setup.tune if t.name in spec.schema.names]


def grid(setup: StudySetup, optimizer: StudyOptimizer) -> dict[str, list[Value]]:
    return {d.name: d.grid(setup.grid_points) for d in search_space(setup, optimizer)}


def budget(setup: StudySetup) -> int:
    """Trials per optimizer: `trials`, or in grid mode the grid's size (the same for every optimizer)."""
    if setup.mode != "grid":
        return setup.trials
    first = grid(setup, setup.optimizers[0])
    size = 1
    for values in first.values():
        size *= len(values)
    return size


def validate(setup: StudySetup) -> None:
    """Every problem as one `OptvizError` line before any training: unknown names, a tuned hyperparameter no
    optimizer has, one that is also held fixed, unequal grids, and what the training set-up itself refuses
    (model and data that do not fit, an optimizer that cannot train, fp16 on a CPU)."""
    from optviz.core.learn.config import OptimizerRun, TrainConfig
    from optviz.core.learn.training import TrainingSession
    from optviz.core.optimizers import get_optimizer

    specs = [get_optimizer(o.name) for o in setup.optimizers]
    for t in setup.tune:
        if not any(t.name in s.schema.names for s in specs):
            have = sorted({n for s in specs for n in s.schema.names})
            raise OptvizError(f"--tune {t.name}: no chosen optimizer has it (they have: {', '.join(have)})")
    for o, spec in zip(setup.optimizers, specs, strict=True):
        spec.resolve(o.fixed)  # unknown names and values out of range, as one line
        tuned = [t.name for t in setup.tune if t.name in o.fixed]
        if tuned:
            raise OptvizError(f"{spec.name}: {', '.join(tuned)} is both tuned and held fixed; choose one")
        if not search_space(setup, o):
            raise OptvizError(f"{spec.name} has none of the tuned hyperparameters ({_names(setup)}): add one it has")
    if setup.mode == "grid":
        for spec in specs:
            missing = [t.name for t in setup.tune if t.name not in spec.schema.names]
            if missing:
                raise OptvizError(
                    f"--grid: {spec.name} has no {', '.join(missing)}, so its grid would be smaller than the others' "
                    f"and the budgets unequal; tune what every optimizer has"
                )
        sizes = {o.name: len(_cells(grid(setup, o))) for o in setup.optimizers}
        if len(set(sizes.values())) > 1:
            raise OptvizError(f"--grid: the grids differ in size ({sizes}); tune what every optimizer has")
    session_config = TrainConfig(
        model=setup.model,
        dataset=setup.dataset,
        optimizers=tuple(OptimizerRun(o.name, dict(o.fixed)) for o in setup.optimizers),
        batch_size=setup.batch_size,
        steps=setup.steps,
        device=setup.device,
        precision=setup.precision,
        seed=setup.seed,
    )
    TrainingSession(session_config)  # builds nothing heavy: loads the data, checks model and optimizers


def _cells(grid_values: dict[str, list[Value]]) -> list[tuple[Value, ...]]:
    import itertools

    return list(itertools.product(*grid_values.values()))


def _names(setup: StudySetup) -> str:
    return ", ".join(t.name for t in setup.tune)
