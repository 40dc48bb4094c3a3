"""Model-to-widget updates without echoes: the widgets' own change signals are blocked while they are set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6 import QtCore


@contextmanager
def signals_blocked(*widgets: QtCore.QObject) -> Iterator[None]:
    """Block the widgets' signals inside the block and restore what each had before (nesting-safe)."""
    previous = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for w, was in zip(widgets, previous, strict=True):
            w.blockSignals(was)
