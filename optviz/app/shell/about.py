"""The About box: what optviz is, and the versions of everything that draws or computes a race."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import QtCore, QtWidgets

from optviz import __version__

PACKAGES = ("PySide6-Essentials", "pyqtgraph", "PyOpenGL", "numpy", "torch", "pytorch_optimizer", "schedulefree")


def versions(gl_renderer: str = "") -> list[tuple[str, str]]:
    """(name, version) pairs; read from package metadata, so nothing heavy (torch) gets imported."""
    rows = [("optviz", __version__), ("Python", platform.python_version()), ("Qt", QtCore.qVersion())]
    for name in PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    if gl_renderer:
        rows.append(("OpenGL", gl_renderer))
    return rows


def about_text(gl_renderer: str = "") -> str:
    table = "".join(f"<tr><td style='padding-right:12px'>{n}</td><td>{v}</td></tr>" for n, v in versions(gl_renderer))
    return (
        f"<h3>optviz {__version__}</h3>"
        "<p>Watch deep-learning optimizers race on loss surfaces. Every path is the real library optimizer's, "
        "stepped in float64.</p>"
        f"<table>{table}</table>"
    )


def show_about(parent: QtWidgets.QWidget, gl_renderer: str = "") -> None:
    QtWidgets.QMessageBox.about(parent, "About optviz", about_text(gl_renderer))
