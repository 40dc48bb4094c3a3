"""Learning-rate schedules as multipliers of each optimizer's base learning rate.

One function `factor(step)` drives both torch's `LambdaLR` during training and the panel's preview plot, so the
preview is exactly what the run will use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.lookup import lookup

SCHEDULES: dict[str, str] = {
    "constant": "the optimizer's learning rate at every step",
    "warmup-cosine": "linear warm-up from 0 over the first 10% of steps, then cosine decay to 0",
    "step": "multiply by 0.1 after each third of the run",
}


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "constant"
    warmup_fraction: float = 0.1  # warmup-cosine: share of the steps spent warming up
    decay_every_fraction: float = 1 / 3  # step: share of the steps between decays
    gamma: float = 0.1  # step: multiplier at each decay

    def __post_init__(self) -> None:
        lookup(SCHEDULES, self.name, "schedule")  # raises for a name that is not one
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueOutOfRangeError(f"warm-up fraction must be in [0, 1), got {self.warmup_fraction}")
        if not 0.0 < self.decay_every_fraction <= 1.0 or not 0.0 < self.gamma <= 1.0:
            raise ValueOutOfRangeError("step decay needs 0 < interval <= 1 and 0 < gamma <= 1")


def lr_factor(config: ScheduleConfig, steps: int) -> Callable[[int], float]:
    """factor(step) for step = 0 .. steps-1: the multiplier applied to the base learning rate at that step."""
    steps = max(1, int(steps))
    if config.name == "constant":
        return lambda step: 1.0
    if config.name == "warmup-cosine":
        warmup = round(steps * config.warmup_fraction)

        def warmup_cosine(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)  # never exactly 0: a zero step wastes a step and confuses Adam
            progress = (step - warmup) / max(1, steps - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

        return warmup_cosine
    every = max(1, round(steps * config.decay_every_fraction))
    return lambda step: config.gamma ** (step // every)


def preview(config: ScheduleConfig, steps: int) -> list[float]:
    """The multiplier at every step of a run of `steps` steps (the panel plots it)."""
    factor = lr_factor(config, steps)
    return [factor(s) for s in range(max(1, steps))]
