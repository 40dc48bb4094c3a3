"""The robustness test on real training: every case runs for every trainable optimizer (with and without
clipping) and gets an outcome; the outcomes mean what they say; the perturbations hit the real gradients."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn import robustness
from optviz.core.learn.config import OptimizerRun
from optviz.core.learn.control import Cancelled
from optviz.core.learn.robustness import (
    CASES,
    NAN_WEIGHTS,
    NOT_RECOVERED,
    RAISED,
    RECOVERED,
    STAYED,
    RobustnessConfig,
    RunTrace,
    format_table,
    judge,
    robustness_test,
)
from optviz.core.learn.trial import TrialSetup
from optviz.core.optimizers import REGISTRY

warnings.filterwarnings("ignore", category=UserWarning)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAINABLE = [name for name, spec in REGISTRY.items() if not spec.training_unavailable]
TINY = TrialSetup(model="mlp", dataset="moons", batch_size=32, device="cpu", seed=0)
OUTCOMES = (STAYED, RECOVERED, NOT_RECOVERED, NAN_WEIGHTS)


def config(*names: str, **kw) -> RobustnessConfig:
    base = dict(at_step=2, after=2)
    base.update(kw)
    return RobustnessConfig(TINY, tuple(OptimizerRun(n) for n in names), **base)


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_case_runs_for_every_trainable_optimizer_and_reports_an_outcome(name):
    report = robustness_test(config(name))
    (opt,) = report.optimizers
    assert {(r.case, r.clip) for r in opt.cases} == {(c, clip) for c in CASES for clip in (None, 1.0)}
    for r in opt.cases:
        assert r.outcome in OUTCOMES or r.outcome.startswith(f"{RAISED}: "), r.outcome
        assert r.window_steps == [1, 2, 3, 4] and len(r.loss) == len(r.baseline_loss) == 4
    assert all(not trace.failure() for trace in opt.baselines.values())
    assert report.to_dict()["optimizers"][0]["optimizer"] == name


def test_nan_without_clipping_makes_sgd_weights_nan_and_says_when():
    report = robustness_test(config("sgd", at_step=3, after=3, cases=("nan", "vanishing")))
    nan = report.optimizers[0].result("nan", None)
    assert nan.outcome == NAN_WEIGHTS and nan.first_nonfinite_step == 3
    assert nan.short == "NaN" and math.isnan(nan.final_loss)
    assert report.optimizers[0].result("vanishing", None).outcome == STAYED


def test_clipping_spreads_a_nan_rather_than_stopping_it():
    # clip_grad_norm_ divides by a NaN norm: every entry becomes NaN, so the weights go NaN even so.
    report = robustness_test(config("adam", cases=("nan",)))
    assert report.optimizers[0].result("nan", 1.0).outcome == NAN_WEIGHTS


def test_a_raising_step_is_the_outcome_not_an_exception():
    report = robustness_test(config("shampoo", cases=("inf",), clip=None))
    result = report.optimizers[0].result("inf", None)
    assert result.outcome.startswith(f"{RAISED}: ") and "at step 2" in result.outcome and result.short == "raised"


def test_exploding_gradient_sends_sgd_far_away_and_clipping_keeps_it_close():
    cfg = RobustnessConfig(TINY, (OptimizerRun("sgd", {"lr": 0.5}),), at_step=3, after=4, cases=("exploding",))
    opt = robustness_test(cfg).optimizers[0]
    assert opt.result("exploding", None).outcome in (NOT_RECOVERED, NAN_WEIGHTS)
    assert opt.result("exploding", 1.0).outcome in (STAYED, RECOVERED)


def test_the_cases_change_the_gradient_as_described():
    rng = torch.Generator().manual_seed(0)
    grads = [torch.ones(100, 10), torch.ones(10)]
    CASES["sparse"].apply(grads, rng)
    share = sum(int((g == 0).sum()) for g in grads) / 1010
    assert 0.85 < share < 0.95 and not grads[0].is_sparse
    grads = [torch.ones(3, 3), torch.ones(3)]
    CASES["nan"].apply(grads, rng)
    assert math.isnan(grads[0][0, 0]) and int(torch.isnan(grads[0]).sum()) == 1 and bool(torch.isfinite(grads[1]).all())
    grads = [torch.ones(2)]
    CASES["exploding"].apply(grads, rng)
    assert grads[0].tolist() == [1e3, 1e3]


def trace(*losses: float) -> RunTrace:
    return RunTrace(list(losses), state_finite=True)


@pytest.mark.parametrize(
    ("losses", "outcome", "recovered_at"),
    [
        ((1.0, 1.0, 1.05, 1.0, 0.9), STAYED, None),
        ((1.0, 1.0, 2.0, 1.5, 1.0), RECOVERED, 5),
        ((1.0, 1.0, 2.0, 1.0, 1.5), NOT_RECOVERED, None),
        ((1.0, 1.0, 1.0, math.inf, 1.0), RECOVERED, 5),
    ],
)
def test_judging_against_the_baseline(losses, outcome, recovered_at):
    cfg = config("sgd", at_step=2, after=3)
    result = judge("exploding", None, trace(*losses), trace(1.0, 1.0, 1.0, 1.0, 1.0), cfg)
    assert result.outcome == outcome and result.recovered_at == recovered_at
    assert result.window_steps == [1, 2, 3, 4, 5]


def test_the_table_has_a_row_per_optimizer_and_clip_and_a_column_per_case():
    report = robustness_test(config("sgd", "lion", cases=("nan", "sparse")))
    lines = format_table(report).splitlines()
    assert lines[0].split() == ["optimizer", "nan", "sparse"]
    rows = [line.split()[0] for line in lines[2:6]]
    assert rows == ["sgd", "sgd", "lion", "lion"] and "+ clip 1" in lines[3]
    assert lines[2].split()[1] == "NaN"
    assert lines[4].split()[1] == "ok*"  # Lion's sign step hides the NaN in its momentum


def test_cancel_raises_between_steps():
    calls = iter(range(1000))
    with pytest.raises(Cancelled):
        robustness_test(config("adam"), cancelled=lambda: next(calls) > 3)


def test_progress_reaches_the_total():
    seen = []
    robustness_test(config("adam", cases=("nan",), clip=None), progress=lambda d, t, _: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == 2 * 4


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"at_step": 0}, "event step"),
        ({"steps": 3, "at_step": 2, "after": 2}, "ends before the judgement step"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"clip": -1.0}, "clipping norm"),
        ({"cases": ("nosuch",)}, "unknown case"),
    ],
)
def test_bad_settings_are_one_line(kw, fragment):
    with pytest.raises(OptvizError, match=fragment):
        config("sgd", **kw)


def test_an_optimizer_that_cannot_train_is_refused_before_any_step(monkeypatch):
    monkeypatch.setattr(robustness, "_train", lambda *a: pytest.fail("trained before refusing"))
    with pytest.raises(OptvizError, match="cannot train"):
        robustness_test(config("sgd", "muon"))
