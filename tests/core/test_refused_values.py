"""Values the registry refuses with one line naming the key (issue 12): constraints between hyperparameters,
numbers with underscores, scenes that race nothing."""

from __future__ import annotations

import pytest

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Param


def test_rprop_step_min_above_step_max_is_refused():
    spec = get_optimizer("rprop")
    with pytest.raises(ValueOutOfRangeError, match=r"rprop: step_min=1 is more than step_max=0\.001") as info:
        spec.resolve({"step_min": 1, "step_max": 0.001})
    assert "\n" not in str(info.value)
    assert spec.resolve({"step_min": 0.001, "step_max": 0.001})["step_min"] == 0.001  # equal is fine


@pytest.mark.parametrize("text", ["1_0", "1_000.5", "1e1_0", "_1"])
def test_numbers_with_underscores_are_refused(text):
    for param in (Param("lr", 1.0, low=0.0, high=1e12), Param("n", 1, kind="int", low=0, high=10**12)):
        with pytest.raises(ValueOutOfRangeError, match=rf"{param.name}=.* \(no underscores\)"):
            param.parse(text, "owner")


def test_scene_with_every_optimizer_disabled_says_so():
    from optviz.core.scene import OptimizerEntry, Scene

    scene = Scene(optimizers=[OptimizerEntry("adam", enabled=False), OptimizerEntry("sgd", enabled=False)])
    scene.validate()  # a valid scene (the app keeps disabled optimizers' sliders live) ...
    with pytest.raises(OptvizError, match="every optimizer in the scene is disabled"):
        scene.require_enabled()  # ... but nothing to race or export
    scene.optimizers[1].enabled = True
    assert scene.require_enabled() is scene


@pytest.mark.parametrize("text", ["1_0,2", "1,2_0"])
def test_start_points_with_underscores_are_refused(text):
    from optviz.core.race.starts import parse_point

    with pytest.raises(ValueOutOfRangeError, match="start"):
        parse_point(text)


def test_an_unknown_name_is_echoed_as_an_excerpt():
    from optviz.core.errors import UnknownNameError

    with pytest.raises(UnknownNameError) as info:
        get_optimizer("x" * 100_000)
    assert len(str(info.value)) < 200 and "…" in str(info.value)
