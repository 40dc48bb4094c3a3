"""Fixtures for app tests: a themed main window on a given scene, with settings in a temporary INI file.

The session's QApplication comes from pytest-qt with `qapp_cls` from tests/conftest.py (shared GL
contexts), and paint errors re-raise through its `_reraise_paint_errors`. Windows never autoplay here: a
test moves the time cursor itself.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore

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
    from optviz.app.model import SceneModel
    from optviz.app.shell.main import create_application
    from optviz.app.shell.main_window import MainWindow

    create_application()  # the theme; reuses pytest-qt's QApplication
    windows = []

    def make(scene: Scene | None = None, size=WINDOW_SIZE):
        window = MainWindow(SceneModel(scene if scene is not None else default_scene()), settings, autoplay=False)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        assert window.settle(120), "the first race did not land"
        windows.append(window)
        return window

    yield make
    # Not qtbot.addWidget: pytest-qt would close the windows before this teardown, and a window with
    # unsaved changes asks about them on close.
    for window in windows:
        window.transport.pause()
        window.model.mark_clean()
        window.close()
        window.deleteLater()
    qapp.processEvents()


@pytest.fixture
def window(make_window):
    return make_window()
