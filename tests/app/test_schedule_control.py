"""The race panel's lr schedule: it writes the selected optimizer's schedule (one undo step), the race uses it,
the charts show a Learning rate chart and the leaderboard an lr column while one is set, and they go again."""

from __future__ import annotations

import numpy as np

from optviz.app.readouts.leaderboard import LR_COLUMN
from optviz.app.readouts.metrics import format_value
from optviz.core.race.lr_schedule import LrSchedule, lr_values


def test_schedule_writes_the_optimizer_and_the_readouts_show_its_lr(window):
    model, control = window.model, window.race_panel.editor.schedule
    charts, board = window.charts, window.leaderboard
    model.select(1)
    assert control.kind.currentData() == "constant" and control.form.isHidden()
    assert window.settle(60)
    assert charts.lr_plot not in charts.shown_plots and board.isColumnHidden(LR_COLUMN)

    control.kind.setCurrentIndex(control.kind.findData("step"))
    edit = control.form.rows["gamma"].edit
    edit.setText("0.5")
    edit.editingFinished.emit()
    assert model.scene.optimizers[1].schedule == LrSchedule("step", {"gamma": 0.5})
    assert model.display_name(1).endswith("(step:gamma=0.5)")
    assert window.settle(60)
    charts.apply_pending_results()
    board.refresh()
    result = model.result
    lr = model.hyperparams(1)["lr"]
    want = lr_values(LrSchedule("step", {"gamma": 0.5}), lr, model.steps)
    np.testing.assert_array_equal(result.learning_rates[1, 1:], want)
    np.testing.assert_array_equal(control.preview.values, want)
    assert charts.lr_plot in charts.shown_plots
    np.testing.assert_allclose(charts.lr_plot.value_at(1, model.steps), want[-1])
    assert not board.isColumnHidden(LR_COLUMN)
    model.set_cursor(model.steps)
    board.refresh()
    row = board.row_of(1)
    assert board.item(row, LR_COLUMN).text() == format_value(want[-1])

    edit.setText("7")  # gamma is at most 1
    edit.editingFinished.emit()
    assert "out of range" in control.form.message.text()
    assert model.scene.optimizers[1].schedule == LrSchedule("step", {"gamma": 0.5})

    window.history.stack.undo()  # the gamma edit
    window.history.stack.undo()  # choosing "step"
    assert model.scene.optimizers[1].schedule is None
    assert control.kind.currentData() == "constant"
    assert window.settle(60)
    charts.apply_pending_results()
    board.refresh()
    assert charts.lr_plot not in charts.shown_plots and board.isColumnHidden(LR_COLUMN)
