"""The Surface panel's gradient pathology group and the race panel's clipping option write the scene, show the
model's values back, and refuse a bad value with the form's inline line."""

from __future__ import annotations

from optviz.core.race.clip import Clip
from optviz.core.race.perturb import Perturbation


def test_pathology_group_writes_and_follows_the_model(window):
    box, model = window.surface_panel.pathology, window.model
    box.kind.setCurrentIndex(box.kind.findData("stale"))
    assert model.scene.perturbation == Perturbation.make("stale")
    model.set_perturbation("nan", {"at": 40})
    assert box.kind.currentData() == "nan" and box.form.rows["at"].edit.text() == "40"
    edit = box.form.rows["at"].edit
    edit.setText("0")  # steps start at 1
    edit.editingFinished.emit()
    assert model.scene.perturbation["at"] == 40
    assert "out of range" in box.form.message.text() and not box.form.message.isHidden()
    box.kind.setCurrentIndex(box.kind.findData(None))
    assert model.scene.perturbation is None and box.form is None


def test_clip_option_writes_the_selected_optimizer_and_names_it(window):
    model, clip = window.model, window.race_panel.editor.clip
    model.select(2)
    assert clip.kind.currentData() is None and not clip.form.isEnabled()
    clip.kind.setCurrentIndex(clip.kind.findData("value"))
    edit = clip.form.rows["threshold"].edit
    edit.setText("0.25")
    edit.editingFinished.emit()
    assert model.scene.optimizers[2].clip == Clip("value", 0.25)
    assert model.display_name(2).endswith("(clip value=0.25)")
    model.select(0)
    assert clip.kind.currentData() is None
    model.select(2)
    assert clip.kind.currentData() == "value" and clip.form.isEnabled()
