"""Waiting on the UI thread for work on another thread (tests, screenshots, `settle`), events still flowing."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore


def process_events_until(done: Callable[[], bool], timeout: float) -> bool:
    """Process Qt events until `done()` is true; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    app = QtCore.QCoreApplication.instance()
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.002)
    return True
