"""`TrainConfig` refuses what no run should start: the step range is shared by `optviz train` and the
Training panel."""

from __future__ import annotations

import pytest

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.learn.config import MAX_STEPS, OptimizerRun, TrainConfig

RUNS = (OptimizerRun("sgd"),)


@pytest.mark.parametrize("steps", [0, -1, MAX_STEPS + 1, 1_000_000_000_000])
def test_steps_outside_the_range_are_refused_in_one_line(steps):
    with pytest.raises(ValueOutOfRangeError) as info:
        TrainConfig(optimizers=RUNS, steps=steps)
    assert str(info.value) == f"steps={steps} is out of range (1 to {MAX_STEPS})"


@pytest.mark.parametrize("steps", [1, 200, MAX_STEPS])
def test_steps_inside_the_range_are_accepted(steps):
    assert TrainConfig(optimizers=RUNS, steps=steps).steps == steps


def test_the_bound_is_a_hundred_thousand_steps():
    assert MAX_STEPS == 100_000
