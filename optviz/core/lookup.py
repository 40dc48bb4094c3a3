"""One way to find a registry entry by its name: optimizers, surfaces, models, data sets, schedules.

A miss is one line naming what was asked for, the closest name when there is one, and where the choices are:
the `optviz list` command for the long registries, the names themselves for the short tables.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TypeVar

from optviz.core.errors import UnknownNameError, echo

T = TypeVar("T")


def as_typed(name: str) -> str:
    """The name exactly as given (tables whose names are matched as written)."""
    return name


def lookup(
    table: Mapping[str, T],
    name: str,
    kind: str,
    *,
    normalise: Callable[[str], str] = as_typed,
    list_command: str | None = None,
) -> T:
    """`table[normalise(name)]`, or `UnknownNameError` saying "unknown {kind} {name!r}" and where the choices
    are: `list_command` when given (e.g. "optviz list optimizers"), else the table's names."""
    key = normalise(name)
    if key in table:
        return table[key]
    # A pasted page is no typo of a name: no fuzzy match over it, and only an excerpt in the message.
    close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6) if len(key) <= 100 else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    if list_command is not None:
        raise UnknownNameError(f"unknown {kind} {echo(name)} ({hint}run `{list_command}` for the choices)")
    raise UnknownNameError(f"unknown {kind} {echo(name)}; {hint}choose one of: {', '.join(table)}")
