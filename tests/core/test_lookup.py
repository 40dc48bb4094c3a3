"""The one name look-up (optviz.core.lookup) and the five registries that use it."""

from __future__ import annotations

import importlib

import pytest

from optviz.core.errors import UnknownNameError
from optviz.core.lookup import lookup

TABLE = {"mlp": 1, "mlp-wide": 2, "cnn": 3}


def test_found_by_the_normalised_name():
    assert lookup(TABLE, "cnn", "model") == 3
    assert lookup(TABLE, " CNN ", "model", normalise=lambda n: n.strip().lower()) == 3
    with pytest.raises(UnknownNameError):
        lookup(TABLE, "CNN", "model")  # as typed unless told otherwise


def test_a_miss_lists_the_choices_or_names_the_list_command():
    with pytest.raises(UnknownNameError) as err:
        lookup(TABLE, "resnet", "model")
    assert str(err.value) == "unknown model 'resnet'; choose one of: mlp, mlp-wide, cnn"
    with pytest.raises(UnknownNameError) as err:
        lookup(TABLE, "resnet", "model", list_command="optviz list models")
    assert str(err.value) == "unknown model 'resnet' (run `optviz list models` for the choices)"


def test_a_near_miss_suggests_the_closest_name():
    with pytest.raises(UnknownNameError) as err:
        lookup(TABLE, "mpl", "model")
    assert str(err.value) == "unknown model 'mpl'; did you mean 'mlp'? choose one of: mlp, mlp-wide, cnn"
    with pytest.raises(UnknownNameError) as err:
        lookup(TABLE, "cnnn", "model", list_command="optviz list models")
    assert str(err.value) == "unknown model 'cnnn' (did you mean 'cnn'? run `optviz list models` for the choices)"


@pytest.mark.parametrize(
    ("find", "message"),
    [
        ("optviz.core.optimizers:get_optimizer", "unknown optimizer 'adamm' (did you mean 'adam'?"),
        ("optviz.core.surfaces:get_kind", "unknown surface 'rosenbrok' (did you mean 'rosenbrock'?"),
        ("optviz.core.learn.models:model_spec", "unknown model 'mpl'; did you mean 'mlp'?"),
        ("optviz.core.learn.datasets:dataset_info", "unknown data set 'moon'; did you mean 'moons'?"),
        ("optviz.core.learn.schedules:ScheduleConfig", "unknown schedule 'stepp'; did you mean 'step'?"),
    ],
)
def test_every_registry_misses_the_same_way(find, message):
    module, attr = find.split(":")
    name = message.split("'")[1]
    with pytest.raises(UnknownNameError) as err:
        getattr(importlib.import_module(module), attr)(name)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
