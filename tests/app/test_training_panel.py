"""The Training panel: its widgets offer only what runs, drive a real run end to end on a worker thread, and the
charts receive the run's data; pause, resume and stop from the buttons; failures are one line in the status."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
import torch
from PySide6 import QtCore, QtWidgets

from optviz.app.shell.screenshot import train
from optviz.app.training.training_optimizers import SLIDER_WIDTH
from optviz.app.training.training_panel import TrainingPanel
from tests.app.helpers import overlapping, tick_labels

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def panel(qtbot):
    widget = TrainingPanel()
    widget.resize(1300, 700)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def combo_items(combo: QtWidgets.QComboBox) -> dict[str, bool]:
    """{text: enabled} for every entry of a combo box."""
    model = combo.model()
    return {
        combo.itemText(i): bool(model.item(i).flags() & QtCore.Qt.ItemFlag.ItemIsEnabled) for i in range(combo.count())
    }


def set_up(panel: TrainingPanel, *, model="mlp", dataset="xor", steps=20, batch=32) -> None:
    panel.setup.model.setCurrentText(model)
    panel.setup.dataset.setCurrentText(dataset)
    panel.setup.steps.setValue(steps)
    panel.setup.batch.setValue(batch)
    while panel.optimizers.entries:
        panel.optimizers.list.setCurrentRow(0)
        panel.optimizers.remove_button.click()


def pick(panel: TrainingPanel, qtbot, text: str) -> None:
    """Add an optimizer the way a person does: the Add button, type in the picker's search, Enter."""
    qtbot.mouseClick(panel.optimizers.add_button, QtCore.Qt.MouseButton.LeftButton)
    picker = panel.optimizers.picker
    assert picker.isVisible()
    picker.search.setText(text)
    picker.search.returnPressed.emit()
    assert not picker.isVisible()


def run_to_end(panel: TrainingPanel, qtbot) -> None:
    with qtbot.waitSignal(panel.finished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)


def test_only_what_can_run_is_offered(panel):
    setup = panel.setup
    setup.model.setCurrentText("cnn")
    assert setup.dataset.currentText() == "digits"  # switched to a data set the CNN reads
    items = combo_items(setup.dataset)
    assert items["digits"] and not items["moons"] and not items["modadd"]
    if not torch.cuda.is_available():
        assert not combo_items(setup.device)["cuda"]
        assert not combo_items(setup.precision)["fp16"]
        assert "CPU" in setup.device_reason.text() and "auto" in setup.device_reason.text()
    optimizers = panel.optimizers
    optimizers.add("rmsprop")
    assert [optimizers.impl.itemText(i) for i in range(optimizers.impl.count())] == ["for-loop", "foreach"]
    optimizers.add("lion")
    assert optimizers.impl.count() == 1 and not optimizers.impl.isEnabled()
    optimizers.add("adamw")
    assert optimizers.entries[-1].impl == "fused"  # the fastest path torch has here is the default
    names = set(optimizers.picker.visible_names())
    assert "adam8bit" in names and "adafactor" in names and "muon" not in names and "sparse_adam" not in names


def test_every_control_has_a_tooltip(panel):
    controls = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QListWidget)
    missing = [
        w.objectName() or type(w).__name__
        for w in panel.findChildren(QtWidgets.QWidget)
        if isinstance(w, controls)
        and w.isVisible()
        and not w.toolTip()
        and not isinstance(w.parent(), QtWidgets.QAbstractSpinBox)
    ]
    assert not missing


def test_schedule_preview_follows_the_schedule_and_steps(panel):
    panel.setup.steps.setValue(50)
    panel.setup.schedule.setCurrentText("warmup-cosine")
    xs, ys = panel.setup.preview.curve.getData()
    assert len(xs) == 50 and ys[0] < ys[10] and ys[-1] < 0.05
    panel.setup.schedule.setCurrentText("step")
    _xs, ys = panel.setup.preview.curve.getData()
    assert ys[0] == 1.0 and ys[-1] == pytest.approx(0.01)


