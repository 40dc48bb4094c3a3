"""File > Export Video…: format, size, frame rate, length, camera, overlays, title and quality; a progress
bar with frames done and time left; Cancel.

The export runs `optviz.export.ExportJob` on the app's own race, colours and on-screen camera. Its frames
render on this (the GUI) thread, one per event-loop turn, so the window stays responsive: the GL programs
are shared with the on-screen view (AA_ShareOpenGLContexts), and a second thread setting their uniforms
while the view paints would corrupt both pictures. Encoding, the other half of the work, runs on the
export's encoder thread.

While an export runs, Ctrl+C, SIGTERM and SIGHUP cancel it (`optviz.export.interrupt`) instead of killing the
app halfway through a file: the temporary is removed, the file being replaced keeps its bytes, and the
dialog says so; the handlers in place before come back when the export ends.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.core.errors import OptvizError
from optviz.export.settings import (
    FORMAT_TITLES,
    FORMATS,
    OVERLAYS,
    QUALITIES,
    CameraMove,
    ExportSettings,
    default_fps,
)
from optviz.export.timeline import format_seconds

SIZES = (
    ("720p (1280 × 720)", (1280, 720)),
    ("1080p (1920 × 1080)", (1920, 1080)),
    ("Square (1080 × 1080)", (1080, 1080)),
    ("Custom", None),
)
SUFFIX = {"mp4": ".mp4", "webm": ".webm", "gif": ".gif", "png": ""}
OVERLAY_TEXT = {
    "legend": ("Legend", "Each optimizer's colour, name and hyperparameters"),
    "loss": ("Loss readout", "The loss of each optimizer at the step shown, live"),
    "steps": ("Step counter", "'step 120 / 500' in the bottom-left corner"),
    "title": ("Title", "The title below, in the top-left corner"),
    "chart": ("Loss chart strip", "A strip of the loss chart along the bottom, drawn up to the step shown"),
}


class ExportDialog(QtWidgets.QDialog):
    finished_export = QtCore.Signal(str)  # the path written ("" when cancelled or failed)

    def __init__(self, model: SceneModel, view_panel, folder: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.model, self.view_panel = model, view_panel
        self.job = None
        self._steps = None
        self._signals = None  # the SignalGuard of the running export
        self._replacing = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)  # one frame per event-loop turn
        self._timer.timeout.connect(self._advance)
        self.last_error = ""
        self._build(folder)

    # ---- controls ----------------------------------------------------------------------------------------
    def _build(self, folder: str) -> None:
        form = QtWidgets.QFormLayout()
        self.format_box = QtWidgets.QComboBox()
        for fmt in FORMATS:
            self.format_box.addItem(FORMAT_TITLES[fmt], fmt)
        self.format_box.setToolTip(
            "MP4 (H.264) plays everywhere; WebM (VP9) suits the web; GIF for slides and chats (large files, "
            "256 colours); PNG sequence writes numbered frames into a folder"
        )
        self.format_box.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.format_box)

        self.size_box = QtWidgets.QComboBox()
        for text, size in SIZES:
            self.size_box.addItem(text, size)
        self.size_box.setToolTip("Frame size; the scene is rendered at this size (not scaled from the window)")
        self.width_box = QtWidgets.QSpinBox(minimum=64, maximum=8192, value=1280, singleStep=2, suffix=" px")
        self.width_box.setToolTip("Custom width in pixels (MP4 and WebM need an even number)")
        self.height_box = QtWidgets.QSpinBox(minimum=64, maximum=8192, value=720, singleStep=2, suffix=" px")
        self.height_box.setToolTip("Custom height in pixels (MP4 and WebM need an even number)")
        size_row = QtWidgets.QHBoxLayout()
        for w in (self.size_box, self.width_box, QtWidgets.QLabel("×"), self.height_box):
            size_row.addWidget(w)
        self.size_box.currentIndexChanged.connect(self._size_changed)
        form.addRow("Size", size_row)

        self.fps_box = QtWidgets.QSpinBox(minimum=1, maximum=120, value=30, suffix=" frames/s")
        self.fps_box.setToolTip("Frames per second (GIF delays are whole hundredths of a second: 25 is exact)")
        form.addRow("Frame rate", self.fps_box)

        self.length_mode = QtWidgets.QComboBox()
        self.length_mode.addItem("Seconds", "seconds")
        self.length_mode.addItem("Steps per frame", "steps")
        self.length_mode.setToolTip("Give the video's length, or how many race steps each frame advances")
        self.length_box = QtWidgets.QDoubleSpinBox(minimum=0.1, maximum=600.0, value=10.0, decimals=1)
        self.length_box.setToolTip("Seconds of video (the race plays, then its end holds for a moment)")
        self.length_mode.currentIndexChanged.connect(self._length_mode_changed)
        length_row = QtWidgets.QHBoxLayout()
        length_row.addWidget(self.length_box)
        length_row.addWidget(self.length_mode)
        form.addRow("Length", length_row)

        self.camera_box = QtWidgets.QComboBox()
        self.camera_box.addItem("As on screen", "static")
        self.camera_box.addItem("Orbit", "orbit")
        self.camera_box.addItem("Fly-in", "flyin")
        self.camera_box.setToolTip(
            "As on screen: the view's camera, held still. Orbit: turn around the surface by the degrees given. "
            "Fly-in: glide in from afar to the view's camera while the race starts"
        )
        self.degrees_box = QtWidgets.QDoubleSpinBox(minimum=-720.0, maximum=720.0, value=90.0, decimals=0, suffix="°")
        self.degrees_box.setToolTip("How far the camera turns over the whole video (negative: the other way)")
        self.camera_box.currentIndexChanged.connect(self._camera_changed)
        camera_row = QtWidgets.QHBoxLayout()
        camera_row.addWidget(self.camera_box)
        camera_row.addWidget(self.degrees_box)
        form.addRow("Camera", camera_row)

        overlay_row = QtWidgets.QGridLayout()
        self.overlay_boxes: dict[str, QtWidgets.QCheckBox] = {}
        for i, name in enumerate(OVERLAYS):
            text, tip = OVERLAY_TEXT[name]
            box = QtWidgets.QCheckBox(text)
            box.setToolTip(tip)
            box.setChecked(name != "chart")
            self.overlay_boxes[name] = box
            overlay_row.addWidget(box, i // 3, i % 3)
        form.addRow("Overlays", overlay_row)

        self.title_edit = QtWidgets.QLineEdit()
        self.title_edit.setPlaceholderText(self.model.display_title())
        self.title_edit.setToolTip("Title shown on the video; empty: the scene's title")
        form.addRow("Title", self.title_edit)

        self.quality_box = QtWidgets.QComboBox()
        for q in QUALITIES:
            self.quality_box.addItem(q.capitalize(), q)
        self.quality_box.setCurrentIndex(QUALITIES.index("standard"))
        self.quality_box.setToolTip(
            "Draft: fastest, larger and blockier. Standard: good for most uses. High: smoother edges "
            "(rendered at twice the size and averaged down) and a slower, finer encode"
        )
        form.addRow("Quality", self.quality_box)

        self.path_edit = QtWidgets.QLineEdit(str(Path(folder) / "optviz-race.mp4"))
        self.path_edit.setToolTip("The file to write (for a PNG sequence: a folder)")
        browse = QtWidgets.QPushButton("Browse…")
        browse.setToolTip("Choose where to save")
        browse.clicked.connect(self._browse)
        path_row = QtWidgets.QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form.addRow("Save to", path_row)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setToolTip("Frames rendered and encoded so far")
        self.progress.setFormat("%v / %m frames")
        self.progress.setValue(0)
        self.status = QtWidgets.QLabel("")
        self.status.setToolTip("Time left, estimated from the frames done so far")
        self.export_button = QtWidgets.QPushButton("Export")
        self.export_button.setToolTip("Render the race to the file above")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export and delete the unfinished file")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.setToolTip("Close this dialog")
        self.close_button.clicked.connect(self.close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for b in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self._size_changed()
        self._camera_changed()

    def _format_changed(self) -> None:
        fmt = self.format_box.currentData()
        text = self.path_edit.text().strip()
        if text:
            path = Path(text)
            base = path.with_suffix("") if path.suffix.lower() in (".mp4", ".webm", ".gif") else path
            self.path_edit.setText(str(base) + SUFFIX[fmt])
        self.fps_box.setValue(default_fps(fmt) if self.fps_box.value() in (25, 30) else self.fps_box.value())

    def _size_changed(self) -> None:
        size = self.size_box.currentData()
        custom = size is None
        self.width_box.setEnabled(custom)
        self.height_box.setEnabled(custom)
        if not custom:
            self.width_box.setValue(size[0])
            self.height_box.setValue(size[1])

    def _length_mode_changed(self) -> None:
        if self.length_mode.currentData() == "seconds":
            self.length_box.setDecimals(1)
            self.length_box.setValue(10.0)
            self.length_box.setToolTip("Seconds of video (the race plays, then its end holds for a moment)")
        else:
            self.length_box.setDecimals(1)
            self.length_box.setValue(max(1.0, round(self.model.steps / 300.0, 1)))
            self.length_box.setToolTip("Race steps each frame advances; the video lasts as long as the race needs")

    def _camera_changed(self) -> None:
        self.degrees_box.setEnabled(self.camera_box.currentData() == "orbit")

    def _browse(self) -> None:
        fmt = self.format_box.currentData()
        if fmt == "png":
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for the PNG frames", self.path_edit.text())
        else:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export video", self.path_edit.text(), f"{FORMAT_TITLES[fmt]} (*{SUFFIX[fmt]})"
            )
        if path:
            self.path_edit.setText(path)

    # ---- running ------------------------------------------------------------------------------------------
    def settings(self, force: bool = False) -> ExportSettings:
        seconds_mode = self.length_mode.currentData() == "seconds"
        kind = self.camera_box.currentData()
        return ExportSettings(
            out=Path(self.path_edit.text().strip()),
            size=(self.width_box.value(), self.height_box.value()),
            fps=self.fps_box.value(),
            seconds=self.length_box.value() if seconds_mode else None,
            steps_per_frame=None if seconds_mode else self.length_box.value(),
            camera=CameraMove(kind, self.degrees_box.value() if kind == "orbit" else 0.0),
            overlays=frozenset(n for n, box in self.overlay_boxes.items() if box.isChecked()),
            title=self.title_edit.text() or None,
            quality=self.quality_box.currentData(),
            force=force,
        )

    @property
    def running(self) -> bool:
        return self._steps is not None

    def start(self) -> bool:
        """Check the settings, ask before replacing a file, and start; False when it did not start."""
        from optviz.export.pipeline import ExportJob
        from optviz.export.target import check_target

        if self.running:
            return False
        race = self.model.shown_race()
        if race is None:
            return self._error("Nothing to export yet: wait for the race to finish (and enable an optimizer).")
        try:
            settings = self.settings().validate()
            if not str(settings.out):
                raise OptvizError("choose where to save the video")
            force = False
            out = settings.out
            if out.exists() and not (out.is_dir() and not any(out.iterdir())):
                buttons = QtWidgets.QMessageBox.StandardButton
                answer = QtWidgets.QMessageBox.question(
                    self, "Replace file?", f"{out} already exists. Replace it?", buttons.Yes | buttons.No, buttons.No
                )
                if answer != buttons.Yes:
                    return False
                force = True
            settings = self.settings(force).validate()
            check_target(settings.out, settings.format == "png", force)
            scene, result, colors = race
            camera = self.view_panel.scene_view.camera_state()
            self.job = ExportJob(scene, settings, result=result, colors=colors, camera=camera)
            self._steps = self.job.run()
        except OptvizError as exc:
            return self._error(str(exc))
        from optviz.export.interrupt import SignalGuard

        self._replacing = force
        self._signals = SignalGuard()
        self._signals.on_signal(self.job.cancel)
        self._signals.install()
        self.progress.setMaximum(self.job.timeline.frames)
        self.progress.setValue(0)
        self.status.setText("starting…")
        self._set_running(True)
        self._timer.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in self.findChildren(QtWidgets.QWidget):
            if isinstance(w, QtWidgets.QComboBox | QtWidgets.QAbstractSpinBox | QtWidgets.QLineEdit):
                w.setEnabled(not running)
            if isinstance(w, QtWidgets.QCheckBox):
                w.setEnabled(not running)
        if not running:
            self._size_changed()
            self._camera_changed()

    def _advance(self) -> None:
        try:
            progress = next(self._steps)
        except StopIteration:
            self._end("")
            return
        except OptvizError as exc:
            self._end("")
            self._error(str(exc))
            return
        except Exception as exc:  # a bug: report it in one line, keep the app alive
            self._end("")
            self._error(f"export failed: {exc!r}")
            return
        self.progress.setValue(progress.frames_done)
        if progress.phase == "rendering":
            self.status.setText(f"{format_seconds(progress.eta_s)} left")
        elif progress.phase == "finishing":
            self.status.setText("finishing the file…")
        elif progress.phase == "done":
            self._end(str(progress.out))
            self.status.setText(f"wrote {progress.out.name}")
        elif progress.phase == "cancelled":
            signum = self._signals.signum if self._signals is not None else None
            self._end("")
            if signum is not None:
                from optviz.export.interrupt import ExportInterrupted

                name = ExportInterrupted(signum).signal_name
                left = f"{progress.out.name} left as it was" if self._replacing else "nothing written"
                self.status.setText(f"interrupted by {name}: export cancelled; {left}")
            else:
                self.status.setText("cancelled; nothing written")

    def _end(self, path: str) -> None:
        self._timer.stop()
        if self._steps is not None:
            self._steps.close()  # after an error or cancel: removes the temporary
        self._steps = None
        if self._signals is not None:
            self._signals.restore()
            self._signals = None
        self._set_running(False)
        self.finished_export.emit(path)

    def cancel(self) -> None:
        if self.job is not None and self.running:
            self.job.cancel()

    def _error(self, message: str) -> bool:
        self.last_error = message
        self.status.setText(message)
        self.model.errorRaised.emit(message)
        QtWidgets.QMessageBox.warning(self, "Cannot export", message)
        return False

    def closeEvent(self, event) -> None:
        if self.running:  # closing the dialog stops the export; the unfinished file goes too
            self.job.cancel()
            self._end("")
        super().closeEvent(event)
