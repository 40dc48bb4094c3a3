"""Help: a "getting started" page and the keyboard shortcuts, read from the window's own actions (so the list
never drifts from what the keys do)."""

from __future__ import annotations

import html

from PySide6 import QtGui, QtWidgets

GETTING_STARTED = """
<h3>Getting started</h3>
<ol>
<li><b>Watch the race.</b> Each coloured path is one optimizer, the real library optimizer stepped on the loss
surface in the middle. Space plays and pauses; the slider under the view scrubs through the steps.</li>
<li><b>Change a setting.</b> Click an optimizer on the left, then drag a slider (a log slider moves 1 % per
pixel, 10 % with Shift; the wheel and the arrow keys step too) or type a value: its path re-simulates under
your hand.</li>
<li><b>Move the start.</b> Click the surface to start every optimizer there; drag the view to orbit,
Ctrl+drag to pan, the wheel to zoom.</li>
<li><b>Compare fairly.</b> The Sensitivity tab at the bottom maps an optimizer over two of its settings (click
the map to set both); Tune all gives every optimizer the same search budget and sets each one's best.</li>
<li><b>Change the surface</b> on the right: analytic surfaces, your own formula, or the real loss of a small
network. View &gt; Basins of attraction colours the surface by where an optimizer ends from each start.</li>
<li><b>Changed your mind?</b> Edit &gt; Undo (Ctrl+Z) takes back the last edit of the race: an added or
removed optimizer, a slider's whole drag, the surface, the start, Tune all; Ctrl+Shift+Z redoes it.</li>
<li><b>Examples</b> are under File &gt; Open Example; File &gt; Export Video saves the race as MP4 or GIF.</li>
</ol>
"""


def shortcut_rows(window: QtWidgets.QMainWindow) -> list[tuple[str, str]]:
    """(keys, what they do) for every menu action that has a shortcut, in menu order."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()

    def visit(menu: QtWidgets.QMenu) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                visit(action.menu())
                continue
            keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            text = action.text().replace("&", "").rstrip("…")
            if keys and keys not in seen:
                seen.add(keys)
                rows.append((keys, text))

    for action in window.menuBar().actions():
        if action.menu() is not None:
            visit(action.menu())
    return rows


def help_html(window: QtWidgets.QMainWindow) -> str:
    table = "".join(
        f"<tr><td style='padding-right:16px'><b>{html.escape(k)}</b></td><td>{html.escape(t)}</td></tr>"
        for k, t in shortcut_rows(window)
    )
    return (
        GETTING_STARTED + "<h3>Keyboard shortcuts</h3>"
        "<p>They act unless a text box is being edited.</p>"
        f"<table>{table}</table>"
    )


def show_help(window: QtWidgets.QMainWindow) -> QtWidgets.QDialog:
    dialog = QtWidgets.QDialog(window)
    dialog.setWindowTitle("optviz help")
    text = QtWidgets.QTextBrowser(dialog)
    text.setHtml(help_html(window))
    text.setOpenExternalLinks(False)
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QtWidgets.QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(620, 640)
    dialog.show()
    return dialog
