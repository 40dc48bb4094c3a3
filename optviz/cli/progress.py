"""A one-line progress bar on stderr for long exports (no dependency: tqdm is not needed for one bar).

On a terminal the bar redraws in place a few times a second; when stderr is a file or a pipe it writes
nothing, so logs and tests see only the final result line and any error.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from optviz.export.timeline import format_seconds

WIDTH = 28
REDRAW_S = 0.1


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, label: str = "exporting") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self._last = 0.0
        self._shown = False

    def update(self, done: int, total: int, eta_s: float | None, phase: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < REDRAW_S and done < total:
            return
        self._last = now
        if total <= 0:
            line = f"{self.label}: {phase}…"
        else:
            filled = int(WIDTH * done / total)
            bar = "█" * filled + "·" * (WIDTH - filled)
            line = f"{self.label} {bar} {done}/{total} frames, {format_seconds(eta_s)} left"
        self.stream.write("\r" + line.ljust(78)[:100])
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
