"""Edit > Undo and Redo: every kind of scene edit goes back and forth to the exact scene, a drag is one step."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6 import QtCore, QtWidgets

from optviz.core.scene import scene_to_toml
from tests.app.helpers import drag_slider

LEFT = QtCore.Qt.MouseButton.LeftButton
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier


def _pixel_of(window, x: float, y: float) -> QtCore.QPoint:
    px, py = window.view_panel.scene_view.screen_position(x, y)
    return QtCore.QPoint(round(px), round(py))


def _lr_drag(window):
    for i in range(10):  # a drag: ten moves of one slider, one gesture
        window.model.set_hyperparam(1, "lr", 0.001 * (i + 2))


def _surface_params(window):
    window.model.set_surface_kind("himmelblau")
    window.history.end_gesture()
    for i in range(5):  # a drag of the noise slider: one step
        window.model.set_surface_param("noise", 0.02 * (i + 1))


def _pathology(window):
    """Through the Surface panel's controls: pick spikes, then type a factor (one step each)."""
    box = window.surface_panel.pathology
    box.kind.setCurrentIndex(box.kind.findData("spike"))
    window.history.end_gesture()
    edit = box.form.rows["factor"].edit
    edit.setText("50")
    edit.editingFinished.emit()
    assert window.model.scene.perturbation.params["factor"] == 50.0


def _clip(window):
    """Through the race panel: clip SGD + momentum by norm."""
    window.model.select(1)
    clip = window.race_panel.editor.clip
    clip.kind.setCurrentIndex(clip.kind.findData("norm"))
    assert window.model.scene.optimizers[1].clip.kind == "norm"


# (what the edit does, how many steps it leaves, the last step's undo text)
EDITS = {
    "add": (lambda w: w.model.add_optimizer("adagrad"), 1, "Undo Add AdaGrad"),
    "remove": (lambda w: w.model.remove_optimizer(0), 1, "Undo Remove SGD"),
    "duplicate": (lambda w: w.model.duplicate_optimizer(2), 1, "Undo Duplicate Adam"),
    "hyperparameter": (_lr_drag, 1, "Undo Change lr of SGD + momentum"),
    "surface": (lambda w: w.model.set_surface_kind("himmelblau"), 1, "Undo Change surface to Himmelblau"),
    "surface parameters": (_surface_params, 2, "Undo Change noise of Himmelblau"),
    "start": (lambda w: [w.model.set_start(0.1 * i, -0.1 * i) for i in range(8)], 1, "Undo Move start point"),
    "hide": (lambda w: w.model.set_enabled(1, False), 1, "Undo Hide SGD + momentum"),
    "gradient pathology": (_pathology, 2, "Undo Change gradient pathology"),
    "clipping": (_clip, 1, "Undo Change clipping of SGD + momentum"),
}


@pytest.mark.parametrize("kind", EDITS)
def test_each_edit_undoes_and_redoes_to_the_exact_scene(window, kind):
    edit, steps, text = EDITS[kind]
    model, stack = window.model, window.history.stack
    before = scene_to_toml(model.scene)
    edit(window)
    after = scene_to_toml(model.scene)
    assert after != before
    assert stack.count() == steps
    assert window.undo_action.text().replace("&", "") == text
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    for _ in range(steps):
        window.undo_action.trigger()
    assert scene_to_toml(model.scene) == before
    assert window.redo_action.isEnabled() and window.redo_action.text().replace("&", "").startswith("Redo ")
    for _ in range(steps):
        window.redo_action.trigger()
    assert scene_to_toml(model.scene) == after


def test_a_slider_drag_is_one_step_and_the_next_drag_another(window, qtbot):
    model, stack = window.model, window.history.stack
    model.select(2)
    lr = model.hyperparams(2)["lr"]
    slider = window.race_panel.editor.form.slider("lr")
    drag_slider(qtbot, slider, 60, moves=10)
    assert window.settle(60)
    assert stack.count() == 1 and stack.undoText() == "Change lr of Adam"
    dragged = model.hyperparams(2)["lr"]
    drag_slider(qtbot, slider, 40, moves=10)
    assert window.settle(60)
    assert stack.count() == 2
    window.undo_action.trigger()
    assert model.hyperparams(2)["lr"] == dragged
    window.undo_action.trigger()
    assert model.hyperparams(2)["lr"] == lr


def test_a_shift_drag_of_the_start_is_one_step(window, qtbot):
    model, gl = window.model, window.view_panel.gl
    starts = list(model.scene.starts)
    pixels = [_pixel_of(window, *xy) for xy in [(-1.0, 2.0), (-0.5, 1.5), (0.0, 1.0), (0.5, 0.5)]]
    qtbot.mousePress(gl, LEFT, SHIFT, pos=pixels[0])
    for p in pixels[1:]:
        qtbot.mouseMove(gl, pos=p)
        qtbot.wait(10)
    qtbot.mouseRelease(gl, LEFT, SHIFT, pos=pixels[-1])
    assert window.settle(60)
    assert window.history.stack.count() == 1
    window.undo_action.trigger()
    assert model.scene.starts == starts


