"""`optviz landscape` end to end (in-process, the `cli` fixture): the npz and JSON files, the summary,
one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_landscape_writes_grid_paths_and_json(cli, tmp_path):
    out, js = tmp_path / "moons.npz", tmp_path / "moons.json"
    args = ["landscape", "--model", "mlp", "--dataset", "moons", "--optimizer", "adam:lr=0.02"]
    args += ["--optimizer", "sgd:lr=0.3", "--steps", "12", "--resolution", "7", "--out", str(out), "--json", str(js)]
    run = cli(*args)  # the fixture's cache folder is empty: the grid is computed, not loaded
    assert run.returncode == 0, run.stderr
    assert "surface: 7/7 rows" in run.stderr and "100%" in run.stderr  # the progress bar
    assert "adam" in run.stdout and "explained" in run.stdout
    with np.load(out) as data:
        assert data["loss"].shape == (7, 7) and data["xs"].shape == data["ys"].shape == (7,)
        assert data["positions"].shape == (2, 13, 2)
        assert data["true_losses"].shape == data["plane_losses"].shape == (2, 13)
        assert list(data["optimizers"]) == ["adam", "sgd"] and str(data["plane"]) == "pca"
    report = json.loads(js.read_text())
    assert report["plane"]["kind"] == "pca" and len(report["plane"]["explained_variance"]) == 2
    run_0 = report["optimizers"][0]
    assert run_0["optimizer"] == "adam" and len(run_0["positions"]) == 13
    assert len(run_0["true_losses"]) == len(run_0["plane_losses"]) == 13
    assert 0.0 <= run_0["explained_fraction"] <= 1.0


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--model", "resnet", "unknown model 'resnet'"), ("--dataset", "mnist", "unknown data set 'mnist'")],
)
def test_unknown_names_are_one_line_and_exit_2(cli, tmp_path, flag, value, message):
    args = {"--model": "mlp", "--dataset": "moons", flag: value}
    out = tmp_path / "x.npz"
    run = cli("landscape", "--model", args["--model"], "--dataset", args["--dataset"], "--out", str(out))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("optviz landscape: error:")
    assert not out.exists() and run.stdout == ""


def test_fitted_plane_needs_an_optimizer(cli, tmp_path):
    run = cli("landscape", "--model", "mlp", "--dataset", "moons", "--plane", "pca", "--out", str(tmp_path / "x.npz"))
    assert run.returncode == 2 and "--optimizer" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith("optviz landscape: error:") and run.stdout == ""
    assert not (tmp_path / "x.npz").exists()
