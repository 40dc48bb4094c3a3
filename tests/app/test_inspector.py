"""The step inspector: the selected optimizer's step at the cursor, with the library's state by torch's names,
Previous/Next moving the cursor, and Follow keeping the head centred."""

from __future__ import annotations

import numpy as np

from optviz.app.inspect.inspector_panel import format_cells
from optviz.core.race.inspect import record_steps


def _open(window, qtbot, k: int, cursor: int):
    window.show_panel("inspector")
    panel = window.inspector
    qtbot.waitUntil(panel.isVisible, timeout=3000)
    window.model.select(k)
    window.model.set_cursor(cursor)
    assert window.view_panel.step_records.wait(60)
    qtbot.waitUntil(lambda: panel.step == min(cursor + 1, window.model.steps) and bool(panel.rows), timeout=5000)
    return panel


def test_it_shows_the_library_state_of_the_cursor_s_step(window, qtbot):
    model = window.model
    adam = next(k for k, e in enumerate(model.optimizers) if e.name == "adam")
    panel = _open(window, qtbot, adam, 9)  # the head at step 9: the inspector shows step 10
    scene = model.snapshot()
    surface = scene.build_surface()
    truth = record_steps(surface, scene.run_config(adam), scene.start_points(surface)[0], 10, scene.seed)[-1]
    rows = {label: (x, y) for label, x, y in panel.rows}
    assert rows["state['exp_avg']"] == format_cells(truth.state["exp_avg"])
    assert rows["state['exp_avg_sq']"] == format_cells(truth.state["exp_avg_sq"])
    assert rows["state['step']"] == format_cells(truth.state["step"])
    assert rows["update (after − before)"] == format_cells(
        model.result.positions[adam, 0, 10] - model.result.positions[adam, 0, 9]
    )
    assert any(label.startswith("m̂") for label in rows) and any(label.startswith("denominator") for label in rows)
    assert "step 10 of" in panel.title.text() and "Adam" in panel.title.text()
    assert panel.note.text().count(".") >= 2  # the plain-language note the registry holds for Adam
    from optviz.core.optimizers import get_optimizer

    assert panel.rule.text().replace(";\n", ";  ") == get_optimizer("adam").update_rule  # one statement a line


def test_previous_and_next_move_the_cursor_and_the_numbers_follow(window, qtbot):
    model = window.model
    panel = _open(window, qtbot, 0, 20)
    before = list(panel.rows)
    panel.next_button.click()
    assert model.cursor == 21
    assert window.view_panel.step_records.wait(60)
    qtbot.waitUntil(lambda: panel.step == 22, timeout=5000)
    assert panel.rows != before
    panel.prev_button.click()
    panel.prev_button.click()
    assert model.cursor == 19


def test_follow_keeps_the_selected_head_centred(window, qtbot):
    model = window.model
    panel = _open(window, qtbot, 1, 30)
    view = window.view_panel.scene_view
    distance = view.camera_state()["distance"]
    panel.follow.setChecked(True)
    assert view.camera_state()["distance"] < distance  # zoomed in to see the glyphs
    model.set_cursor(60)
    assert window.view_panel.step_records.wait(60)
    qtbot.waitUntil(lambda: panel.step == 61, timeout=5000)
    head = model.result.positions[1, 0, 60]
    centre = np.array(view.camera_state()["center"])
    np.testing.assert_allclose(centre, view.field.box_points(head[None], 0.0)[0], atol=1e-6)
    panel.follow.setChecked(False)
