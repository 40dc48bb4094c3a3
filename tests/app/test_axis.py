"""Chart axes that read: tick labels never overlap at any chart size, on log and linear axes, and read like 1e-3;
every chart in the app uses the one axis; the charts get room; the distance chart is never empty."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui

from optviz.app.readouts import metrics
from optviz.app.widgets.axis import CompactAxis, compact_axes, format_tick
from optviz.core.scene import Scene, default_scene, load_scene
from optviz.resources import example_scenes
from tests.app.helpers import overlapping, tick_labels

LABEL = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")  # 0.01, 250, 1e-3, 1.5e4: no "x0.001", no superscripts


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-3, "1e-3"),
        (5e-3, "5e-3"),
        (0.01, "0.01"),
        (0.2, "0.2"),
        (1.0, "1"),
        (100.0, "100"),
        (2500.0, "2500"),
        (1e4, "1e4"),
        (1.5e4, "1.5e4"),
        (1e-12, "1e-12"),
        (-5.0, "-5"),
        (0.0, "0"),
    ],
)
def test_format_tick(value, text):
    assert format_tick(value) == text


@pytest.mark.parametrize(
    ("value", "step", "text"),
    [(0.1 + 0.2, 0.1, "0.3"), (0.15, 0.05, "0.15"), (1.2e4, 2e3, "1.2e4"), (1e-17, 0.1, "0"), (250, 50, "250")],
)
def test_format_tick_keeps_the_digits_of_the_step(value, step, text):
    assert format_tick(value, step) == text


def _plot(qtbot, log: bool, lo: float, hi: float, size: tuple[int, int], axis_cls=CompactAxis) -> pg.PlotWidget:
    widget = pg.PlotWidget(axisItems={"left": axis_cls("left"), "bottom": axis_cls("bottom")})
    qtbot.addWidget(widget)
    item = widget.getPlotItem()
    item.setLogMode(x=False, y=log)
    item.setLabel("bottom", "step")
    item.setLabel("left", "loss")  # a shown title is where pyqtgraph would add "(x0.001)"
    x = np.arange(1001, dtype=float)
    y = np.geomspace(hi, lo, len(x)) if log else np.linspace(hi, lo, len(x))
    item.plot(x, y)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(10)
    return widget


RANGES = [
    (True, 1e-6, 1e2),  # eight decades (a loss falling to 1e-6)
    (True, 2e-3, 3e-1),  # two decades
    (True, 0.45, 0.9),  # less than one
    (True, 1e-30, 1e10),  # forty
    (False, -8.9, 4.2),  # the saddle's loss
    (False, 0.0, 1.0),
    (False, 12_000.0, 12_000.5),
]


@pytest.mark.parametrize(("log", "lo", "hi"), RANGES)
@pytest.mark.parametrize("size", [(170, 70), (260, 120), (420, 200), (700, 480), (1400, 900)])
def test_tick_labels_never_overlap(qtbot, log, lo, hi, size):
    widget = _plot(qtbot, log, lo, hi, size)
    for side in ("left", "bottom"):
        axis = widget.getPlotItem().getAxis(side)
        labels = tick_labels(axis)
        assert labels, f"{side} axis at {size}: no label at all"
        assert not overlapping(labels), f"{side} axis at {size}: {overlapping(labels)}"
        for _rect, text in labels:
            assert LABEL.match(text), text
        assert "(x" not in axis.labelString()
    # Fewer ticks on a short axis than on a tall one, labels at least a line apart.
    left = tick_labels(widget.getPlotItem().getAxis("left"))
    centres = sorted(rect.center().y() for rect, _ in left)
    line = QtGui.QFontMetricsF(widget.getPlotItem().getAxis("left")._font()).height()
    assert all(b - a >= line for a, b in pairwise(centres))


def test_a_short_log_axis_shows_decades_only(qtbot):
    widget = _plot(qtbot, True, 1e-6, 1e2, (300, 110))
    texts = [text for _, text in tick_labels(widget.getPlotItem().getAxis("left"))]
    assert texts and all(re.fullmatch(r"1(e-?\d+)?|0\.01|0\.1|10|100", t) for t in texts), texts
    tall = _plot(qtbot, True, 2e-3, 3e-1, (300, 600))
    texts = [text for _, text in tick_labels(tall.getPlotItem().getAxis("left"))]
    assert {"5e-3", "0.01", "0.02", "0.05", "0.1", "0.2"} <= set(texts)  # room: 1, 2 and 5 in each decade


def test_pyqtgraphs_own_axis_piles_labels_up(qtbot):
    """The check above catches the reported pile-up: pyqtgraph's axis overlaps where `CompactAxis` does not."""
    widget = _plot(qtbot, True, 0.12, 8.0, (260, 110), axis_cls=pg.AxisItem)
    assert overlapping(tick_labels(widget.getPlotItem().getAxis("left")))


