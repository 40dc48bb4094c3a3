"""Ctrl+C, SIGTERM and SIGHUP during an export: stop it, remove its temporary, leave the target as it was.

`stop_on_signals()` takes the three signals over for the length of an export. A signal does not raise at
whatever line happens to run (it could land inside the clean-up itself); it calls the cancel functions
attached with `on_signal` (`ExportJob.cancel`), and the export stops between two frames and discards its
temporary. A second signal while the first is being honoured raises `ExportInterrupted` at once. When the
block ends after a signal, `ExportInterrupted` is raised: the command prints its one line and exits with
128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), the shell's convention.

Qt's eglfs platform installs its own SIGINT and SIGTERM handlers when the application is created, which
only a running event loop would serve (an export runs none): `install()` must be called again after the
application exists. A signal that was ignored when the export began (`nohup` ignores SIGHUP) stays ignored.
Signal handlers can only be set from the main thread; elsewhere this does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class ExportInterrupted(Exception):
    """An export stopped by a signal; `exit_code` is 128 + the signal's number."""

    def __init__(self, signum: int, message: str = "export interrupted") -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class SignalGuard:
    """What `stop_on_signals` yields: `install()` (again, after Qt), `on_signal(cancel)`, `signum`."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._cancels: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}

    @property
    def interrupted(self) -> bool:
        return self.signum is not None

    def install(self) -> None:
        """Take SIGINT, SIGTERM and SIGHUP over (again: something may have replaced the handlers)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            if sig not in self._previous:  # the first one seen is what is restored
                self._previous[sig] = signal.getsignal(sig)
            # A signal this process was started ignoring stays ignored (`nohup` ignores SIGHUP; a shell's
            # background job, SIGINT): that was the caller's wish, not something to take over.
            ignored = self._previous[sig] == signal.SIG_IGN
            signal.signal(sig, signal.SIG_IGN if ignored else self._handle)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def on_signal(self, cancel: Callable[[], None]) -> None:
        """Call `cancel()` on a signal (at once if one has already come)."""
        self._cancels.append(cancel)
        if self.interrupted:
            cancel()

    def _handle(self, signum: int, _frame) -> None:
        if self.signum is not None:  # a second signal: stop now
            raise ExportInterrupted(self.signum)
        self.signum = signum
        for cancel in self._cancels:
            cancel()

    def check(self) -> None:
        """Raise `ExportInterrupted` if a signal came."""
        if self.signum is not None:
            raise ExportInterrupted(self.signum)


@contextmanager
def stop_on_signals() -> Iterator[SignalGuard]:
    """See the module doc. Raises `ExportInterrupted` at the end of the block if a signal came during it."""
    guard = SignalGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.restore()
    guard.check()