def test_undo_re_races_the_restored_scene(window):
    model = window.model
    model.remove_optimizer(0)
    model.set_hyperparam(1, "lr", 0.02)
    assert window.settle(60)
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.settle(60)
    assert model.result is not None and len(model.result.configs) == len(model.optimizers) == 4
    for k in range(len(model.optimizers)):
        assert model.result.configs[k].optimizer == model.optimizers[k].name
        assert model.result.configs[k].hyperparams == model.hyperparams(k)


def test_a_new_edit_after_undo_clears_redo(window):
    model, stack = window.model, window.history.stack
    model.add_optimizer("adagrad")
    model.add_optimizer("lion")
    window.undo_action.trigger()
    assert window.redo_action.isEnabled()
    model.set_start(0.5, 0.5)
    assert not window.redo_action.isEnabled()
    assert stack.count() == 2 and stack.undoText() == "Move start point"


def test_undo_does_not_record_itself(window):
    model, stack = window.model, window.history.stack
    model.set_hyperparam(0, "lr", 0.01)
    window.undo_action.trigger()
    window.redo_action.trigger()
    window.undo_action.trigger()
    assert stack.count() == 1 and stack.index() == 0


def test_loading_a_scene_clears_the_history(window):
    window.model.remove_optimizer(0)
    window.model.mark_clean()  # no unsaved-changes prompt
    window.files.new()
    assert window.history.stack.count() == 0
    assert not window.undo_action.isEnabled()


def test_tuning_and_its_undo_button_are_one_step_each(window):
    model, panel = window.model, window.sensitivity
    before = scene_to_toml(model.scene)
    panel._undo = {k: dict(e.hyperparams) for k, e in enumerate(model.optimizers)}  # as `_tuned` keeps them
    model.apply_tuning({0: {"lr": 0.003}, 2: {"lr": 0.05, "beta1": 0.8}}, {0: "tuned: lr", 2: "tuned: lr"})
    panel.undo_button.setEnabled(panel._tuning_undoable())
    tuned = scene_to_toml(model.scene)
    assert window.history.stack.count() == 1 and window.undo_action.text().replace("&", "") == "Undo Tune all"
    window.undo_action.trigger()
    assert scene_to_toml(model.scene) == before and not model.tuned(0)
    assert not panel.undo_button.isEnabled()  # nothing left for the button to give back
    window.redo_action.trigger()
    assert scene_to_toml(model.scene) == tuned and model.tuned(2) == "tuned: lr"
    assert panel.undo_button.isEnabled()
    panel.undo_button.click()
    assert scene_to_toml(model.scene) == before
    assert window.history.stack.count() == 2 and window.undo_action.text().replace("&", "") == "Undo Undo tuning"
    window.undo_action.trigger()
    assert scene_to_toml(model.scene) == tuned


def test_ctrl_z_on_the_view_undoes_and_a_text_box_keeps_its_own(window, qtbot):
    model, stack = window.model, window.history.stack
    model.add_optimizer("adagrad")
    with qtbot.waitActive(window):  # shortcuts are per window: it must be the active one
        window.activateWindow()
    gl = window.view_panel.gl
    assert QtWidgets.QApplication.focusWidget() is gl
    qtbot.keyClick(gl, QtCore.Qt.Key.Key_Z, CTRL)
    assert len(model.optimizers) == 4 and stack.index() == 0
    qtbot.keyClick(gl, QtCore.Qt.Key.Key_Z, CTRL | SHIFT)
    assert len(model.optimizers) == 5 and stack.index() == 1

    edit = window.race_panel.editor.form.rows["lr"].edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    edit.selectAll()
    qtbot.keyClicks(edit, "0.5")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Z, CTRL)
    assert edit.text() != "0.5"  # the box undid its typing
    assert stack.index() == 1 and len(model.optimizers) == 5  # the scene did not change


def test_undoing_adds_before_their_race_lands_keeps_the_result_it_has(qapp):
    # No scheduler: the result keeps the runs of the scene before the adds, as while a race is on its way.
    from optviz.app.model import SceneModel
    from optviz.app.shell.undo import SceneHistory
    from optviz.core.scene import default_scene

    scene = dataclasses.replace(default_scene(), steps=20)
    model = SceneModel(scene)
    history = SceneHistory(model)
    model.set_result(scene.run(), None)
    model.add_optimizer("adagrad")
    model.add_optimizer("lion")
    history.stack.undo()
    assert len(model.optimizers) == 5 and len(model.result.configs) == 4
    model.set_result(model.snapshot().run(), None)
    history.stack.undo()  # now the result has this scene's runs: the undone add's run goes at once
    assert len(model.optimizers) == len(model.result.configs) == 4


def test_the_panels_follow_an_undo(window):
    model = window.model
    model.set_surface_kind("himmelblau")
    model.remove_optimizer(2)
    model.select(0)
    model.set_hyperparam(0, "lr", 0.004)
    assert window.settle(60)
    for _ in range(3):
        window.undo_action.trigger()
    assert window.settle(60)
    assert window.surface_panel.combo.currentData() == "rosenbrock"
    names = [row.name.text().split("<")[0] for row in window.race_panel.rows]  # the name, before its lr
    assert names == ["SGD", "SGD + momentum", "Adam", "Lion"]
    assert window.leaderboard.rowCount() == 4
    assert float(window.race_panel.editor.form.rows["lr"].edit.text()) == model.hyperparams(0)["lr"] != 0.004
