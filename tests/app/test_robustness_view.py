"""The Training panel's Robustness tab: the test runs on the panel's optimizers and set-up on a worker thread,
the table fills with one outcome per optimizer x case (with and without clipping) coloured by outcome with the
reason on hover, a click draws that run's loss beside the untouched run, and Cancel leaves the panel usable."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from optviz.app.training.robustness_view import BAD, GOOD, OUTCOME_COLORS
from optviz.app.training.training_panel import TrainingPanel
from optviz.core.learn.robustness import CASES, SHORT

WAIT_S = 120


@pytest.fixture
def panel(qtbot):
    widget = TrainingPanel()
    widget.resize(1300, 700)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.setup.model.setCurrentText("mlp")
    widget.setup.dataset.setCurrentText("xor")
    widget.setup.batch.setValue(32)
    widget.optimizers.clear()
    widget.optimizers.add("sgd")
    widget.optimizers.add("adam")
    view = widget.robustness
    view.at_step.setValue(2)
    view.after.setValue(3)
    widget.tabs.setCurrentWidget(view)
    yield widget
    widget.shutdown()


def test_the_table_fills_coloured_by_outcome_and_a_click_draws_the_curve(panel, qtbot):
    view = panel.robustness
    qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    assert view.job.running and not view.run_button.isEnabled()
    assert view.job.wait(WAIT_S)
    assert view.report is not None, view.status.text()
    table = view.table
    assert table.rowCount() == 4 and table.columnCount() == len(CASES)  # (sgd, adam) x (clip off, clip 1)
    assert [table.verticalHeaderItem(r).text().split(" ·")[0] for r in (0, 2)] == ["SGD", "Adam"]
    assert table.verticalHeaderItem(1).text() == table.verticalHeaderItem(3).text() == "+ clip 1"
    words = set(SHORT.values())
    colours = set()
    for r in range(4):
        for c in range(len(CASES)):
            cell = table.item(r, c)
            _, result = view.cell(r, c)
            assert cell.text().rstrip("*") in words and cell.text() == result.short
            colour = cell.background().color().name()
            assert colour == OUTCOME_COLORS[result.outcome.split(":")[0]]
            assert result.outcome in cell.toolTip() and result.case in cell.toolTip()
            colours.add(colour)
    nan_column = list(CASES).index("nan")
    assert table.item(0, nan_column).background().color().name() == BAD  # SGD takes the NaN into its weights
    assert GOOD in colours
    column = list(CASES).index("exploding")
    rect = table.visualItemRect(table.item(2, column))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    _, result = view.cell(2, column)
    xs, _ = view.event_line.getData()
    assert list(xs) == result.window_steps and view.event_mark.value() == 2
    assert len(view.baseline_line.getData()[0]) == len(result.window_steps)
    assert "Adam" in view.legend.text() and "exploding" in view.legend.text()
    assert table.item(2, column).font().bold() and not table.item(0, 0).font().bold()

    # Every case is in view without scrolling sideways, in a panel as narrow as the Training dock at 1280x800;
    # the curve keeps its minimum width, and the panel can still be made narrower.
    narrowest = panel.minimumSizeHint().width()
    for width in (1300, 1000):
        panel.resize(width, 700)
        qtbot.wait(20)
        assert table.horizontalHeader().length() <= table.viewport().width(), width
        assert view.plot.width() >= view.plot.minimumWidth(), width
    assert panel.minimumSizeHint().width() <= narrowest  # the shares are stretch factors, not minimum widths


def test_cancel_leaves_the_panel_usable(panel, qtbot):
    view = panel.robustness
    view.after.setValue(2000)  # long enough to still be running when Cancel is pressed
    assert view.run()
    qtbot.mouseClick(view.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert not view.job.running and view.run_button.isEnabled() and "Cancelled" in view.status.text()
    assert view.report is None and view.table.rowCount() == 0
    view.after.setValue(2)
    assert view.run() and view.job.wait(WAIT_S) and view.table.rowCount() == 4


def test_a_set_up_that_cannot_run_is_one_line(panel):
    panel.optimizers.clear()
    assert not panel.robustness.run()
    assert panel.robustness.status.text() == "give at least one optimizer"
