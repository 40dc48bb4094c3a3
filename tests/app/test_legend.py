"""The legend over the view: a title that fits the race, each optimizer's loss at the cursor, and a corner that
covers least of the picture (never a head or a start ring when a corner is free of them)."""

from __future__ import annotations

import html

import numpy as np

from optviz.app.readouts import metrics


def test_the_title_is_the_scene_s_only_while_it_fits_the_race(window):
    model, legend = window.model, window.view_panel.legend
    title = model.scene.title
    assert title and html.escape(title) in legend.text()
    model.add_optimizer("lamb")
    assert model.display_title() == f"5 optimizers on {model.surface.title}"
    assert html.escape(title) not in legend.text() and "5 optimizers on" in legend.text()
    assert window.settle()
    race = model.shown_race()
    assert race is not None and race[0].title == model.display_title()  # exports say the same
    model.remove_optimizer(len(model.optimizers) - 1)
    assert model.display_title() == title  # back to the race it was written for
    model.set_enabled(0, False)
    assert model.display_title() == f"3 optimizers on {model.surface.title}"


def test_each_line_reads_its_loss_at_the_cursor(window):
    model, legend = window.model, window.view_panel.legend
    model.set_cursor(300)
    window.settle()
    for k in model.shown_runs():
        loss = metrics.standing(model.result, k, 300).loss
        assert metrics.format_value(loss) in legend.text()
    model.set_cursor(600)
    loss = metrics.standing(model.result, 0, 600).loss
    assert metrics.format_value(loss) in legend.text()


def test_the_legend_sits_where_it_hides_least(window, qtbot):
    legend = window.view_panel.legend
    gl = window.view_panel.gl
    window.model.set_cursor(700)
    window.settle()
    legend.place()
    corners = legend.corners()
    costs = {name: legend.covered(rect) for name, rect in corners.items()}
    assert costs[legend.corner] == min(costs.values())
    assert legend.geometry() == corners[legend.corner]
    # No head and no start ring under it when some corner has none.
    pixels, weights = window.view_panel.scene_view.occupied_pixels((gl.width(), gl.height()))
    markers = pixels[weights >= 12.0]
    if any(cost < 12.0 for cost in costs.values()):
        r = legend.geometry()
        inside = (markers[:, 0] >= r.left()) & (markers[:, 0] <= r.right())
        inside &= (markers[:, 1] >= r.top()) & (markers[:, 1] <= r.bottom())
        assert not inside.any()
    assert legend.width() <= max(230, gl.width() // 3)  # a long title wraps instead of widening it
    assert np.isfinite(pixels).all()


def test_a_long_name_wraps_the_title_but_never_cuts_a_row(make_window):
    """At 1280x800 the spike scene's long title and "SGD + momentum ✕ diverged" pushed the losses out of the box:
    the box may grow past a third of the view for its rows (the title wraps), never cut one."""
    from optviz.core.scene import OptimizerEntry, Scene

    scene = Scene(
        surface="rosenbrock",
        title="A long title that has to wrap over several lines of the legend box in a narrow view",
        optimizers=[
            OptimizerEntry("momentum", label="momentum with a rather long label, clipped"),
            OptimizerEntry("adam"),
        ],
        steps=200,
    )
    window = make_window(scene, size=(1280, 800))
    window.model.set_cursor(150)
    assert window.settle()
    legend = window.view_panel.legend
    rows = legend._ideal_width(legend._table)
    assert legend.width() >= rows > legend.parentWidget().width() // 3
    assert legend.width() < legend._ideal_width(legend.text())  # the title wraps instead
    assert metrics.format_value(metrics.standing(window.model.result, 0, 150).loss) in legend.text()
