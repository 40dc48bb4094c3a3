"""Which tuned hyperparameter mattered, per optimizer: Optuna's `get_param_importances` over its finished trials.

The evaluator is PED-ANOVA (`PedAnovaImportanceEvaluator`), Optuna's own and free of scikit-learn (fANOVA and
mean decrease impurity need it, and it is no dependency of ours). PED-ANOVA compares where the best trials'
settings lie with where all trials' lie: a parameter whose good values are concentrated matters. Its "best" is a
quantile of the trials; with the 10 % it defaults to, a study of ten trials has a single best trial and every
parameter looks the same, so the quantile keeps at least two trials (up to half of them).

Importances are computed from the trials' records (`TrialRecord`), through an Optuna study in memory built from
them with the study's search space, so the report's numbers come from the same records everywhere (the app, the
command line, a report written from another machine's storage). A diverged trial (objective infinite) counts as
worse than every finite one: a setting that blows up is information, and PED-ANOVA ranks trials only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from optviz.core.study.records import COMPLETE, TrialRecord
from optviz.core.study.space import Dimension

#: Least finished trials for an importance: with one there is nothing to compare.
MIN_TRIALS = 2
#: PED-ANOVA's top quantile: 10 % (Optuna's default), but at least 2 trials and at most half of them.
TOP_QUANTILE = 0.10
MIN_TOP, MAX_TOP = 2, 0.5


@dataclass
class Importance:
    """One optimizer's importances (parameter -> share, summing to 1, largest first), or none with `note`
    saying why (too few finished trials). `trials` is how many finished trials they were computed from."""

    values: dict[str, float] = field(default_factory=dict)
    trials: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "trials": self.trials, "note": self.note}


def importances(space: Sequence[Dimension], trials: Sequence[TrialRecord]) -> Importance:
    """The importance of each axis of `space` (one optimizer's search space) over its complete trials."""
    scored = [t for t in trials if t.state == COMPLETE and all(d.name in t.params for d in space)]
    if len(space) == 1:
        # Nothing to share out: the one tuned parameter explains whatever varied.
        note = "" if scored else "no finished trial yet"
        return Importance({space[0].name: 1.0} if scored else {}, len(scored), note)
    if len(scored) < MIN_TRIALS:
        return Importance({}, len(scored), f"needs at least {MIN_TRIALS} finished trials (has {len(scored)})")
    if len({_finite(t.value, scored) for t in scored}) == 1:
        return Importance({}, len(scored), "every finished trial has the same objective: nothing to tell apart")
    return Importance(_ped_anova(space, scored), len(scored))


def _ped_anova(space: Sequence[Dimension], scored: Sequence[TrialRecord]) -> dict[str, float]:
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    distributions = {d.name: _distribution(d) for d in space}
    study = optuna.create_study(direction="minimize")  # in memory: nothing is written anywhere
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={d.name: t.params[d.name] for d in space},
                distributions=distributions,
                value=_finite(t.value, scored),
            )
            for t in scored
        ]
    )
    top = min(MAX_TOP, max(TOP_QUANTILE, MIN_TOP / len(scored)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental" and "importances will be equal" notes: ours say it
        values = get_param_importances(
            study, evaluator=PedAnovaImportanceEvaluator(target_quantile=top), params=[d.name for d in space]
        )
    total = sum(values.values())
    if not total > 0:
        return {}
    return {k: float(v) / total for k, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))}


def _finite(value: float, scored: Sequence[TrialRecord]) -> float:
    """The objective, with a diverged trial's infinity (or NaN) made worse than every finite objective."""
    if math.isfinite(value):
        return value
    finite = [t.value for t in scored if math.isfinite(t.value)]
    return (max(finite) if finite else 0.0) + 1.0 + abs(max(finite, default=0.0))


def _distribution(d: Dimension) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if d.kind == "categorical":
        return CategoricalDistribution(list(d.choices))
    if d.kind == "int":
        return IntDistribution(int(d.low), int(d.high), log=d.log)
    return FloatDistribution(d.low, d.high, log=d.log)
