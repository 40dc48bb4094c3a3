"""JSON every reader accepts: NaN and infinity are written as null.

Python's `json` writes NaN, Infinity and -Infinity by default; they are not JSON (RFC 8259) and strict
parsers (JavaScript's `JSON.parse`, jq) reject them. A diverged run's losses are NaN, so every JSON file
and stream optviz writes goes through `json_text`, and a number that is not finite reads back as null.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any


def finite_or_none(value: float) -> float | None:
    """`value` as a float, or None where it is NaN or infinite."""
    value = float(value)
    return value if math.isfinite(value) else None


def finite_list(values: Iterable[float]) -> list[float | None]:
    """Each value as a float, None for NaN and infinities (numpy arrays included)."""
    return [finite_or_none(v) for v in values]


def json_ready(data: Any) -> Any:
    """`data` with every non-finite float in it, at any depth of dicts, lists and tuples, replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: json_ready(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_ready(value) for value in data]
    return data


def json_text(data: Any, indent: int | None = 1, ensure_ascii: bool = True) -> str:
    """`data` as valid JSON text, non-finite numbers as null (`allow_nan=False` makes a miss an error)."""
    return json.dumps(json_ready(data), indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
