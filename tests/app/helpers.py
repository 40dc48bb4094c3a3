"""Helpers for app tests: pixels of the 3-D view, mouse drags on sliders and plots, scenes."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.core.scene import OptimizerEntry, Scene


def eight_optimizer_scene(steps: int) -> Scene:
    names = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "lion", "adagrad"]
    return Scene(surface="rosenbrock", optimizers=[OptimizerEntry(n) for n in names], steps=steps)


def grab_gl(window) -> np.ndarray:
    """The 3-D view as the window shows it: (h, w, 3) uint8 from the widget's framebuffer."""
    from PySide6 import QtGui

    image = window.view_panel.gl.grabFramebuffer().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def near_color(image: np.ndarray, hex_color: str, tol: float = 60.0) -> np.ndarray:
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return np.sqrt(((image.astype(float) - rgb) ** 2).sum(-1)) < tol


def handle_rect(slider: QtWidgets.QSlider) -> QtCore.QRect:
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    return style.subControlRect(
        QtWidgets.QStyle.ComplexControl.CC_Slider, option, QtWidgets.QStyle.SubControl.SC_SliderHandle, slider
    )


def drag_slider(qtbot, slider: QtWidgets.QSlider, dx: int, moves: int = 8) -> None:
    """Press on the handle, move `dx` pixels in `moves` steps, release (pytest-qt has no mouseDrag)."""
    start = handle_rect(slider).center()
    left = QtCore.Qt.MouseButton.LeftButton
    qtbot.mousePress(slider, left, pos=start)
    for i in range(1, moves + 1):
        qtbot.mouseMove(slider, pos=start + QtCore.QPoint(round(dx * i / moves), 0))
        qtbot.wait(5)
    qtbot.mouseRelease(slider, left, pos=start + QtCore.QPoint(dx, 0))


def tick_labels(axis: pg.AxisItem) -> list[tuple[QtCore.QRectF, str]]:
    """The label rectangles and texts the axis would draw now."""
    image = QtGui.QImage(8, 8, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        if axis.style["tickFont"] is not None:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert specs is not None
    return [(rect, text) for rect, _flags, text in specs[2] if text]


def overlapping(labels: list[tuple[QtCore.QRectF, str]]) -> list[tuple[str, str]]:
    return [(a, b) for i, (ra, a) in enumerate(labels) for rb, b in labels[i + 1 :] if ra.intersects(rb)]
