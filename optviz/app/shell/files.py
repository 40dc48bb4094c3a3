"""File menu actions: New, Open, Save, Save As, examples, recent files, and the unsaved-changes prompt.

Dialogs go through Qt's static functions (`QFileDialog.getOpenFileName`, `QMessageBox.question`), which
tests replace. Errors (a bad scene file, an unwritable folder) end as one line in the status bar and a
short message box, never a traceback. Settings are read with `type=` (INI files lose types across processes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.core.errors import OptvizError
from optviz.core.scene import default_scene, load_scene, save_scene

SCENE_FILTER = "optviz scenes (*.toml);;All files (*)"
MAX_RECENT = 8


class FileActions(QtCore.QObject):
    recentChanged = QtCore.Signal()

    def __init__(
        self,
        model: SceneModel,
        window: QtWidgets.QWidget,
        settings: QtCore.QSettings,
        before_save: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(window)
        self.model, self.window, self.settings, self.before_save = model, window, settings, before_save

    # ---- settings --------------------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.settings.value("files/recent", [], type=list)
        return [str(v) for v in value if v]

    def remember_scene(self, path: Path) -> None:
        """Put `path` first in the recent files and make it the scene the next start opens."""
        text = str(Path(path).resolve())
        recent = [text] + [p for p in self.recent() if p != text]
        self.settings.setValue("files/recent", recent[:MAX_RECENT])
        self.settings.setValue("files/last_scene", text)
        self.recentChanged.emit()

    def last_scene(self) -> Path | None:
        text = self.settings.value("files/last_scene", "", type=str)
        path = Path(text) if text else None
        return path if path is not None and path.is_file() else None

    def _start_dir(self) -> str:
        path = self.model.path
        if path is not None:
            return str(path.parent)
        return self.settings.value("files/last_dir", str(Path.home()), type=str)

    # ---- actions -------------------------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved, discarded or nothing to save)."""
        if not self.model.dirty:
            return True
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self.window,
            "Unsaved changes",
            "This scene has changes that are not saved. Save them first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.model.replace_scene(default_scene(), None)
        return True

    def open(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open scene", self._start_dir(), SCENE_FILTER)
            if not path:
                return False
        return self.load(Path(path))

    def load(self, path: Path, remember: bool = True) -> bool:
        """Open a scene with no prompt (the command line's --scene, examples after the prompt)."""
        if not self._replace_from(path, path, "Cannot open scene"):
            return False
        if remember:
            self.remember_scene(path)
            self.settings.setValue("files/last_dir", str(Path(path).resolve().parent))
        return True

    def open_example(self, path: Path) -> bool:
        # An example is a starting point: saving asks where, so the shipped file is never overwritten.
        return self.maybe_save() and self._replace_from(path, None, "Cannot open example")

    def _replace_from(self, path: Path, save_path: Path | None, failure: str) -> bool:
        """Load `path` into the model (saving later goes to `save_path`); an unreadable file is an inline error."""
        try:
            scene = load_scene(path)
        except OptvizError as exc:
            self._fail(failure, str(exc))
            return False
        self.model.replace_scene(scene, save_path)
        return True

    def save(self) -> bool:
        if self.model.path is None:
            return self.save_as()
        return self._write(self.model.path)

    def save_as(self) -> bool:
        start = str(self.model.path) if self.model.path else str(Path(self._start_dir()) / "scene.toml")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save scene as", start, SCENE_FILTER)
        if not path:
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".toml")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        self.before_save()
        try:
            save_scene(self.model.scene, path)
        except OptvizError as exc:
            self._fail("Cannot save scene", str(exc))
            return False
        self.model.mark_saved(path)
        self.remember_scene(path)
        self.settings.setValue("files/last_dir", str(path.resolve().parent))
        return True

    def _fail(self, title: str, message: str) -> None:
        self.model.errorRaised.emit(message)
        QtWidgets.QMessageBox.warning(self.window, title, message)
