"""Transport: play / pause (space), single step (right and left arrows), restart (R), speed, total steps,
counter; a loaded scene plays like the launch, with the keys on the view."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from optviz.app.race.transport import MAX_SPEED, MIN_SPEED


def test_play_pause_step_restart_with_shortcuts(window, qtbot):
    model = window.model
    transport = window.transport
    with qtbot.waitActive(window):  # shortcuts are per window: it must be the active one
        window.activateWindow()
    assert QtWidgets.QApplication.focusWidget() is window.view_panel.gl
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Space)
    assert transport.playing
    qtbot.waitUntil(lambda: model.cursor > 5, timeout=5000)
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Space)
    assert not transport.playing
    at = int(model.cursor)
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Right)
    assert model.cursor == at + 1 and not transport.playing
    assert window.transport_bar.counter.text() == f"{at + 1:,} / {model.steps:,}"
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Left)
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Left)
    assert model.cursor == at - 1 and not transport.playing
    model.set_cursor(at + 0.5)  # between two steps: back goes to the whole step before
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_Left)
    assert model.cursor == at
    qtbot.keyClick(window.view_panel.gl, QtCore.Qt.Key.Key_R)
    assert transport.playing and model.cursor < 50
    transport.pause()


def test_space_in_a_text_box_types_a_space(window, qtbot):
    model = window.model
    model.set_surface_kind("custom")
    assert window.settle(60)
    box = window.surface_panel.formula
    box.setFocus()
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Space)
    assert not window.transport.playing
    assert box.text().endswith(" ") or " " in box.text()


def test_speed_and_end_of_race(window, qtbot):
    model = window.model
    transport = window.transport
    bar = window.transport_bar
    bar.speed.setValue(bar.speed.maximum())
    assert transport.speed == MAX_SPEED
    bar.speed.setValue(0)
    assert transport.speed == MIN_SPEED
    assert bar.speed_value.text() == "1 steps/s"
    transport.set_speed(1000)
    model.set_cursor(model.steps - 30)
    transport.play()
    qtbot.waitUntil(lambda: not transport.playing, timeout=5000)  # stops at the end
    assert model.cursor == model.steps
    transport.play()  # play at the end starts over
    assert model.cursor < 50
    transport.pause()


def test_total_steps_re_races(window, qtbot):
    model = window.model
    window.transport_bar.total.setValue(300)
    assert window.settle(60)
    assert model.steps == 300 and model.result.steps == 300
    assert window.transport_bar.timeline.maximum() == 300
    model.set_cursor(10_000)
    assert model.cursor == 300


def test_timeline_scrubs(window, qtbot):
    window.transport_bar.timeline.setValue(123)
    assert window.model.cursor == 123
    assert window.view_panel.scene_view.cursor == 123


def test_an_example_plays_like_the_launch_with_the_keys_on_the_view(window, qtbot):
    from optviz.resources import example_scenes

    with qtbot.waitActive(window):
        window.activateWindow()
    window.surface_panel.setFocus()
    window.autoplay = True
    assert window.files.open_example(example_scenes()[0])
    assert window.settle(120)
    qtbot.waitUntil(lambda: window.transport.playing, timeout=5000)
    assert QtWidgets.QApplication.focusWidget() is window.view_panel.gl
    window.transport.pause()
