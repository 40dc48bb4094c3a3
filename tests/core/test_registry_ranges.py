"""Every range in the registry is the library's: each optimizer constructs at each accepted end of each
bounded hyperparameter, and just past it our schema refuses the value (so no advertised value is one the
library rejects, and no value the library rejects gets past the schema to fail later)."""

from __future__ import annotations

import math

import pytest

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.optimizers import OPTIMIZERS
from optviz.core.params import Param

BOUNDED = [
    (spec.name, p.name)
    for spec in OPTIMIZERS
    if spec.preset_of is None
    for p in spec.schema
    if p.kind in ("float", "int")
]


def past(param: Param, end: str) -> float:
    """A value just outside the range at one end: the end itself where it is exclusive."""
    if end == "low":
        if param.open_low:
            return param.low
        return param.low - 1 if param.kind == "int" else math.nextafter(param.low, -math.inf)
    if param.open_high:
        return param.high
    return param.high + 1 if param.kind == "int" else math.nextafter(param.high, math.inf)


def construct(spec, hp) -> None:
    import torch

    shape = (1, 2) if spec.needs_2d else (2,)
    spec.build([torch.zeros(shape, dtype=torch.float64, requires_grad=True)], hp)
    spec.check_with_library(hp)


@pytest.mark.parametrize(("optimizer", "name"), BOUNDED, ids=[f"{o}:{n}" for o, n in BOUNDED])
def test_each_end_of_each_range(optimizer, name):
    spec = next(s for s in OPTIMIZERS if s.name == optimizer)
    param = spec.schema.get(name)
    low, high = param.slider_bounds
    for end, value in (("low", low), ("high", high)):
        hp = spec.resolve({name: value})
        try:
            construct(spec, hp)
        except OptvizError as exc:
            pytest.fail(f"{optimizer}:{name}={value!r} (accepted {end} end) is refused by the library: {exc}")
        with pytest.raises(ValueOutOfRangeError, match=name):
            spec.resolve({name: past(param, end)})


def test_library_refusals_named_in_the_issue_are_ours_now():
    by_name = {s.name: s for s in OPTIMIZERS}
    with pytest.raises(ValueOutOfRangeError, match=r"hessian_power=0 is out of range \(more than 0 to 1\)"):
        by_name["adahessian"].resolve({"hessian_power": 0})
    with pytest.raises(ValueOutOfRangeError, match=r"d=0\.01 is out of range"):
        by_name["adafactor"].resolve({"d": 0.01})


def test_open_bounds_in_the_slider_and_the_help():
    param = Param("k", 1.0, low=0.0, high=1.0, open_low=True)
    assert param.describe_range() == "more than 0 to 1"
    assert param.from_unit(0.0) > 0 and param.validate(param.from_unit(0.0)) == param.from_unit(0.0)
    assert param.from_unit(1.0) == 1.0
    with pytest.raises(ValueOutOfRangeError):
        param.validate(0.0)
    log = Param("e", 1e-3, low=1e-8, high=1.0, scale="log", open_high=True)
    assert log.from_unit(1.0) < 1.0 and log.contains(log.from_unit(1.0))
    with pytest.raises(ValueError, match="default"):
        Param("bad", 0.0, low=0.0, high=1.0, open_low=True)
