"""`run_app`: start the desktop app (what `optviz` with no command does), or take a screenshot and exit.

optviz [--scene FILE] [--open-study STORAGE:NAME]
       [--screenshot OUT.png [--size WxH] [--steps N] [--panel NAME] [--train [N]]]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from pathlib import Path

from optviz.core.errors import OptvizError

EXIT_OK, EXIT_USAGE = 0, 2


def parse_size(text: str) -> tuple[int, int]:
    """'1600x1000' -> (1600, 1000); raises `OptvizError` naming the problem."""
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise OptvizError(f"--size {text!r} must look like WIDTHxHEIGHT, e.g. 1600x1000") from None
    if not (320 <= w <= 8192 and 240 <= h <= 8192):
        raise OptvizError(f"--size {text!r} is out of range (320x240 to 8192x8192)")
    return w, h


def parse_study(text: str | None) -> tuple[str, str] | None:
    """'STORAGE:NAME' -> (storage, name), split at the last colon (URLs have colons, study names none)."""
    if text is None:
        return None
    storage, colon, name = text.rpartition(":")
    if not colon or not storage.strip() or not name.strip() or "/" in name:
        raise OptvizError(f"--open-study {text!r}: give STORAGE:NAME, e.g. ~/studies/digits.journal:digits-mlp")
    return str(Path(storage).expanduser()) if "://" not in storage else storage, name.strip()


def create_application(argv: list[str] | None = None):
    """The QApplication, configured as the app needs it (shared GL contexts, dark theme). Reuses one that exists."""
    from PySide6 import QtCore, QtWidgets

    from optviz.app.widgets.theme import apply_theme

    app = QtWidgets.QApplication.instance()
    if app is None:
        # Before the QApplication exists: offscreen renders (exports, screenshots) share the widgets' GL objects.
        QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QtWidgets.QApplication(argv or [sys.argv[0]])
    app.setApplicationName("optviz")
    app.setOrganizationName("optviz")
    apply_theme(app)
    return app


def _install_excepthook(window) -> None:
    """A bug in a slot prints its traceback to stderr (for a report) and one line in the status bar;
    the app keeps running instead of aborting (PySide's default for exceptions in slots is just to print)."""

    def hook(kind, value, tb):
        sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
        with contextlib.suppress(Exception):  # the window may be gone
            window.show_error(f"internal error: {value!r} (details on the terminal)")

    sys.excepthook = hook


def run_app(args: argparse.Namespace) -> int:
    """Open the window (or take a screenshot, with `args.screenshot`); returns the exit status."""
    scene_path = getattr(args, "scene", None)
    screenshot = getattr(args, "screenshot", None)
    try:
        size = parse_size(getattr(args, "size", None) or "1600x1000")
        steps = getattr(args, "steps", None)
        if steps is not None and steps < 0:
            raise OptvizError(f"--steps {steps} must be 0 or more")
        train = getattr(args, "train", None)
        if train is not None and train < 0:
            raise OptvizError(f"--train {train} must be 1 or more (or no number: to the end)")
        study = parse_study(getattr(args, "open_study", None))
        scene = None
        if scene_path:
            from optviz.core.scene import load_scene

            scene = load_scene(scene_path)
    except OptvizError as exc:
        sys.stderr.write(f"optviz: error: {exc}\n")
        return EXIT_USAGE

    from PySide6 import QtCore

    from optviz.app.model import SceneModel
    from optviz.app.shell.main_window import MainWindow

    app = create_application()
    if screenshot:
        # A screenshot must not depend on this user's remembered layout or last scene: settings in memory only.
        settings = QtCore.QSettings(
            str(Path(QtCore.QDir.tempPath()) / "optviz-screenshot.ini"), QtCore.QSettings.Format.IniFormat
        )
        settings.clear()
        window = MainWindow(SceneModel(scene), settings=settings, autoplay=False)
        from optviz.app.shell.screenshot import take_screenshot

        try:
            take_screenshot(window, Path(screenshot), size, steps, getattr(args, "panel", None), train, study)
        except OptvizError as exc:
            sys.stderr.write(f"optviz: error: {exc}\n")
            return EXIT_USAGE
        finally:
            window.model.mark_clean()  # nothing to save: never prompt on the way out
            window.close()
            Path(settings.fileName()).unlink(missing_ok=True)
        print(f"optviz: wrote {screenshot}")
        return EXIT_OK

    window = MainWindow(SceneModel(scene) if scene is not None else None)
    if scene is not None:
        window.model.mark_saved(Path(scene_path))  # the file is the scene's home: Save writes it back
        window.files.remember_scene(Path(scene_path))
    else:
        last = window.files.last_scene()
        if last is not None and not window.files.load(last, remember=False):
            pass  # the reason is in the status bar; the default scene stays
    _install_excepthook(window)
    if study is not None:
        window.study_panel.open_study(*study)
    window.show()
    QtCore.QTimer.singleShot(0, lambda: window.show_panel(getattr(args, "panel", None)))  # after the layout settles
    return app.exec()