def test_widgets_drive_a_run_and_the_charts_receive_its_data(panel, qtbot):
    set_up(panel, steps=20)
    panel.setup.schedule.setCurrentText("warmup-cosine")
    panel.setup.clip.setValue(1.0)
    pick(panel, qtbot, "adamw")
    form = panel.optimizers.form
    edit = form.rows["lr"].edit
    edit.setText("0.01")
    edit.editingFinished.emit()
    panel.optimizers.impl.setCurrentText("foreach")
    pick(panel, qtbot, "adafactor")
    run_to_end(panel, qtbot)

    config = panel.session.config
    assert config.steps == 20 and config.clip_grad_norm == 1.0 and config.schedule.name == "warmup-cosine"
    adamw, adafactor = config.optimizers
    assert (adamw.name, adamw.impl, adamw.hp["lr"]) == ("adamw", "foreach", 0.01)
    assert adafactor.name == "adafactor"
    charts = panel.charts
    for k in range(2):
        xs, ys = charts._train[k].getData()
        assert len(xs) == 20 and list(xs) == list(range(1, 21))
        # What the charts show is what the session computed on the worker thread.
        assert list(10**ys) == pytest.approx(panel.session.summaries[k].train_loss)  # log-y plots keep log10
        assert panel.runs[k].val_loss == panel.session.summaries[k].val_loss
        assert len(charts._val[k].getData()[0]) >= 1 and len(charts._acc[k].getData()[0]) >= 1
        assert len(charts._wall[k].getData()[0]) == 20
    assert all(run.memory is not None and run.status == "done" for run in panel.runs)
    bars = [item for item in charts.memory_rows.items if isinstance(item, pg.BarGraphItem)]
    assert bars and charts._pareto_items
    assert panel.progress.value() == panel.progress.maximum() == 40
    assert panel.status.text().startswith("Done") and panel.run_button.isEnabled()


