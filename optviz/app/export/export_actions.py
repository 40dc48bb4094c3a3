"""File > Export: the video dialog, trajectory data (CSV / JSON as `optviz race` writes them) and a PNG
snapshot of the view at any size.

Exports describe what the view shows: the optimizers that are enabled (the app races disabled ones too,
so their sliders stay live, but hides them), in their colours, with the camera as it is on screen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.model import SceneModel
from optviz.core.atomic import atomic_write_text
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_text

DATA_FILTER = "CSV, one row per step (*.csv);;JSON, one record per run (*.json)"
PNG_FILTER = "PNG image (*.png)"


def write_trajectories(model: SceneModel, path: Path) -> None:
    """CSV or JSON by the file's suffix (CSV when it has neither)."""
    from optviz.export.trajectories import race_csv, race_json

    race = model.shown_race()
    if race is None:
        raise OptvizError("nothing to export yet: no race has finished")
    scene, result, _colors = race
    if path.suffix.lower() == ".json":
        atomic_write_text(path, json_text(race_json(scene, result)))
    else:
        atomic_write_text(path, race_csv(result))


def render_snapshot(model: SceneModel, scene_view, size: tuple[int, int], overlays: bool) -> QtGui.QImage:
    """The view as it is (camera, time cursor), rendered offscreen at `size`, with the title and legend."""
    from optviz.export.captions import run_captions
    from optviz.export.overlay import OverlayPainter

    w, h = size
    rgba = scene_view.render_image(w, h, supersample=2 if w * h <= 4096 * 4096 // 4 else 1)
    rgba[..., 3] = 255
    race = model.shown_race()
    if overlays and race is not None:
        scene, result, colors = race
        title = scene.title  # `shown_race` gives the title that fits the race (`SceneModel.display_title`)
        painter = OverlayPainter(
            result, run_captions(scene, result, colors), frozenset({"legend", "title", "loss"}), title, size
        )
        painter.paint(rgba, model.cursor)
    rgba = np.ascontiguousarray(rgba)
    return QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()


class SnapshotDialog(QtWidgets.QDialog):
    """Width, height and whether to draw the title and legend on the picture."""

    def __init__(self, size: tuple[int, int], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export snapshot")
        form = QtWidgets.QFormLayout(self)
        self.width_box = QtWidgets.QSpinBox(minimum=64, maximum=8192, value=size[0], suffix=" px")
        self.width_box.setToolTip("Width of the picture in pixels (rendered at this size, not scaled)")
        self.height_box = QtWidgets.QSpinBox(minimum=64, maximum=8192, value=size[1], suffix=" px")
        self.height_box.setToolTip("Height of the picture in pixels")
        self.overlays = QtWidgets.QCheckBox("Title and legend")
        self.overlays.setChecked(True)
        self.overlays.setToolTip("Draw the scene's title and the legend (colours, hyperparameters, loss) on it")
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("", self.overlays)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setToolTip("Choose where to save the PNG")
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without saving")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def size_wanted(self) -> tuple[int, int]:
        return self.width_box.value(), self.height_box.value()


class ExportActions(QtCore.QObject):
    """The slots behind File > Export …; errors end as one line in the status bar and a message box."""

    def __init__(self, model: SceneModel, window: QtWidgets.QMainWindow, view_panel) -> None:
        super().__init__(window)
        self.model, self.window, self.view_panel = model, window, view_panel
        self.dialog = None

    def _start_dir(self) -> str:
        """Where an export is offered: the folder of the last export, else the user's videos folder, else home
        (never beside the scene: an example's folder is inside the install)."""
        last = self.window.settings.value("exports/last_dir", "", type=str)
        for folder in (last, platformdirs.user_videos_dir(), str(Path.home())):
            if folder and Path(folder).is_dir():
                return folder
        return str(Path.cwd())

    def _remember(self, path: str | Path) -> None:
        if path:
            self.window.settings.setValue("exports/last_dir", str(Path(path).resolve().parent))

    def _fail(self, title: str, message: str) -> None:
        self.model.errorRaised.emit(message)
        QtWidgets.QMessageBox.warning(self.window, title, message)

    def export_video(self) -> None:
        from optviz.app.export.export_dialog import ExportDialog

        if self.dialog is None:
            self.dialog = ExportDialog(self.model, self.view_panel, self._start_dir(), self.window)
            self.dialog.finished_export.connect(self._remember)
        self.dialog.show()
        self.dialog.raise_()

    def export_trajectories(self, path: str | Path | None = None) -> bool:
        if path is None:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, "Export trajectories", str(Path(self._start_dir()) / "race.csv"), DATA_FILTER
            )
            if not path:
                return False
        try:
            write_trajectories(self.model, Path(path))
        except OptvizError as exc:
            self._fail("Cannot export trajectories", str(exc))
            return False
        self._remember(path)
        self.window.statusBar().showMessage(f"wrote {path}", 5000)
        return True

    def export_snapshot(
        self, path: str | Path | None = None, size: tuple[int, int] | None = None, overlays=True
    ) -> bool:
        gl = self.view_panel.gl
        if path is None:
            dialog = SnapshotDialog((gl.width() * 2, gl.height() * 2), self.window)
            if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
                return False
            size, overlays = dialog.size_wanted(), dialog.overlays.isChecked()
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, "Export snapshot", str(Path(self._start_dir()) / "optviz.png"), PNG_FILTER
            )
            if not path:
                return False
        size = size or (gl.width(), gl.height())
        image = render_snapshot(self.model, self.view_panel.scene_view, size, overlays)
        try:
            # Through a temporary beside the target, renamed when complete (as every export).
            from optviz.export.target import OutputTarget

            target = OutputTarget(Path(path), is_folder=False, force=True)
            if not image.save(str(target.temp), "PNG"):
                target.discard()
                raise OptvizError(f"cannot write {path}")
            target.commit()
        except OptvizError as exc:
            self._fail("Cannot export snapshot", str(exc))
            return False
        self._remember(path)
        self.window.statusBar().showMessage(f"wrote {path} ({size[0]}x{size[1]})", 5000)
        return True
