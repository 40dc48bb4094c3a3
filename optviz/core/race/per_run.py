"""Per-run hyperparameters: one batched run in which every start row has hyperparameter values of its own.

A sweep of 4,096 (lr, beta1) pairs is a race of one optimizer from 4,096 starts (the same point repeated, or
a grid of points) whose `RunConfig.hyperparams` holds arrays of length M for the swept names. The fast rules
compute with such arrays as with numbers (`fast_rules/ops.py`), except where a value switches a branch of the
library's code: an integer, flag or choice, or a float that is zero (weight decay off) or not. Rows are grouped
so that every row of a group takes the same branches; each group is one batched run. A rule that computes with
numbers only (`OptimizerSpec.per_run` False) gets one group per distinct combination of values. Row i equals the library
run at row i's values from start i (tests/core/test_per_run.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.optimizers.spec import OptimizerSpec
from optviz.core.params import Value


def has_per_run(hp: Mapping[str, Any]) -> bool:
    """Whether any hyperparameter is given as one value per run."""
    return any(isinstance(v, (np.ndarray, list, tuple)) for v in hp.values())


@dataclass(frozen=True)
class RowGroup:
    """Rows that take the same branches, with their hyperparameters: numbers where every row agrees, else
    arrays shaped to broadcast against the rule's points ((n, 1) for elementwise rules, (n,) for pair rules)."""

    rows: np.ndarray
    hp: dict[str, Any]
    per_row: dict[str, np.ndarray]  # the varying values, one per row of `rows`

    def row_values(self, i: int) -> dict[str, Value]:
        """Row `rows[i]`'s hyperparameters as plain numbers (what the library optimizer is built with)."""
        values = {k: v for k, v in self.hp.items() if k not in self.per_row}
        values.update({k: _plain(v[i]) for k, v in self.per_row.items()})
        return values


def _plain(value: Any) -> Value:
    return value.item() if isinstance(value, np.generic) else value


def group_rows(spec: OptimizerSpec, hp: Mapping[str, Any], m_count: int) -> list[RowGroup]:
    """Validate per-run hyperparameters (every value against the schema) and group the M rows by branch."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Value] = {}
    for name, value in hp.items():
        if not isinstance(value, (np.ndarray, list, tuple)):
            scalars[name] = value
            continue
        values = np.asarray(value)
        if values.shape != (m_count,):
            raise OptvizError(f"{spec.name}: {name} has {values.size} per-run values for {m_count} runs")
        param = spec.schema.get(name)
        if param.kind == "float":
            values = values.astype(np.float64)
        for v in np.unique(values):
            spec.schema.check(name, _plain(v))
        arrays[name] = values
    scalars = spec.resolve(scalars)
    # A row's branch key: discrete values as they are, floats by whether they are zero.
    keys = [
        values if spec.schema.get(name).kind != "float" or not spec.per_run else (values != 0)
        for name, values in arrays.items()
    ]
    shape = (-1, 1) if spec.elementwise else (-1,)
    groups = []
    order = np.lexsort(keys[::-1]) if keys else np.arange(m_count)
    boundaries = np.ones(m_count, dtype=bool)
    boundaries[1:] = np.any([k[order][1:] != k[order][:-1] for k in keys], axis=0) if keys else False
    for rows in np.split(order, np.flatnonzero(boundaries)[1:]):
        rows = np.sort(rows)
        group_hp: dict[str, Any] = dict(scalars)
        per_row: dict[str, np.ndarray] = {}
        for name, values in arrays.items():
            mine = values[rows]
            if (mine == mine[0]).all():
                group_hp[name] = _plain(mine[0])
            else:
                group_hp[name] = mine.reshape(shape)
                per_row[name] = mine
        groups.append(RowGroup(rows=rows, hp=group_hp, per_row=per_row))
    return groups
