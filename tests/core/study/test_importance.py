"""Hyperparameter importances: on a synthetic Optuna study in memory, the parameter that drives the objective gets
the larger share; one tuned parameter is 1.0; fewer than two finished trials give none, and say so."""

from __future__ import annotations

import math

import pytest

from optviz.core.study.importance import importances
from optviz.core.study.records import from_frozen
from optviz.core.study.report import build_report
from optviz.core.study.space import Dimension
from optviz.core.study.trial import SeedResult

LR = Dimension("lr", "float", 1e-5, 1.0, log=True)
BETA2 = Dimension("beta2", "float", 0.9, 0.9999)


def _records(objective, n: int, seed: int = 0):
    """`n` random-search trials of `objective(lr, beta2)` in an in-memory Optuna study, as the study's records."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(
        lambda t: objective(t.suggest_float("lr", 1e-5, 1.0, log=True), t.suggest_float("beta2", 0.9, 0.9999)),
        n_trials=n,
    )
    return [from_frozen("adamw", t) for t in study.trials]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_parameter_that_drives_the_objective_matters_most(seed):
    # The loss is a valley in log(lr) around 1e-2; beta2 moves it by a thousandth at most.
    records = _records(lambda lr, beta2: (math.log10(lr) + 2) ** 2 + 0.01 * beta2, 30, seed)
    result = importances([LR, BETA2], records)
    assert result.trials == 30 and result.note == ""
    assert list(result.values) == ["lr", "beta2"]  # largest first
    assert result.values["lr"] > 0.8 > result.values["beta2"]
    assert sum(result.values.values()) == pytest.approx(1.0)
    # ...and the other way round when beta2 drives it.
    swapped = importances([LR, BETA2], _records(lambda lr, beta2: 100 * (beta2 - 0.95) ** 2 + 1e-4 * lr, 30, seed))
    assert swapped.values["beta2"] > swapped.values["lr"]


def test_diverged_trials_count_as_the_worst():
    # Past lr = 0.03 every trial diverges (an infinite objective); below it every setting is as good. Dropped,
    # the diverged trials would leave nothing to tell apart; counted as the worst, they say lr is what matters.
    records = _records(lambda lr, beta2: math.inf if lr > 0.03 else 1.0, 30)
    assert 0 < sum(math.isinf(r.value) for r in records) < 30
    result = importances([LR, BETA2], records)
    assert result.trials == 30 and result.values["lr"] > 0.8 > result.values["beta2"]


def test_one_tuned_parameter_is_all_of_it_and_too_few_trials_give_none():
    records = _records(lambda lr, beta2: (math.log10(lr) + 2) ** 2, 3)
    assert importances([LR], records).values == {"lr": 1.0}
    one = importances([LR, BETA2], records[:1])
    assert one.values == {} and "at least 2 finished trials (has 1)" in one.note
    assert importances([LR], []).values == {} and importances([LR], []).note == "no finished trial yet"
    flat = importances([LR, BETA2], _records(lambda lr, beta2: 1.0, 5))
    assert flat.values == {} and "same objective" in flat.note
    # Failed and running trials are not results.
    for r in records:
        r.state = "fail"
    assert importances([LR, BETA2], records).trials == 0


def test_the_report_carries_each_optimizers_importances(make_setup):
    setup = make_setup(optimizers=("adamw", "momentum"))
    records = {"adamw": _records(lambda lr, beta2: (math.log10(lr) + 2) ** 2 + 0.01 * beta2, 12)}
    for r in records["adamw"]:  # the report's other numbers read the seeds' measurements
        r.seeds = [SeedResult(0, "done", val_loss=r.value, val_accuracy=0.5, val_steps=[1], val_losses=[r.value])]
    report = build_report(setup, {**records, "momentum": []})
    assert report.importances["adamw"].values["lr"] > report.importances["adamw"].values["beta2"]
    assert report.importances["momentum"].values == {}  # momentum tunes lr only, and has no trial yet
    data = report.to_dict()["importances"]
    assert data["adamw"]["trials"] == 12 and set(data["adamw"]["values"]) == {"lr", "beta2"}
    assert data["momentum"] == {"values": {}, "trials": 0, "note": "no finished trial yet"}
