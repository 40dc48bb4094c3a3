"""Per-run hyperparameters: a batch whose rows each have their own values equals, row by row, the library
optimizer run alone at that row's values (float64, 1e-9), for every optimizer on the fast path.

Rows vary every float hyperparameter at once around its per-surface default (and switch weight decay and
momentum on and off, which the engine handles by grouping rows), so one test covers each rule's arithmetic on
arrays, the grouping, and the library reference built from each row's values.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer, surface_optimizers
from optviz.core.race import RunConfig, run_race
from optviz.core.race.per_run import group_rows
from optviz.core.surfaces import get_surface

ROWS = 6
STEPS = 120
SURFACE = "rosenbrock"
FAST = [s.name for s in surface_optimizers() if s.fast is not None and s.preset_of is None]


def per_run_values(name: str) -> dict[str, np.ndarray]:
    """Every float hyperparameter varied across the rows, inside its range; zero defaults switched on and off."""
    spec = get_optimizer(name)
    defaults = spec.defaults_for(SURFACE)
    values = {}
    for param in spec.schema:
        if param.kind != "float":
            continue
        default = float(defaults[param.name])
        if default == param.low == 0.0:
            # Off in even rows, on (a little) in odd ones: two branch groups.
            rows = [0.0 if i % 2 == 0 else param.low + (param.high - param.low) * 0.005 * i for i in range(ROWS)]
        else:
            # A few percent either way, whichever stays in range: near the default, so paths stay tame.
            down = [default * (1.0 - 0.03 * i) for i in range(ROWS)]
            rows = (
                down
                if all(param.low <= v <= param.high for v in down)
                else [default * (1.0 + 0.03 * i) for i in range(ROWS)]
            )
        values[param.name] = np.array(rows)
    return values


@pytest.mark.parametrize("name", FAST)
def test_each_row_equals_the_library_at_its_values(name: str):
    surface = get_surface(SURFACE)
    spec = get_optimizer(name)
    hp = {**spec.defaults_for(SURFACE), **per_run_values(name)}
    starts = np.repeat([surface.start], ROWS, axis=0) + np.linspace(0.0, 0.05, ROWS)[:, None]
    config = RunConfig(name, hp)
    fast = run_race(surface, [config], starts, STEPS)
    assert fast.engines == ["fast"]
    library = run_race(surface, [config], starts, STEPS, engine="library")
    ours, ref = fast.positions[0], library.positions[0]
    both = np.isfinite(ours).all(-1) & np.isfinite(ref).all(-1)
    assert both[:, STEPS // 2].sum() >= ROWS // 2, "most rows diverge early: the test compares too little"
    diff = np.abs(ours - ref)[both]
    assert diff.max(initial=0.0) <= 1e-9 + 1e-9 * np.abs(ref[both]).max(initial=0.0), f"{name}: {diff.max():.3g}"
    # The rows really differ from one another (the values reached the rule).
    assert np.ptp(ours[:, -1], axis=0).max() > 1e-6


def test_rows_are_grouped_by_the_branches_they_take():
    spec = get_optimizer("adam")
    hp = {"lr": np.array([0.1, 0.2, 0.3, 0.4]), "weight_decay": np.array([0.0, 0.1, 0.0, 0.2])}
    groups = group_rows(spec, hp, 4)
    assert [g.rows.tolist() for g in groups] == [[0, 2], [1, 3]]
    assert groups[0].hp["weight_decay"] == 0.0  # uniform within the group: a plain number
    assert groups[0].hp["lr"].shape == (2, 1)  # elementwise rules broadcast (n, 1) against (n, 2) points
    assert groups[1].row_values(1) == {**spec.resolve({}), "lr": 0.4, "weight_decay": 0.2}
    amsgrad = group_rows(spec, {"amsgrad": np.array([True, False, True])}, 3)
    assert [g.rows.tolist() for g in amsgrad] == [[1], [0, 2]]


def test_per_run_values_are_checked_like_single_values():
    spec = get_optimizer("adam")
    with pytest.raises(OptvizError, match="beta1"):
        group_rows(spec, {"beta1": np.array([0.9, 1.5])}, 2)
    with pytest.raises(OptvizError, match="3 per-run values for 2 runs"):
        group_rows(spec, {"lr": np.array([0.1, 0.2, 0.3])}, 2)


def test_rows_the_library_refuses_say_why_and_the_rest_run():
    surface = get_surface(SURFACE)
    hp = {**get_optimizer("nesterov").defaults_for(SURFACE), "momentum": np.array([0.0, 0.9])}
    result = run_race(surface, [RunConfig("nesterov", hp)], np.repeat([surface.start], 2, axis=0), 20)
    assert result.status[0, 0] == "diverged" and "refused by the library" in result.reasons[0, 0]
    assert "momentum" in result.reasons[0, 0]
    assert result.status[0, 1] != "diverged" and np.isfinite(result.positions[0, 1, -1]).all()
