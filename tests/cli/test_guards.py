"""Guards of the commands (in-process, the `cli` fixture): a race too big for memory, a training run too
long, and `optviz landscape` with no optimizer, an optimizer that cannot train, and one step."""

from __future__ import annotations

import json

import numpy as np
import pytest

LANDSCAPE = ["landscape", "--model", "mlp", "--dataset", "moons", "--resolution", "5"]


def one_line(run, prog: str) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"optviz {prog}: error:"), run.stderr
    return lines[0]


@pytest.mark.parametrize("steps", ["1000", "100000"])
def test_a_race_too_big_for_memory_is_refused_naming_estimate_and_limit(cli, tmp_path, steps):
    out = tmp_path / "r.json"
    run = cli("race", "--starts", "grid:512x512", "--steps", steps, "--json", out)
    assert run.returncode == 2 and run.stdout == ""
    line = one_line(run, "race")
    assert "needs about" in line and "GiB" in line and "allowed" in line and f"x {steps} steps" in line
    assert not out.exists()


def test_an_ordinary_grid_race_still_runs(cli):
    run = cli("race", "--starts", "grid:8x8", "--steps", "20")
    assert run.returncode == 0 and "64 start(s)" in run.stdout


def test_train_refuses_a_run_that_would_not_end(cli, tmp_path):
    run = cli("train", "--optimizer", "sgd", "--steps", "1000000000000", "--json", tmp_path / "t.json")
    assert run.returncode == 2 and "out of range (1 to 100000)" in one_line(run, "train")
    assert not (tmp_path / "t.json").exists()


def test_landscape_random_plane_needs_no_optimizer(cli, tmp_path):
    out, js = tmp_path / "l.npz", tmp_path / "l.json"
    run = cli(*LANDSCAPE, "--plane", "random", "--out", out, "--json", js)
    assert run.returncode == 0, run.stderr
    assert "random plane, 5x5 grid" in run.stdout
    with np.load(out) as data:
        assert data["loss"].shape == (5, 5) and data["positions"].shape == (0, 201, 2)
    assert json.loads(js.read_text())["optimizers"] == []


@pytest.mark.parametrize("name", ["sparse_adam", "muon"])
def test_landscape_refuses_an_optimizer_that_cannot_train_before_training(cli, tmp_path, monkeypatch, name):
    from optviz.core.learn import session

    def boom(*_args, **_kwargs):
        raise AssertionError("trained before refusing")

    monkeypatch.setattr(session, "learned_race_steps", boom)
    run = cli(*LANDSCAPE, "--optimizer", "adam", "--optimizer", name, "--out", tmp_path / "l.npz")
    assert run.returncode == 2 and f"{name} cannot train here" in one_line(run, "landscape")
    assert run.stdout == ""


@pytest.mark.parametrize("plane", ["pca", "three-point"])
def test_landscape_takes_a_single_step(cli, tmp_path, plane):
    out = tmp_path / "l.npz"
    run = cli(*LANDSCAPE, "--optimizer", "adam", "--plane", plane, "--steps", "1", "--out", out)
    assert run.returncode == 0, run.stderr
    with np.load(out) as data:
        assert data["positions"].shape == (1, 2, 2) and np.isfinite(data["plane_losses"]).all()
        assert data["explained"][0] == pytest.approx(1.0)  # a single step lies in its own plane


@pytest.mark.parametrize("steps", ["0", "100001"])
def test_landscape_steps_outside_the_range_are_refused(cli, tmp_path, steps):
    run = cli(*LANDSCAPE, "--optimizer", "adam", "--steps", steps, "--out", tmp_path / "l.npz")
    assert run.returncode == 2 and "out of range (1 to 100000)" in one_line(run, "landscape")
