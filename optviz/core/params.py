"""Typed parameter schemas, shared by optimizer hyperparameters and surface parameters.

A `Param` knows its default, range and scale, so the same schema generates a slider (log or linear),
parses a command-line value, validates a scene file and documents itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from optviz.core.errors import UnknownNameError, ValueOutOfRangeError, echo

Value = float | int | bool | str
Kind = Literal["float", "int", "bool", "choice", "text"]
Scale = Literal["linear", "log"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One tunable value: a hyperparameter of an optimizer or a parameter of a surface."""

    name: str
    default: Value
    kind: Kind = "float"
    low: float | None = None
    high: float | None = None
    scale: Scale = "linear"
    choices: tuple[str, ...] = ()
    help: str = ""
    #: Exclusive ends: the range is (low, high] with open_low, [low, high) with open_high (a library that refuses
    #: the end itself, e.g. AdaHessian's hessian_power in (0, 1]).
    open_low: bool = False
    open_high: bool = False

    def __post_init__(self) -> None:
        if self.kind in ("float", "int") and (self.low is None or self.high is None):
            raise ValueError(f"numeric parameter {self.name!r} needs low and high")
        if self.scale == "log" and (self.low is None or self.low <= 0):
            raise ValueError(f"log-scale parameter {self.name!r} needs low > 0")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"choice parameter {self.name!r}: default not among choices")
        if self.kind in ("float", "int") and not self.contains(self.default):  # type: ignore[arg-type]
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} outside {self.describe_range()}")

    def contains(self, number: float) -> bool:
        """Whether a number lies in the range, exclusive ends excluded (NaN never does)."""
        lo, hi = self.low, self.high
        above = number > lo if self.open_low else number >= lo  # type: ignore[operator]
        below = number < hi if self.open_high else number <= hi  # type: ignore[operator]
        return math.isfinite(number) and above and below

    @property
    def slider_bounds(self) -> tuple[float, float]:
        """The ends a slider offers: the range's, each exclusive end moved in by a ten-thousandth of the range
        (of its logarithm on a log scale), so the slider never offers a value the schema refuses."""
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        nudge = 1e-4
        if self.scale == "log":
            ratio = (hi / lo) ** nudge
            return (lo * ratio if self.open_low else lo), (hi / ratio if self.open_high else hi)
        step = (hi - lo) * nudge
        return (lo + step if self.open_low else lo), (hi - step if self.open_high else hi)

    def describe_range(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "text":
            return "text"
        low = f"more than {_fmt(self.low)}" if self.open_low else _fmt(self.low)
        high = f"less than {_fmt(self.high)}" if self.open_high else _fmt(self.high)
        return f"{low} to {high}" + (" (log scale)" if self.scale == "log" else "")

    def parse(self, text: str, owner: str = "") -> Value:
        """Parse a value typed by a person (command line, text box)."""
        where = f"{owner}: " if owner else ""
        raw = text.strip()
        if self.kind == "bool":
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueOutOfRangeError(f"{where}{self.name}={echo(text)} is not a boolean (use true or false)")
        if self.kind in ("choice", "text"):
            return self.validate(raw, owner)
        if "_" in raw:  # Python's int() and float() read "1_0" as 10; a person typing it meant something else
            kind = "an integer" if self.kind == "int" else "a number"
            raise ValueOutOfRangeError(f"{where}{self.name}={echo(text)} is not {kind} (no underscores)")
        try:
            number = int(raw) if self.kind == "int" else float(raw)
        except ValueError:
            kind = "an integer" if self.kind == "int" else "a number"
            raise ValueOutOfRangeError(f"{where}{self.name}={echo(text)} is not {kind}") from None
        return self.validate(number, owner)

    def validate(self, value: object, owner: str = "") -> Value:
        """Check a value (from a scene file, a slider, code) against the schema; return it normalised."""
        where = f"{owner}: " if owner else ""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ValueOutOfRangeError(f"{where}{self.name} must be true or false, got {echo(value)}")
        if self.kind == "text":
            if isinstance(value, str):
                return value
            raise ValueOutOfRangeError(f"{where}{self.name} must be text, got {echo(value)}")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueOutOfRangeError(f"{where}{self.name} must be {self.describe_range()}, got {echo(value)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueOutOfRangeError(f"{where}{self.name} must be a number, got {echo(value)}")
        if self.kind == "int" and not float(value).is_integer():
            raise ValueOutOfRangeError(f"{where}{self.name} must be an integer, got {echo(value)}")
        number = int(value) if self.kind == "int" else float(value)
        if not self.contains(number):
            raise ValueOutOfRangeError(f"{where}{self.name}={_fmt(number)} is out of range ({self.describe_range()})")
        return number

    # Slider mapping: position in [0, 1] <-> value, log or linear. Used by the app's sliders.
    def to_unit(self, value: float) -> float:
        lo, hi = self.slider_bounds
        if self.scale == "log":
            return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (value - lo) / (hi - lo)

    def from_unit(self, unit: float) -> float:
        lo, hi = self.slider_bounds
        unit = min(1.0, max(0.0, unit))
        if self.scale == "log":
            value = math.exp(math.log(lo) + unit * (math.log(hi) - math.log(lo)))
        else:
            value = lo + unit * (hi - lo)
        return round(value) if self.kind == "int" else value

    def to_dict(self) -> dict[str, Value | list[str] | None]:
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "open_low": self.open_low,
            "open_high": self.open_high,
            "scale": self.scale,
            "choices": list(self.choices),
            "help": self.help,
        }


@dataclass(frozen=True)
class Schema:
    """An ordered set of `Param`s belonging to one owner (an optimizer or a surface kind)."""

    owner: str
    params: tuple[Param, ...] = field(default_factory=tuple)

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def get(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(self.names) or "none"
        raise UnknownNameError(f"{self.owner} has no parameter {echo(name)} (valid: {valid})")

    def defaults(self) -> dict[str, Value]:
        return {p.name: p.default for p in self.params}

    def resolve(self, overrides: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> dict[str, Value]:
        """Defaults updated with validated overrides; unknown names raise `UnknownNameError`."""
        values = self.defaults()
        items = overrides.items() if isinstance(overrides, Mapping) else overrides
        for name, value in items:
            values[name] = self.check(name, value)
        return values

    def check(self, name: str, value: object) -> Value:
        """Validate one value; text (from a command line or a text box) is parsed first."""
        param = self.get(name)
        if isinstance(value, str) and param.kind not in ("choice", "text"):
            return param.parse(value, self.owner)
        return param.validate(value, self.owner)


#: Seeds are 0 to 2**63 - 1: numpy takes any non-negative integer, but torch's generators take a signed 64-bit one.
MAX_SEED = 2**63 - 1


def check_seed(seed: object, name: str = "seed") -> int:
    """`seed` when it is an integer from 0 to `MAX_SEED`; else a one-line `ValueOutOfRangeError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueOutOfRangeError(f"{name}={echo(seed)} is out of range (an integer from 0 to 2**63-1)")
    return seed


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:g}"
