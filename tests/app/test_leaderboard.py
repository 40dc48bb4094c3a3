"""The leaderboard keeps names whole and its rows visible, whatever the window size and the docks around it."""

from __future__ import annotations

from PySide6 import QtCore

from optviz.app.readouts.leaderboard import LR_COLUMN, MIN_ROWS, STATUS_COLUMN


def _names_fit(board) -> bool:
    names = [board.item(row, 0).text() for row in range(board.rowCount())]
    width = board.columnWidth(0)
    return all(board.fontMetrics().horizontalAdvance(name) + 8 <= width for name in names)


def test_names_stay_whole_in_a_narrow_dock_and_columns_come_back_when_wide(window, qtbot):
    board = window.leaderboard
    window.resize(1280, 800)
    window.resizeDocks([window.docks["leaderboard"]], [300], QtCore.Qt.Orientation.Horizontal)
    qtbot.wait(50)
    assert window.settle(60)
    assert _names_fit(board)
    assert board.isColumnHidden(4), "a 300 px dock has no room for every column"
    assert "loss" in board.item(0, 0).toolTip()  # the hidden values are on the name's tooltip
    window.resize(1920, 1080)
    window.resizeDocks([window.docks["leaderboard"]], [700], QtCore.Qt.Orientation.Horizontal)
    qtbot.wait(50)
    assert not any(board.isColumnHidden(c) for c in range(board.columnCount()) if c != LR_COLUMN)  # lr: no schedule
    assert _names_fit(board)


def test_status_is_one_word_with_the_reason_on_hover(window):
    window.model.set_hyperparam(0, "lr", 0.05)  # SGD on Rosenbrock: overshoots and blows up
    assert window.settle(60)
    window.model.set_cursor(window.model.steps)
    board = window.leaderboard
    board.refresh()
    cells = [board.item(row, STATUS_COLUMN) for row in range(board.rowCount())]
    assert {c.text() for c in cells} <= {"running", "converged", "diverged"}
    diverged = [c for c in cells if c.text() == "diverged"]
    assert diverged and all("diverged at step" in c.toolTip() for c in diverged)


def test_room_for_eight_rows_with_the_sensitivity_panel_open(window, qtbot):
    window.resize(1600, 1000)
    window.show_sensitivity()
    qtbot.wait(50)
    board = window.leaderboard
    assert board.viewport().height() >= MIN_ROWS * board.verticalHeader().defaultSectionSize()
