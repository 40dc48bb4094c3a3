"""Where f is undefined: the share of the domain, the divergence reason of a run that steps there (the same on
the fast path and the library), and starts there refused or moved."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.errors import SceneError
from optviz.core.race.engine import run_race
from optviz.core.scene import OptimizerEntry, Scene, run_config
from optviz.core.surfaces import get_surface
from optviz.core.surfaces.defined import (
    LEFT_DEFINED,
    STARTS_UNDEFINED,
    defined_at,
    defined_start,
    undefined_fraction,
)

BOX = {"xmin": -2, "xmax": 2, "ymin": -2, "ymax": 2}


def _log_x(**domain):
    return get_surface("custom", {"formula": "log(x) + y^2", **(domain or BOX)})


def test_undefined_fraction_over_the_grid():
    surface = _log_x()
    for n in (64, 255, 256):  # 255 puts a column on x = 0, where log is -inf: undefined too
        _, _, values = surface.grid(n)
        assert undefined_fraction(values) == pytest.approx(0.5, abs=1.0 / n)
    _, _, values = get_surface("custom", {"formula": "log(x) + y^2", "xmin": -1, "xmax": 3}).grid(128)
    assert undefined_fraction(values) == pytest.approx(0.25, abs=0.01)
    _, _, values = get_surface("custom", {"formula": "x^2 + y^2"}).grid(64)
    assert undefined_fraction(values) == 0.0


ENGINES_AGREE = ["sgd", "adam", "rmsprop", "lbfgs"]


@pytest.mark.parametrize("name", ENGINES_AGREE)
def test_stepping_out_of_the_domain_of_f_is_named_the_same_on_both_paths(name):
    surface = _log_x()
    # Near the y axis 1/x is large: a big step lands at x < 0, where log(x) is NaN.
    starts = np.array([[0.05, 1.0], [0.1, -0.5], [1.5, 1.5]])
    config = run_config(OptimizerEntry(name, {"lr": 1.0}), "custom")
    results = [run_race(surface, [config], starts, 60, engine=engine) for engine in ("auto", "library")]
    fast, library = results
    np.testing.assert_array_equal(fast.status, library.status)
    np.testing.assert_array_equal(fast.stopped_at, library.stopped_at)
    np.testing.assert_array_equal(fast.reasons, library.reasons)
    assert fast.status[0, 0] == "diverged" and fast.reasons[0, 0] == LEFT_DEFINED
    s = int(fast.stopped_at[0, 0])
    assert s >= 1 and np.isfinite(fast.losses[0, 0, s - 1])  # the point before was defined


def test_a_numerical_blow_up_is_not_blamed_on_the_domain():
    surface = get_surface("custom", {"formula": "x^4 + y^2", **BOX})
    config = run_config(OptimizerEntry("sgd", {"lr": 1.0}), "custom")
    result = run_race(surface, [config], np.array([[1.5, 1.0]]), 30)
    assert result.status[0, 0] == "diverged"
    assert result.reasons[0, 0] not in (LEFT_DEFINED, STARTS_UNDEFINED)


def test_a_start_where_f_is_undefined_is_named():
    config = run_config(OptimizerEntry("sgd", {"lr": 0.01}), "custom")
    result = run_race(_log_x(), [config], np.array([[-1.0, 0.0], [1.0, 0.0]]), 10)
    assert result.status[0, 0] == "diverged" and result.stopped_at[0, 0] == 0
    assert result.reasons[0, 0] == STARTS_UNDEFINED
    assert result.reasons[0, 1] == ""


def test_the_suggested_start_of_a_formula_lies_where_it_is_defined():
    surface = _log_x(xmin=-3, xmax=3, ymin=-3, ymax=3)  # the usual suggestion, (-2.25, 1.95), is undefined
    assert defined_at(surface, np.array([surface.start])).all()
    assert surface.start[0] > 0.3  # a few cells inside, not on the edge of the hole
    plain = get_surface("custom", {"formula": "x^2 + y^2"})
    assert plain.start == (-2.25, pytest.approx(1.95))  # a defined suggestion is kept
    nowhere = get_surface("custom", {"formula": "sqrt(-1 - x^2)"})
    assert defined_start(nowhere, (0.5, 0.5)) == (0.5, 0.5)


def test_a_scene_refuses_a_start_where_f_is_undefined():
    scene = Scene(surface="custom", surface_params={"formula": "log(x) + y^2"}, optimizers=[OptimizerEntry("sgd")])
    scene.starts = [(-1.0, 0.5)]
    with pytest.raises(SceneError, match=r"f is undefined at the start \(-1, 0.5\)"):
        scene.validate()
    scene.starts = [(1.0, 0.5)]
    scene.validate()
    scene.starts, scene.grid = [], (5, 5)  # a grid of starts may cross the hole: those runs say so
    scene.validate()