def _axes_of(item: pg.PlotItem) -> list[pg.AxisItem]:
    return [item.getAxis(side) for side in ("left", "bottom")]


def test_every_chart_uses_the_compact_axis(window):
    plots = list(window.charts.shown_plots)
    plots.append(window.sensitivity.map.plot)
    plots.append(window.sensitivity.tune_plot.getPlotItem())
    charts = window.training_panel.charts
    plots += [charts.loss_step, charts.loss_wall, charts.accuracy, charts.speed, charts.memory, charts.pareto]
    for plot in plots:
        for axis in _axes_of(plot):
            assert isinstance(axis, CompactAxis), plot
    assert set(compact_axes()) == {"left", "bottom"}


def test_race_charts_labels_never_overlap(window, qtbot):
    for size in ((1280, 800), (1920, 1080)):
        window.resize(*size)
        window.default_layout()
        qtbot.wait(50)
        for plot in window.charts.shown_plots:
            for axis in _axes_of(plot):
                labels = tick_labels(axis)
                assert labels and not overlapping(labels), (plot.title, [t for _, t in labels])


def test_charts_have_room_at_1600_by_1000(make_window):
    window = make_window(size=(1600, 1000))
    for plot in window.charts.shown_plots:
        assert plot.height() >= 180, plot.height()
        assert plot.getViewBox().height() >= 150
    assert window.view_panel.height() >= 450  # the 3-D view keeps most of the height


def test_a_resized_charts_dock_is_remembered(make_window, qtbot):
    first = make_window(size=(1600, 1000))
    dock = first.docks["charts"]
    default = dock.height()
    first.resizeDocks([dock], [420], QtCore.Qt.Orientation.Vertical)
    qtbot.wait(50)
    heights = dock.height()
    assert heights >= default + 80  # 420 for the dock area, its tab bar included
    first.save_layout()
    second = make_window(size=(1600, 1000))
    qtbot.wait(50)
    assert abs(second.docks["charts"].height() - heights) <= 8


def _saddle_scene() -> Scene:
    path = next(p for p in example_scenes() if "saddle" in p.stem)
    return load_scene(path)


def test_distance_chart_on_a_saddle_shows_distance_from_start(make_window):
    window = make_window(_saddle_scene())
    assert not window.model.surface.minima
    plot = window.charts.plots[3]
    assert plot.title == "Distance from start"
    assert "Distance from start" in plot.titleLabel.text
    result = window.model.result
    for k, curve in enumerate(plot.runs):
        _, log_y = curve.getData()  # log axis: log10 of the values
        y = 10**log_y
        moved = np.hypot(*(result.positions[k, 0] - result.starts[0]).T)
        expected = np.where(moved > 0, moved, np.nan)
        np.testing.assert_allclose(y, expected, rtol=1e-9, equal_nan=True)
        assert np.isfinite(y).sum() > len(y) // 2  # a curve, not an empty box
    labels = tick_labels(plot.getAxis("left"))
    assert labels and not overlapping(labels)
    # Back on a surface with a known minimum: the distance to it again.
    window.model.replace_scene(default_scene())
    assert window.settle(120)
    assert plot.title == "Distance to minimum"
    _, log_y = plot.runs[0].getData()
    np.testing.assert_allclose(10 ** log_y[1:], metrics.series(window.model.result, 0, "distances")[1:], rtol=1e-9)
