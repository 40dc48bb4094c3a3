"""The dark theme: Fusion with a dark palette, a short style sheet, and pyqtgraph's colours to match.

The 3-D view's background (`optviz.render.BACKGROUND`) is the darkest tone, panels a step lighter, so
the view reads as the stage and the panels as the wings.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

WINDOW = "#1d2026"
PANEL = "#23272e"
BASE = "#1a1d22"
RAISED = "#2c313a"
BORDER = "#353b45"
TEXT = "#d8dde6"
MUTED = "#8a93a3"
ACCENT = "#4cc9f0"
ERROR = "#ff6b6b"

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW}; }}
QMainWindow::separator {{ background: {WINDOW}; width: 4px; height: 4px; }}
QDockWidget {{ color: {MUTED}; font-weight: 600; titlebar-close-icon: none; }}
QDockWidget::title {{ background: {WINDOW}; padding: 6px 10px 4px 10px; text-align: left; }}
QDockWidget > QWidget {{ background: {PANEL}; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; padding: 6px; }}
QToolBar {{ background: {WINDOW}; border: none; spacing: 4px; padding: 3px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 5px; padding: 3px; }}
QToolButton:hover {{ background: {RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: #2d4a57; border-color: {ACCENT}; }}
QToolButton[popupMode="1"] {{
    background: {RAISED}; border: 1px solid {BORDER}; padding: 4px 10px; padding-right: 24px;
}}
QToolButton[popupMode="1"]:hover {{ border-color: {ACCENT}; }}
QToolButton::menu-button {{ width: 18px; border-left: 1px solid {BORDER}; }}
QPushButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 5px; padding: 4px 10px; }}
QPushButton:hover {{ border-color: {ACCENT}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 2px 5px; min-height: 18px;
}}
QLineEdit:focus, QSpinBox:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
QLineEdit[invalid="true"] {{ border-color: {ERROR}; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: #3a6f86; border-radius: 2px; }}
QSlider::handle:horizontal {{
    background: {TEXT}; width: 12px; height: 12px; margin: -5px 0; border-radius: 6px;
}}
QSlider::handle:horizontal:hover {{ background: #ffffff; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 4px; font-weight: 600; }}
QTableWidget {{ background: {PANEL}; border: none; gridline-color: transparent; }}
QTableWidget::item {{ padding: 2px 4px; }}
QScrollArea {{ border: none; background: transparent; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="heading"] {{ font-weight: 600; font-size: 11pt; }}
QLabel[role="error"] {{ color: {ERROR}; }}
QLabel[role="rule"] {{ color: #b9c3d3; font-family: monospace; font-size: 8pt; }}
QFrame[role="row"] {{ border-radius: 6px; }}
QFrame[role="row"][selected="true"] {{ background: {RAISED}; }}
QStatusBar {{ background: {WINDOW}; color: {MUTED}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: {RAISED}; }}
"""


def dark_palette() -> QtGui.QPalette:
    pal = QtGui.QPalette()
    c = QtGui.QColor
    role = QtGui.QPalette.ColorRole
    for r, color in (
        (role.Window, WINDOW),
        (role.WindowText, TEXT),
        (role.Base, BASE),
        (role.AlternateBase, PANEL),
        (role.ToolTipBase, RAISED),
        (role.ToolTipText, TEXT),
        (role.Text, TEXT),
        (role.Button, RAISED),
        (role.ButtonText, TEXT),
        (role.BrightText, "#ffffff"),
        (role.Highlight, "#2f6f8a"),
        (role.HighlightedText, "#ffffff"),
        (role.Link, ACCENT),
        (role.PlaceholderText, MUTED),
        (role.Mid, BORDER),
        (role.Dark, BASE),
        (role.Light, RAISED),
    ):
        pal.setColor(r, c(color))
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, c("#5a606b"))
    return pal


def apply_theme(app: QtWidgets.QApplication) -> None:
    import pyqtgraph as pg

    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
    pg.setConfigOptions(background=PANEL, foreground=MUTED, antialias=True)
