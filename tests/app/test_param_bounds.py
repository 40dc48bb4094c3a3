"""The controls offer only values the registry accepts (issue 12): an exclusive end is never on a slider, and a
value that breaks a constraint between hyperparameters (Rprop's step_min above step_max) is refused with one
line while the controls show the values kept."""

from __future__ import annotations

import pytest

from optviz.app.model import SceneModel
from optviz.app.widgets.param_controls import TICKS, ParamForm
from optviz.core.optimizers import get_optimizer
from optviz.core.scene import OptimizerEntry, Scene


def test_a_slider_at_an_exclusive_end_offers_an_accepted_value(qtbot):
    schema = get_optimizer("adahessian").schema
    form = ParamForm(schema)
    qtbot.addWidget(form)
    edited = []
    form.valueEdited.connect(lambda name, value: edited.append((name, value)))
    slider = form.slider("hessian_power")
    slider.setValue(TICKS)
    slider.setValue(0)
    name, value = edited[-1]
    assert name == "hessian_power" and 0 < value < 1e-3
    assert schema.check("hessian_power", value) == value
    assert "more than 0 to 1" in form.rows["hessian_power"].slider.toolTip()


@pytest.fixture
def model(qtbot):
    return SceneModel(Scene(optimizers=[OptimizerEntry("rprop", {"step_max": 0.001})]).validate())


def test_the_model_refuses_step_min_above_step_max(model, qtbot):
    errors = []
    model.errorRaised.connect(errors.append)
    with qtbot.waitSignal(model.optimizerChanged):  # so the controls show the kept value again
        assert model.set_hyperparam(0, "step_min", 1.0) is False
    assert errors and "step_min=1 is more than step_max=0.001" in errors[-1] and "\n" not in errors[-1]
    assert model.hyperparams(0)["step_min"] == 1e-6
    assert model.set_hyperparam(0, "step_min", 1e-3) is True


def test_the_training_panel_refuses_step_min_above_step_max(qtbot):
    from optviz.app.training.training_optimizers import TrainingOptimizers

    panel = TrainingOptimizers()
    qtbot.addWidget(panel)
    entry = panel.add("rprop", step_max=0.001)
    changed = []
    panel.changed.connect(lambda: changed.append(1))
    panel.form.valueEdited.emit("step_min", 1.0)
    assert "step_min=1 is more than step_max=0.001" in panel.note.text()
    assert "step_min" not in entry.hp and not changed
    assert panel.form.rows["step_min"].edit.text() == "1e-6"
    panel.form.valueEdited.emit("step_min", 1e-4)
    assert entry.hp["step_min"] == 1e-4 and changed and "Rprop" in panel.note.text()
