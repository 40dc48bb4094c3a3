"""What a study tunes: ranges and grids for an optimizer's hyperparameters, read from the registry's schema.

A person names what to tune (`lr,beta2`), optionally with a range (`lr=1e-4:1e-1`). Without one, the
learning rate spans 1e-5 to 1 on a log scale (every optimizer in the registry trains somewhere in there), the
momentum-like betas 0.5 to 0.99 and beta2 0.9 to 0.9999, weight decay 1e-5 to 0.3 on a log scale; any other
hyperparameter its schema's range. Every range is clipped to the schema, so a sampled value is always one the
optimizer accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optviz.core.errors import OptvizError, ValueOutOfRangeError, echo
from optviz.core.params import Param, Value

#: Default ranges where the schema's own is wider than any sensible search: (low, high, log).
SUB_RANGES: dict[str, tuple[float, float, bool]] = {
    "lr": (1e-5, 1.0, True),
    "momentum": (0.5, 0.99, False),
    "beta1": (0.5, 0.99, False),
    "beta2": (0.9, 0.9999, False),
    "weight_decay": (1e-5, 0.3, True),
}
#: Hyperparameters whose grid is spaced evenly in log(1 - value): 0.9, 0.99, 0.999 rather than 0.9, 0.933, ...
NEAR_ONE = ("momentum", "beta1", "beta2", "beta3")


@dataclass(frozen=True)
class TuneSpec:
    """One hyperparameter to tune, as the person gave it: a name and an optional range."""

    name: str
    low: float | None = None
    high: float | None = None

    def text(self) -> str:
        return self.name if self.low is None else f"{self.name}={self.low:g}:{self.high:g}"


@dataclass(frozen=True)
class Dimension:
    """One axis of an optimizer's search space: a float or int range (log or linear), or categories."""

    name: str
    kind: str  # "float", "int" or "categorical"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Value, ...] = ()

    def grid(self, points: int) -> list[Value]:
        """`points` values across the range (every category for a categorical axis), rounded to 6 significant
        digits so that grid cells read as people write them."""
        if self.kind == "categorical":
            return list(self.choices)
        if points == 1:
            return [_tidy(math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2)]
        fractions = [i / (points - 1) for i in range(points)]
        if self.name in NEAR_ONE and self.high < 1:
            a, b = math.log(1 - self.low), math.log(1 - self.high)
            values = [1 - math.exp(a + f * (b - a)) for f in fractions]
        elif self.log:
            a, b = math.log(self.low), math.log(self.high)
            values = [math.exp(a + f * (b - a)) for f in fractions]
        else:
            values = [self.low + f * (self.high - self.low) for f in fractions]
        if self.kind == "int":
            return sorted({round(v) for v in values})
        return [min(self.high, max(self.low, _tidy(v))) for v in values]


def parse_tune(text: str) -> tuple[TuneSpec, ...]:
    """'lr=1e-4:1e-1,beta2' -> the specs; a malformed part is one line naming it."""
    specs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, rng = part.partition("=")
        name = name.strip().lower()
        if not eq:
            specs.append(TuneSpec(name))
            continue
        low_text, colon, high_text = rng.partition(":")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            low = high = math.nan
        if not colon or not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise ValueOutOfRangeError(f"--tune {echo(part)}: a range is NAME=LOW:HIGH with LOW < HIGH")
        specs.append(TuneSpec(name, low, high))
    if not specs:
        raise ValueOutOfRangeError("--tune names no hyperparameter (e.g. --tune lr,beta2)")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueOutOfRangeError(f"--tune {echo(text)} names a hyperparameter twice")
    return tuple(specs)


def dimension(param: Param, spec: TuneSpec, owner: str) -> Dimension:
    """The search axis for one schema parameter: the given range or the default one, clipped to the schema."""
    if param.kind == "bool":
        return Dimension(param.name, "categorical", choices=(False, True))
    if param.kind == "choice":
        return Dimension(param.name, "categorical", choices=param.choices)
    if param.kind == "text":
        raise OptvizError(f"{owner}: {param.name} is text and cannot be tuned")
    lo, hi = param.slider_bounds
    log = param.scale == "log"
    if spec.low is not None:
        low, high = spec.low, spec.high
        if low < lo or high > hi:
            raise ValueOutOfRangeError(
                f"--tune {spec.text()}: {owner} takes {param.name} in {param.describe_range()}; give a range inside it"
            )
    elif param.name in SUB_RANGES:
        low, high, log = SUB_RANGES[param.name]
        low, high = max(low, lo), min(high, hi)
    else:
        low, high = lo, hi
    if log and low <= 0:
        log = False
    if param.kind == "int":
        return Dimension(param.name, "int", math.ceil(low), math.floor(high), log)
    return Dimension(param.name, "float", float(low), float(high), log)


def _tidy(value: float) -> float:
    return float(f"{value:.6g}")