def test_pause_resume_and_stop_from_the_buttons(panel, qtbot):
    set_up(panel, steps=5000)
    pick(panel, qtbot, "sgd")
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.is_running() and not panel.run_button.isEnabled() and not panel.setup.model.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.value() >= 5, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(panel.pause_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.session.control.paused and panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # let the batch in flight arrive
    held = panel.progress.value()
    qtbot.wait(300)
    assert panel.progress.value() == held < 5000  # nothing moves while paused
    qtbot.mouseClick(panel.pause_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.value() > held, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.finished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.stop_button, QtCore.Qt.MouseButton.LeftButton)
    assert [e.status for e in panel.ended] == ["stopped"]
    taken = len(panel.runs[0].train_loss)
    assert 0 < taken < 5000
    assert panel.progress.value() == taken < panel.progress.maximum() == 5000  # where Stop left it
    assert f"stopped at step {taken:,}" in panel.progress.text()
    assert "Stopped" in panel.status.text() and panel.run_button.isEnabled() and panel.setup.model.isEnabled()


def test_a_set_up_that_cannot_run_is_one_line_and_starts_nothing(panel, qtbot):
    set_up(panel)
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    assert not panel.is_running()
    assert "at least one optimizer" in panel.status.text() and "\n" not in panel.status.text()


def test_out_of_memory_ends_one_run_and_the_panel_goes_on(panel, qtbot, monkeypatch):
    original = torch.optim.SGD.step

    def exploding(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(torch.optim.SGD, "step", exploding)
    set_up(panel, steps=10)
    pick(panel, qtbot, "adam")
    pick(panel, qtbot, "sgd")
    run_to_end(panel, qtbot)
    monkeypatch.setattr(torch.optim.SGD, "step", original)
    statuses = {e.label: e.status for e in panel.ended}
    assert sorted(statuses.values()) == ["done", "oom"]
    assert "out of memory" in panel.status.text() and panel.status.property("error") is True
    assert len(panel.runs[0].train_loss) == 10 and panel.run_button.isEnabled()


def test_main_window_has_the_training_dock(window, qtbot):
    dock = window.docks["training"]
    assert dock.widget() is window.training_panel

    # The race's charts are the front tab at start (Qt keeps a tab behind "visible", placed off the window).
    def on_screen(name):
        return window.docks[name].geometry().intersects(window.rect())

    qtbot.waitUntil(lambda: on_screen("charts") and not on_screen("training"))
    window.show_training()
    qtbot.waitUntil(lambda: on_screen("training") and not on_screen("charts"))
    qtbot.waitUntil(lambda: window.training_panel.height() > window.height() // 3)


def wholly_visible(widget: QtWidgets.QWidget) -> bool:
    """Shown, and no ancestor (a scroll area, the dock, the window) hides any part of it."""
    return widget.isVisible() and widget.visibleRegion().boundingRect().size() == widget.size()


def show_training_at(window, qtbot, size: tuple[int, int]) -> TrainingPanel:
    window.resize(*size)
    window.default_layout()
    window.show_training()
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.height() > window.height() // 3)
    return panel


@pytest.mark.parametrize("size", [(1280, 800), (1600, 1000), (1920, 1080)])
def test_run_pause_and_stop_are_in_view_whatever_the_window_size(window, qtbot, size):
    panel = show_training_at(window, qtbot, size)
    for widget in (panel.run_button, panel.pause_button, panel.stop_button, panel.progress, panel.status):
        assert wholly_visible(widget), widget.text() if hasattr(widget, "text") else widget
        assert window.rect().contains(QtCore.QRect(widget.mapTo(window, QtCore.QPoint(0, 0)), widget.size()))


def test_hyperparameter_sliders_keep_a_width_that_reads(window, qtbot):
    panel = show_training_at(window, qtbot, (1280, 800))
    panel.optimizers.list.setCurrentRow(0)  # AdamW: lr, betas, eps, weight_decay
    form = panel.optimizers.form
    sliders = [row.slider for row in form.rows.values() if row.slider is not None]
    assert len(sliders) >= 4
    for slider in sliders:
        assert slider.width() >= SLIDER_WIDTH, slider.objectName()
    # The first row whole across the column: the slider and its value box, not cut by the column's edge.
    lr = form.rows["lr"]
    for widget in (lr.slider, lr.edit):
        assert widget.visibleRegion().boundingRect().width() == widget.width(), widget.objectName()


def test_screenshot_training_reaches_the_running_and_finished_states(window, qtbot):
    panel = show_training_at(window, qtbot, (1280, 800))
    train(window, pause_after=5)
    assert panel.is_running() and panel.session.control.paused and panel.progress.value() >= 5
    with qtbot.waitSignal(panel.finished, timeout=RUN_TIMEOUT_MS):
        panel.stop()
    train(window)
    assert not panel.is_running() and panel.status.text().startswith("Done")
    assert panel.progress.value() == panel.progress.maximum()


def scene_rect(item: pg.GraphicsObject, rect: QtCore.QRectF | None = None) -> QtCore.QRectF:
    return item.mapRectToScene(item.boundingRect() if rect is None else rect)


def bar_rects(item: pg.BarGraphItem) -> list[QtCore.QRectF]:
    """Each bar of a BarGraphItem (x0, centre y, height, widths), in scene pixels."""
    o = item.opts
    return [
        scene_rect(item, QtCore.QRectF(o["x0"], y - o["height"] / 2, w, o["height"]))
        for y, w in zip(o["y"], o["width"], strict=True)
    ]


def crowded(rects: list[QtCore.QRectF]) -> list[tuple[int, int]]:
    """Pairs of rectangles that overlap by more than a hair (a shared edge is not an overlap)."""
    return [
        (i, j)
        for i, a in enumerate(rects)
        for j, b in enumerate(rects[i + 1 :], i + 1)
        if (lambda r: r.width() > 0.5 and r.height() > 0.5)(a.intersected(b))
    ]


# Short, tall, narrow and wide: the panel's charts as a small dock, a maximised 1280x800, 1920x1080.
CHART_SIZES = [(700, 300), (1240, 300), (1300, 480), (1900, 640)]


def test_finished_charts_never_overlap_nor_clip_at_any_size(panel, qtbot):
    set_up(panel, steps=20)
    for name in ("adamw", "sgd", "adafactor", "lion"):
        pick(panel, qtbot, name)
    run_to_end(panel, qtbot)
    charts = panel.charts
    for size in CHART_SIZES:
        panel.resize(*size)
        qtbot.wait(60)
        where = f"at {size}"
        # The legend names every run, outside the plots (it covered the loss curves inside one).
        assert charts.legend.isVisible(), where
        assert all(run.label in charts.legend.text() for run in panel.runs)
        assert not charts.legend.geometry().intersects(charts.view.geometry()), where
        for plot in charts.plots:
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                assert "(x" not in axis.labelString(), (where, axis.labelString())  # no "(x0.001)"
                if axis.isVisible():
                    labels = tick_labels(axis)
                    assert not overlapping(labels), (where, plot.titleLabel.text, side, labels)
        # Bar charts: each text stays inside its plot and touches neither another text nor a bar.
        for rows in (charts.speed_rows, charts.memory_rows):
            view = scene_rect(rows.plot.getViewBox())
            texts = [scene_rect(item) for item in rows.items if isinstance(item, pg.TextItem)]
            bars = [r for item in rows.items if isinstance(item, pg.BarGraphItem) for r in bar_rects(item)]
            bars = [r for r in bars if not r.isEmpty()]  # SGD keeps no state: a bar of width 0
            assert bars, where
            for rect in texts + bars:
                assert view.adjusted(-0.5, -0.5, 0.5, 0.5).contains(rect), (where, rect, view)
            assert not crowded(texts), where
            assert not [(t, b) for t in texts for b in bars if crowded([t, b])], where
            if size[1] >= 480:  # room for a line of text over every bar: the names and values are there
                assert rows.labelled and len(texts) == 2 * len(panel.runs), where
        # The Pareto view: every bubble whole inside the plot.
        (scatter,) = charts._pareto_items
        view = scene_rect(charts.pareto.getViewBox())
        for point in scatter.points():
            centre = scatter.mapToScene(point.pos())
            r = point.size() / 2
            bubble = QtCore.QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)
            assert view.contains(bubble), (where, bubble, view)
