"""Shared fixtures.

- `qapp_cls` sets `AA_ShareOpenGLContexts` before pytest-qt creates the QApplication: offscreen contexts
  (the exporter's, render tests') then share GL objects with the widgets' contexts.
- `_reraise_paint_errors` (autouse): pyqtgraph catches every exception raised while painting a GL item and
  only prints it, so a broken shader would pass silently. This makes `pyqtgraph.debug.printExc` re-raise;
  inside a widget's paintGL pytest-qt then fails the test, and direct renders raise in the test itself.
  Tests under tests/core never touch Qt and skip it (the core stays importable without Qt).
- `_private_cache_dir` (autouse, per session): learned-surface grids are cached in a temporary folder, not in
  ~/.cache/optviz, so a run starts as cold as on a fresh machine and parallel workers (pytest-xdist) or runs
  never share files. Tests about the cache set their own folder on top.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path_factory.mktemp("optviz-cache")))
        yield


@pytest.fixture(scope="session")
def qapp_cls():
    from PySide6 import QtCore, QtWidgets

    QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    return QtWidgets.QApplication


def _reraise(*_args, **_kwargs):
    exc = sys.exc_info()[1]
    if exc is not None:
        raise exc


@pytest.fixture(autouse=True)
def _reraise_paint_errors(request, monkeypatch):
    try:
        area = Path(request.node.path).resolve().relative_to(_TESTS).parts[0]
    except (ValueError, IndexError):
        area = ""
    if area == "core":
        yield
        return
    import pyqtgraph.debug

    monkeypatch.setattr(pyqtgraph.debug, "printExc", _reraise)
    yield


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models train fastest on one thread: with torch's default (one per core) the threads of the test
    workers sharing the machine wait on each other at every op. Opt in with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
