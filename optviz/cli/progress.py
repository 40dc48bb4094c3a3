"""The one-line progress bar on stderr that `optviz export`, `landscape` and `train` share (tqdm is not
needed for one bar).

On a terminal the bar redraws in place a few times a second. When stderr is a file or a pipe it writes
nothing unless the command asks for it (`terminal_only=False`: `landscape` keeps its bar in logs), so
logs and tests see only messages, the final result and any error.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28
REDRAW_S = 0.1
LINE = 100  # characters a line is padded or cut to, so a shorter line fully covers a longer one


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, *, terminal_only: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.tty or not terminal_only
        self.label = label
        self._last = 0.0
        self._shown = False

    def show(self, fraction: float, text: str = "") -> None:
        """Draw the bar at `fraction` (0..1) with `text` after it; a complete bar is never skipped."""
        if not self.enabled:
            return
        fraction = max(0.0, min(1.0, fraction))
        now = time.monotonic()
        if now - self._last < REDRAW_S and fraction < 1.0:
            return
        self._last = now
        filled = int(WIDTH * fraction)
        line = f"{self.label} {'█' * filled}{'·' * (WIDTH - filled)} {fraction * 100:3.0f}% {text}"
        self.stream.write("\r" + line.ljust(LINE - 20)[:LINE])
        self.stream.flush()
        self._shown = True

    def message(self, text: str) -> None:
        """A line of its own (always written), above the bar."""
        self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if not self._shown:
            return
        # On a terminal the bar vanishes; in a log it stays, ended by a newline.
        self.stream.write("\r" + " " * LINE + "\r" if self.tty else "\n")
        self.stream.flush()
        self._shown = False
