"""Charts: one curve per optimizer in its colour, a cursor that follows the race and scrubs it when dragged,
hover read-outs, and the optimizer-state memory bars."""

from __future__ import annotations

import re

import numpy as np
from PySide6 import QtCore

from optviz.app.readouts.memory_chart import PARAMS_PER_POINT
from optviz.core.optimizers import get_optimizer

LEFT = QtCore.Qt.MouseButton.LeftButton


def _widget_pos(charts, plot, x: float, y_fraction: float = 0.5) -> QtCore.QPoint:
    (_, _), (y0, y1) = plot.getViewBox().viewRange()
    scene = plot.getViewBox().mapViewToScene(QtCore.QPointF(x, y0 + y_fraction * (y1 - y0)))
    return charts.mapFromScene(scene)


def test_curves_in_optimizer_colours(window):
    model = window.model
    assert window.charts.lr_plot not in window.charts.shown_plots  # no schedule in this race: no lr chart
    for plot in window.charts.shown_plots:
        assert len(plot.runs) == 4
        for k, curve in enumerate(plot.runs):
            assert curve.opts["pen"].color().name() == model.color(k)
    loss = window.charts.plots[0]
    assert loss.log_y  # Rosenbrock's loss is positive: log axis
    x, _ = loss.runs[2].getData()
    assert len(x) == model.steps + 1


def test_cursor_follows_the_race(window, qtbot):
    window.model.set_cursor(321)
    for plot in window.charts.plots:
        assert plot.cursor.value() == 321
    window.transport.set_speed(1000)
    window.transport.play()
    qtbot.waitUntil(lambda: window.model.cursor > 400, timeout=5000)
    window.transport.pause()
    assert window.charts.plots[1].cursor.value() == window.model.cursor


def test_dragging_the_chart_cursor_scrubs(window, qtbot):
    model = window.model
    charts = window.charts
    model.set_cursor(200)
    qtbot.waitUntil(lambda: all(p.cursor.value() == 200 for p in charts.plots))
    plot = charts.plots[0]
    viewport = charts.viewport()
    start = _widget_pos(charts, plot, 200)
    end = _widget_pos(charts, plot, 700)
    qtbot.mousePress(viewport, LEFT, pos=start)
    for i in range(1, 11):
        qtbot.mouseMove(viewport, pos=start + (end - start) * (i / 10))
        qtbot.wait(5)
    qtbot.mouseRelease(viewport, LEFT, pos=end)
    assert abs(model.cursor - 700) < 25
    assert window.view_panel.scene_view.cursor == model.cursor  # the 3-D view scrubbed with it
    assert all(p.cursor.value() == model.cursor for p in charts.plots)
    assert window.transport_bar.timeline.value() == int(model.cursor)


def test_hover_shows_step_and_value(window, qtbot):
    charts = window.charts
    plot = charts.plots[0]
    model = window.model
    k = 1
    step = 400
    value = float(model.result.losses[k, 0, step])
    # Point at the curve itself: the nearest curve (in log y) to the pointer is reported.
    scene = plot.getViewBox().mapViewToScene(QtCore.QPointF(step, np.log10(value)))
    qtbot.mouseMove(charts.viewport(), pos=charts.mapFromScene(scene))
    qtbot.waitUntil(lambda: plot.hover_text.isVisible(), timeout=2000)
    text = plot.hover_text.textItem.toPlainText()
    shown = int(re.search(r"step (\d+)", text).group(1))
    steps_per_pixel = plot.getViewBox().viewPixelSize()[0]
    assert abs(shown - step) <= steps_per_pixel + 1
    assert model.display_name(k) in text


def test_memory_bars(window):
    chart = window.memory_chart
    model = window.model
    assert [r[0] for r in chart.rows] == [model.display_name(k) for k in range(4)]
    for k, (_name, total, per_param, color) in enumerate(chart.rows):
        assert color == model.color(k)
        spec = get_optimizer(model.optimizers[k].name)
        assert per_param == spec.state_bytes(model.hyperparams(k))
        assert total == per_param * PARAMS_PER_POINT
    assert chart.label(0) == "0 B · 0 B/param"  # SGD without momentum keeps no buffer
    assert chart.label(1) == "8 B · 4 B/param"  # with momentum, one
    assert chart.label(2) == "16 B · 8 B/param"  # Adam: two fp32 moments per parameter
    model.set_hyperparam(0, "momentum", 0.9)
    assert chart.label(0) == "8 B · 4 B/param"
    assert "7B-parameter model: 56 GB" in chart.toolTip()
