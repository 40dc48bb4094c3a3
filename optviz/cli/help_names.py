"""Registry names in help texts, read from the registries themselves, and only when the help is shown.

The model and data-set tables live in modules that import torch, while building the parser must stay instant
(`optviz --help`). argparse fills a help text's `%(name)s` from the option's attributes when it formats the
help, so an attribute whose `str()` reads the table puts off that import until then.
"""

from __future__ import annotations

import argparse
import importlib


class NamesOf:
    """`str()` is the names in `module.table` (a mapping or a sequence), comma-separated."""

    def __init__(self, module: str, table: str) -> None:
        self.module = module
        self.table = table

    def __str__(self) -> str:
        return ", ".join(getattr(importlib.import_module(self.module), self.table))


def names_in_help(action: argparse.Action, module: str, table: str) -> argparse.Action:
    """Let the action's help say `%(names)s` for the names in `module.table`."""
    action.names = NamesOf(module, table)  # type: ignore[attr-defined]
    return action
