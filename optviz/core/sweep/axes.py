"""A swept hyperparameter: its name and the values of the grid along it (log or linear, as the schema says)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optviz.core.errors import ValueOutOfRangeError, echo
from optviz.core.params import Param, Schema

#: Most values along one axis (a 512 x 512 map is 262,144 races).
MAX_POINTS = 512


@dataclass(frozen=True)
class SweepAxis:
    """The grid along one hyperparameter: `values` from `low` to `high`, evenly spaced on its scale."""

    name: str
    low: float
    high: float
    count: int
    log: bool

    @property
    def values(self) -> np.ndarray:
        if self.count == 1:
            return np.array([self.low])
        if self.log:
            return np.geomspace(self.low, self.high, self.count)
        return np.linspace(self.low, self.high, self.count)

    def with_count(self, count: int) -> SweepAxis:
        return SweepAxis(self.name, self.low, self.high, count, self.log)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "scale": "log" if self.log else "linear", "values": self.values.tolist()}


def _sweepable(schema: Schema, name: str) -> Param:
    param = schema.get(name)  # raises UnknownNameError naming the schema's names
    if param.kind != "float":
        raise ValueOutOfRangeError(
            f"{schema.owner}: {name} is {'an integer' if param.kind == 'int' else 'a ' + param.kind} "
            "hyperparameter; a sweep axis must be a real-valued one"
        )
    return param


def default_axis(schema: Schema, name: str, count: int = 64) -> SweepAxis:
    """The whole schema range of `name`, on the schema's scale (log for lr and eps, linear for betas)."""
    param = _sweepable(schema, name)
    return SweepAxis(name, float(param.low), float(param.high), count, param.scale == "log")


def parse_axis(text: str, schema: Schema) -> SweepAxis:
    """`NAME=LO:HI:N[:log|:linear]` (or `NAME` alone: the schema's range and scale, 64 points).

    Each end must lie in the schema's range; N is 2 to MAX_POINTS; a log axis needs LO > 0.
    """
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not name:
        raise ValueOutOfRangeError(f"axis {echo(text)} must look like NAME=LO:HI:N[:log], e.g. lr=1e-4:1:64:log")
    if not sep:
        return default_axis(schema, name)
    param = _sweepable(schema, name)
    parts = spec.split(":")
    if len(parts) not in (3, 4):
        raise ValueOutOfRangeError(f"axis {echo(text)} must look like NAME=LO:HI:N[:log], e.g. lr=1e-4:1:64:log")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueOutOfRangeError(f"axis {echo(text)}: LO and HI must be numbers") from None
    if not parts[2].strip().isdigit():
        raise ValueOutOfRangeError(f"axis {echo(text)}: N must be a whole number of points")
    count = int(parts[2])
    scale = parts[3].strip().lower() if len(parts) == 4 else param.scale
    if scale not in ("log", "linear"):
        raise ValueOutOfRangeError(f"axis {echo(text)}: the scale must be log or linear, not {echo(scale)}")
    if not (2 <= count <= MAX_POINTS):
        raise ValueOutOfRangeError(f"axis {echo(text)}: N must be 2 to {MAX_POINTS}")
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueOutOfRangeError(f"axis {echo(text)}: LO must be less than HI")
    for end in (low, high):
        param.validate(end, schema.owner)  # each end inside the schema's range, named in the message
    if scale == "log" and low <= 0:
        raise ValueOutOfRangeError(f"axis {echo(text)}: a log axis needs LO > 0")
    return SweepAxis(name, low, high, count, scale == "log")
