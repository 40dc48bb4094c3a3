"""Fixtures for app tests: a themed main window on a given scene, with settings in a temporary INI file.

- `window`: the main window on the default scene. Building one costs seconds (widgets, GL, the first race),
  so a module builds it once and each test gets it back as a fresh window would be: the default scene (File >
  New, so every panel redraws and the camera is the scene's), paused at the default speed, the first layout,
  empty settings, no dialogs open, no status message, no hover read-out (the pointer has left), the 3-D view
  focused.
- `make_window(scene=None, size=...)`: a window of its own, for a test that needs another scene, size or a
  second window, or that checks what a window does when it is built.

The session's QApplication comes from pytest-qt with `qapp_cls` from tests/conftest.py (shared GL
contexts), and paint errors re-raise through its `_reraise_paint_errors`. Windows never autoplay here: a
test moves the time cursor itself.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtWidgets

from optviz.core.scene import Scene, default_scene

WINDOW_SIZE = (1400, 900)


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """A modal dialog would hang a headless test: message boxes are recorded instead (tests that expect a
    prompt patch `QMessageBox.question` themselves), and an unexpected question fails the test."""
    from PySide6 import QtWidgets

    shown: list[tuple[str, str]] = []

    def warning(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    def question(parent, title, text, *args, **kwargs):
        raise AssertionError(f"unexpected prompt: {title}: {text}")

    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", warning)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    return shown


@pytest.fixture
def make_window(qtbot, qapp, settings):
    """make_window(scene=None) -> a shown MainWindow whose first race has landed."""
    windows = []

    def make(scene: Scene | None = None, size=WINDOW_SIZE):
        window = _build_window(settings, scene, size)
        qtbot.waitExposed(window)
        assert window.settle(120), "the first race did not land"
        windows.append(window)
        return window

    yield make
    # Not qtbot.addWidget: pytest-qt would close the windows before this teardown, and a window with
    # unsaved changes asks about them on close.
    for window in windows:
        _close_window(window)
    qapp.processEvents()


def _build_window(settings: QtCore.QSettings, scene: Scene | None = None, size=WINDOW_SIZE):
    from optviz.app.model import SceneModel
    from optviz.app.shell.main import create_application
    from optviz.app.shell.main_window import MainWindow

    create_application()  # the theme; reuses pytest-qt's QApplication
    window = MainWindow(SceneModel(scene if scene is not None else default_scene()), settings, autoplay=False)
    window.resize(*size)
    window.show()
    return window


def _close_window(window) -> None:
    window.transport.pause()
    window.model.mark_clean()
    window.close()
    window.deleteLater()


@pytest.fixture(scope="module")
def _module_window(qapp, tmp_path_factory):
    """One window per test module (see the module doc); `window` resets it before each test."""
    from PySide6.QtTest import QTest

    path = tmp_path_factory.mktemp("window-settings") / "settings.ini"
    window = _build_window(QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat))
    assert QTest.qWaitForWindowExposed(window)
    assert window.settle(120), "the first race did not land"
    layout = window.saveState()
    yield window, layout
    _close_window(window)
    qapp.processEvents()


@pytest.fixture
def window(_module_window, qapp, qtbot):
    """The module's window, reset to what a freshly built one shows (see the module doc)."""
    from optviz.app.race.transport import DEFAULT_SPEED

    window, layout = _module_window
    window.transport.pause()
    window.transport.set_speed(DEFAULT_SPEED)
    for widget in qapp.topLevelWidgets():  # dialogs, menus, the optimizer picker's popup
        if widget is not window and widget.isVisible():
            widget.close()
    window.settings.clear()
    if not window.isVisible():
        window.show()
    window.resize(*WINDOW_SIZE)
    window.restoreState(layout)
    window.model.replace_scene(default_scene())
    assert window.settle(120), "the default scene's race did not land"
    window.statusBar().clearMessage()
    # The previous test's pointer leaves, as a real one would have: hover read-outs hide.
    QtWidgets.QApplication.sendEvent(window.charts, QtCore.QEvent(QtCore.QEvent.Type.Leave))
    qtbot.waitExposed(window)
    window.view_panel.gl.setFocus()
    qapp.processEvents()
    yield window
    window.transport.pause()
    window.model.mark_clean()  # a test that leaves unsaved changes must not leave a prompt to the next one
