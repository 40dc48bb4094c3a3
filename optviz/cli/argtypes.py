"""Argument types for the command's options: each turns the typed text into a value or refuses it.

argparse reports a refusal as one line naming the option (`argument --seed: ...`), exit status 2, before any
work starts. Python's own `int` and `float` are too lenient for a person's input: they read `1_0` as 10,
and `inf` and `nan` as numbers; an empty value (`--formula=`) would silently mean "not given".
"""

from __future__ import annotations

import argparse
import math

from optviz.core.errors import echo
from optviz.core.params import MAX_SEED

#: The smallest --steps-per-frame: 0.1 already shows each step over ten frames.
MIN_STEPS_PER_FRAME = 0.1


def _number(text: str, kind: type) -> float | int:
    raw = text.strip()
    what = "an integer" if kind is int else "a number"
    if "_" in raw:
        raise argparse.ArgumentTypeError(f"{echo(text)} is not {what} (no underscores)")
    try:
        return kind(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{echo(text)} is not {what}") from None


def integer(text: str) -> int:
    """An integer, written without underscores."""
    return int(_number(text, int))


def finite_float(text: str) -> float:
    """A finite number: not inf, not nan."""
    value = float(_number(text, float))
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (a gradient-clipping norm, 0 meaning off)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number >= 0")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (a tolerance)."""
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{echo(text)} must be a finite number above 0")
    return value


def seed(text: str) -> int:
    """A seed: an integer from 0 to 2**63 - 1 (torch's generators take a signed 64-bit integer)."""
    value = integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{echo(text)} is out of range (an integer from 0 to 2**63-1)")
    return value


def steps_per_frame(text: str) -> float:
    """Race steps per video frame: finite and at least `MIN_STEPS_PER_FRAME` (the planned frame count is
    capped by the export's own frame limit once the steps are known)."""
    value = finite_float(text)
    if value < MIN_STEPS_PER_FRAME:
        raise argparse.ArgumentTypeError(f"{echo(text)} is out of range (at least {MIN_STEPS_PER_FRAME:g})")
    return value


def nonempty(text: str) -> str:
    """Text that is not empty or blank: `--formula=` is a mistake, not "no formula"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty (give a value, or leave the option out)")
    return text
