"""A study in one process: reproducible for its seed, the same budget, seeds and batches for every optimizer,
a grid run cell by cell (an interrupted cell run again), and a report whose numbers are the trials' own."""

from __future__ import annotations

import math
import statistics

import pytest

from optviz.core.errors import OptvizError
from optviz.core.study.report import build_report
from optviz.core.study.storage import open_storage
from optviz.core.study.worker import TuningStudy


def _run(setup, path):
    study = TuningStudy.create(open_storage(path), setup)
    study.run_worker()
    return study


def test_a_fixed_seed_gives_the_same_trials_and_every_optimizer_the_same_budget_seeds_and_batches(make_setup, tmp_path):
    setup = make_setup()
    first = _run(setup, str(tmp_path / "a.journal")).records()
    second = _run(setup, str(tmp_path / "b.journal")).records()
    for name in ("adamw", "momentum"):
        assert [(t.params, t.value) for t in first[name]] == [(t.params, t.value) for t in second[name]]
        assert [t.state for t in first[name]] == ["complete"] * 3
    assert set(first["adamw"][0].params) == {"lr", "beta2"} and set(first["momentum"][0].params) == {"lr"}
    # Every trial of every optimizer trained the same seeds on the same batch order.
    fingerprints = {(s.seed, s.batches) for ts in first.values() for t in ts for s in t.seeds}
    assert sorted(seed for seed, _ in fingerprints) == [0, 1]
    other_seed = _run(make_setup(seed=5), str(tmp_path / "c.journal")).records()
    assert [t.params for t in other_seed["adamw"]] != [t.params for t in first["adamw"]]


def test_the_report_numbers_are_the_trials_numbers(make_setup, journal):
    _path, storage = journal
    study = TuningStudy.create(storage, make_setup(trials=4))
    study.run_worker()
    records = study.records()
    report = build_report(study.setup, records)
    for name, trials in records.items():
        row = report.row(name)
        best = min(trials, key=lambda t: t.value)
        assert row.best_trial == best.number and row.objective == best.value
        losses = [s.val_loss for s in best.seeds]
        assert row.val_loss == pytest.approx(statistics.fmean(losses)) == pytest.approx(best.value)
        assert row.val_loss_spread == pytest.approx(statistics.pstdev(losses))
        assert row.accuracy == pytest.approx(statistics.fmean(s.val_accuracy for s in best.seeds))
        assert row.peak_bytes == max(s.peak_bytes for s in best.seeds)
        assert row.state_per_param == pytest.approx(statistics.fmean(s.state_per_param for s in best.seeds))
        assert row.throughput == pytest.approx(statistics.fmean(s.throughput for s in best.seeds))
        within = [t for t in trials if t.value <= best.value * 1.10]
        assert row.sensitivity == pytest.approx(len(within) / len(trials))
        first_near = next(i for i, t in enumerate(trials) if t.value <= best.value * 1.01)
        assert row.trials_to_near == first_near + 1
        assert report.history[name][-1] == (trials[-1].number, best.value)
    assert row.state_per_param == pytest.approx(4.0, abs=0.05)  # momentum keeps one buffer
    assert report.row("adamw").state_per_param == pytest.approx(8.0, abs=0.05)
    winner = min(report.rows, key=lambda r: r.val_loss)
    assert report.answers[0] == ("lowest validation loss", f"{winner.optimizer} ({winner.val_loss:.4g} ± "
                                 f"{winner.val_loss_spread:.2g})")  # fmt: skip
    assert "trials" in report.to_dict() and report.to_dict()["optimizers"][0]["optimizer"] == "adamw"


def test_a_grid_runs_each_cell_once_and_runs_an_interrupted_cell_again(make_setup, journal):
    path, storage = journal
    setup = make_setup(optimizers=("adamw", "lion"), mode="grid", grid_points=2, seeds=1)
    study = TuningStudy.create(storage, setup)
    assert study.budget == 4
    study.run_worker(max_trials=3)
    # A worker dies in the middle of a cell: its trial stays running, its heartbeat stops.
    stale = study.studies["lion"].ask()
    stale.suggest_float("lr", 1e-5, 1.0, log=True)
    stale.suggest_float("beta2", 0.9, 0.9999)
    stale.set_user_attr("heartbeat", 0.0)
    resumed = TuningStudy.load(open_storage(path), "tiny")
    summary = resumed.run_worker(stale_after=60)
    assert summary.failed_stale == [f"lion #{stale.number}"]
    records = resumed.records()
    for name, trials in records.items():
        cells = [tuple(sorted(t.params.items())) for t in trials if t.state == "complete"]
        assert len(cells) == 4 and len(set(cells)) == 4, name
    failed = {t.number: t.note for t in records["lion"] if t.state == "fail"}
    assert "interrupted" in failed.pop(stale.number)
    # Optuna's sampler may offer a cell already done (it numbers cells by trial number at first): such a
    # trial is failed at once, untrained, and does not count.
    assert all("took this grid cell first" in note for note in failed.values())
    grid = build_report(resumed.setup, records).grids["adamw"]
    assert (grid.x_name, grid.y_name) == ("lr", "beta2") and len(grid.x_values) == len(grid.y_values) == 2
    assert all(math.isfinite(v) for row in grid.values for v in row)


def test_a_name_taken_by_another_set_up_is_refused_with_the_difference(make_setup, journal):
    _, storage = journal
    TuningStudy.create(storage, make_setup())
    with pytest.raises(OptvizError, match=r"another set-up \(steps: 8 there, 9 now\)"):
        TuningStudy.create(storage, make_setup(steps=9))
    with pytest.raises(OptvizError, match="no study named 'other'"):
        TuningStudy.load(storage, "other")


def test_a_trial_asked_after_another_worker_took_the_last_place_is_failed_untrained(make_setup, journal):
    """The race two workers run for the last place: the storage numbers trials in order, so the later one
    sees the earlier one running and gives its place up."""
    import os

    _, storage = journal
    study = TuningStudy.create(storage, make_setup(optimizers=("adamw",), trials=1))
    other = study.studies["adamw"].ask()  # another worker, alive, took the only place a moment ago
    other.set_user_attr("worker", {"host": "elsewhere", "pid": os.getpid()})
    assert study._ask("adamw") is None
    late = study.records()["adamw"][-1]
    assert late.state == "fail" and "over budget" in late.note and late.seeds == []
    assert study.counted() == {"adamw": 1} and study.run_worker().trained == 0
