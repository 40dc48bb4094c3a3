"""`--screenshot`: open the window at a size, race, move the cursor N steps, save the whole window as a PNG
(`--train`: after a run of the Training panel, finished or paused; `--open-study`: with a study shown in the
Studies tab).

`QWidget.grab()` includes the GL view (Qt reads the QOpenGLWidget's framebuffer back); should a driver give
a black view anyway, the scene is rendered offscreen by the render layer and painted over the view's area.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.core.atomic import atomic_path
from optviz.core.errors import OptvizError

RACE_TIMEOUT_S = 300.0
TRAIN_TIMEOUT_S = 300.0


def settle(seconds: float = 0.3) -> None:
    """Let Qt lay out, paint and swap a few frames."""
    app = QtWidgets.QApplication.instance()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.01)


def grab_window(window: QtWidgets.QMainWindow) -> QtGui.QImage:
    """The whole window as an image, with the 3-D view in it (see the module doc)."""
    image = window.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    gl = window.view_panel.gl
    origin = gl.mapTo(window, QtCore.QPoint(0, 0))
    area = image.copy(QtCore.QRect(origin, gl.size()))
    pixels = np.frombuffer(area.constBits(), dtype=np.uint8).reshape(area.height(), area.bytesPerLine())
    if pixels[:, : area.width() * 4].mean() < 3.0:  # black: this driver's grab missed the GL frame
        rgba = window.view_panel.scene_view.render_image(gl.width(), gl.height())
        rgba = np.ascontiguousarray(rgba)
        frame = QtGui.QImage(rgba.data, rgba.shape[1], rgba.shape[0], QtGui.QImage.Format.Format_RGBA8888).copy()
        painter = QtGui.QPainter(image)
        painter.drawImage(origin, frame)
        painter.end()
        # The overlays (legend, hint) are widgets over the GL frame: grab them again on top.
        for child in gl.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly):
            if child.isVisible():
                painter = QtGui.QPainter(image)
                painter.drawPixmap(child.mapTo(window, QtCore.QPoint(0, 0)), child.grab())
                painter.end()
    return image


def train(window: QtWidgets.QMainWindow, pause_after: int = 0) -> None:
    """Run the Training panel's default training, to the end or (`pause_after` > 0) paused once that many steps
    of all runs together are done: the panel's finished and running states, for a screenshot."""
    panel = window.training_panel
    if not panel.run():
        raise OptvizError(f"the Training panel's training did not start: {panel.status.text()}")
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    while panel.is_running():
        if pause_after and panel.progress.value() >= pause_after:
            panel.pause()
            settle(0.3)  # the batch in flight lands
            return
        if time.monotonic() > deadline:
            panel.stop()
            raise OptvizError(f"the training did not finish within {TRAIN_TIMEOUT_S:.0f} s; no screenshot written")
        settle(0.05)


def show_study(window: QtWidgets.QMainWindow, storage: str, name: str) -> None:
    """Open a study in the Studies tab and wait until its trials and report are shown."""
    panel = window.study_panel
    panel.open_study(storage, name)
    if not panel.wait(RACE_TIMEOUT_S) or panel.study is None:
        raise OptvizError(f"the study did not open: {panel.status.text()}")


def take_screenshot(
    window: QtWidgets.QMainWindow,
    out: Path,
    size: tuple[int, int],
    steps: int | None,
    panel: str | None = None,
    training: int | None = None,
    study: tuple[str, str] | None = None,
) -> None:
    """Show the window at `size`, wait for the race (and any sweep), move the cursor to `steps` and save a PNG;
    `panel` names a bottom panel to bring to the front first (`MainWindow.show_panel`); `training`, when given,
    runs the Training panel first (see `train`: 0 to the end, N paused after N steps); `study` (storage, name)
    is opened in the Studies tab first."""
    window.resize(*size)
    window.show()
    settle(0.3)
    window.show_panel(panel)
    if not window.settle(RACE_TIMEOUT_S):
        raise OptvizError(f"the race did not finish within {RACE_TIMEOUT_S:.0f} s; no screenshot written")
    if training is not None:
        train(window, training)
    if study is not None:
        show_study(window, *study)
    window.transport.pause()
    model = window.model
    model.set_cursor(model.steps if steps is None else min(int(steps), model.steps))
    window.settle(10.0)
    settle(0.5)
    image = grab_window(window)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as temp:
        if not image.save(str(temp), "PNG"):
            raise OptvizError(f"cannot write {out}")
