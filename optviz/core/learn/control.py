"""Pause, resume and stop for a running job, shared between the thread that runs it and the one that asks."""

from __future__ import annotations

import threading

from optviz.core.errors import OptvizError


class Cancelled(OptvizError):
    """The job was cancelled between two steps (the app's Stop, a newer request); it has no result."""


class RunControl:
    """Thread-safe switches a job checks between steps. A paused job blocks in `checkpoint` until resumed or
    stopped; it never stops half-way through a step, so results stay exact."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused job so it can finish

    @property
    def paused(self) -> bool:
        return not self._running.is_set() and not self._stop.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def checkpoint(self) -> bool:
        """Block while paused; True when the job may take another step."""
        self._running.wait()
        return not self._stop.is_set()
