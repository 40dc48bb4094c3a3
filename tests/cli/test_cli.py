"""The command line end to end: output files, leaderboard, and one-line errors.

Commands run in-process through `optviz.cli.main` (the `cli` fixture, tests/cli/conftest.py); a few smoke
tests at the end run `python -m optviz` in a subprocess to prove the entry point and its exit status.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys

import pytest

from optviz.core.optimizers import get_optimizer


def optviz(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "optviz", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_version_and_help(cli):
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("optviz ")
    for args in ([], ["race"], ["list"]):
        out = cli(*args, "--help")
        assert out.returncode == 0 and "usage:" in out.stdout


def test_list_optimizers_json(cli):
    out = cli("list", "optimizers", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["adam"]["source"] == "torch.optim"
    assert {h["name"] for h in rows["adam"]["hyperparameters"]} >= {"lr", "beta1", "beta2", "eps"}
    assert rows["adam8bit"]["on_surfaces"] is False and rows["adam8bit"]["unavailable_reason"]
    assert rows["adam8bit"]["can_train"] is True and rows["adam"]["training_unavailable_reason"] is None
    assert rows["sparse_adam"]["can_train"] is False and "sparse" in rows["sparse_adam"]["training_unavailable_reason"]
    table = cli("list", "optimizers").stdout
    assert "[cannot train models: needs sparse gradients" in table


def test_list_surfaces_table(cli):
    out = cli("list", "surfaces")
    assert out.returncode == 0 and out.stderr == ""
    assert "rosenbrock" in out.stdout and "noise=0.0" in out.stdout


def test_race_writes_json_and_csv(cli, tmp_path):
    js, cs = tmp_path / "race.json", tmp_path / "race.csv"
    out = cli(
        "race",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam:lr=0.01,beta1=0.9",
        "--optimizer",
        "sgd:lr=1e-3,momentum=0.9,nesterov=true",
        "--start",
        "-1.5,2",
        "--steps",
        "200",
        "--seed",
        "3",
        "--json",
        str(js),
        "--csv",
        str(cs),
    )
    assert out.returncode == 0, out.stderr
    assert "adam" in out.stdout and "final loss" in out.stdout
    data = json.loads(js.read_text())
    assert data["steps"] == 200 and data["seed"] == 3
    adam, sgd = data["runs"]
    assert adam["optimizer"] == "adam" and adam["start"] == [-1.5, 2.0]
    assert adam["positions"][0] == [-1.5, 2.0] and len(adam["positions"]) == len(adam["losses"]) == 201
    assert adam["hyperparameters"] == get_optimizer("adam").resolve({"lr": 0.01}, "rosenbrock")
    assert sgd["hyperparameters"]["nesterov"] is True and sgd["hyperparameters"]["momentum"] == 0.9
    assert adam["status"] in ("running", "converged") and "stopped_at" in adam
    rows = list(csv.DictReader(cs.open()))
    assert len(rows) == 2 * 201 and rows[0]["optimizer"] == "adam" and float(rows[0]["x"]) == -1.5


def test_race_grid_and_scene(cli, tmp_path):
    scene = tmp_path / "s.toml"
    scene.write_text(
        'format = "optviz-scene"\nversion = 1\n[surface]\nname = "booth"\n'
        '[race]\nsteps = 50\n[[optimizers]]\nname = "adam"\n'
    )
    out = cli("race", "--scene", str(scene), "--starts", "grid:4x3", "--optimizer", "rmsprop")
    assert out.returncode == 0, out.stderr
    assert "12 start(s)" in out.stdout and "rmsprop" in out.stdout


def test_diverging_race_is_reported_not_raised(cli, tmp_path):
    out = cli("race", "--optimizer", "sgd:lr=1", "--steps", "100", "--json", str(tmp_path / "d.json"))
    assert out.returncode == 0, out.stderr
    assert "diverged at step" in out.stdout
    (run,) = json.loads((tmp_path / "d.json").read_text())["runs"]
    assert run["status"] == "diverged" and run["stopped_at"] == len(run["positions"])


BAD_INPUT = [
    (["race", "--optimizer", "adamm"], "unknown optimizer 'adamm'"),
    (["race", "--surface", "nope"], "unknown surface 'nope'"),
    (["race", "--optimizer", "adam:lrr=1"], "no parameter 'lrr'"),
    (["race", "--optimizer", "adam:lr=20"], "out of range"),
    (["race", "--optimizer", "adam:lr=fast"], "is not a number"),
    (["race", "--optimizer", "adam:lr"], "is not key=value"),
    (["race", "--start", "1;2"], "two numbers"),
    (["race", "--starts", "grid:axb"], "grid:NxM"),
    (["race", "--steps", "x"], "--steps: 'x' is not an integer"),
    (["race", "--scene", "missing.toml"], "no such scene file"),
    (["race", "--formula", "x^2 + z"], "unknown name 'z'"),
    (["race", "--formula", "log(x) + y^2", "--start", "-1,0.5"], "f is undefined at the start (-1, 0.5)"),
    (["race", "--formula", "sqrt(-1 - x^2)"], "f is undefined at the suggested start"),
    (["race", "--optimizer", "adam8bit"], "cannot race on a surface"),
    (["race", "--optimizer", "sgd:nesterov=true"], "Nesterov"),
    (["list", "things"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(cli, args, message, tmp_path):
    out = cli(*args, "--json", str(tmp_path / "o.json")) if args[0] == "race" else cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0] and lines[0].startswith("optviz")
    assert "Traceback" not in out.stderr
    assert out.stdout == ""
    assert not (tmp_path / "o.json").exists()


def test_unwritable_output_fails_before_racing(cli, tmp_path):
    out = cli("race", "--json", str(tmp_path / "no" / "such" / "dir.json"))
    assert out.returncode == 2 and "does not exist" in out.stderr
    assert out.stdout == ""


def test_formula_surface(cli, tmp_path):
    js = tmp_path / "f.json"
    formula = "(x-1)^2 + 10*(y+0.5)^2"
    out = cli("race", "--formula", formula, "--optimizer", "adam:lr=0.05", "--steps", "300", "--json", str(js))
    assert out.returncode == 0, out.stderr
    assert "1 optimizer(s) x 1 start(s) x 300 steps" in out.stdout and "adam" in out.stdout
    data = json.loads(js.read_text())
    assert data["surface"]["name"] == "custom" and data["surface"]["params"]["formula"] == formula
    (run,) = data["runs"]
    assert run["status"] != "diverged"
    assert run["losses"][-1] < run["losses"][0]


def test_formula_left_where_it_is_defined_says_so(cli, tmp_path):
    js = tmp_path / "f.json"
    args = ("--formula", "log(x) + y^2", "--start", "0.05,1", "--optimizer", "sgd:lr=0.5", "--steps", "50")
    out = cli("race", *args, "--json", str(js))
    assert out.returncode == 0, out.stderr
    assert "diverged at step 1: left the region where f is defined" in out.stdout
    (run,) = json.loads(js.read_text())["runs"]
    assert run["reason"] == "left the region where f is defined" and run["stopped_at"] == 1


def test_no_display_screenshot_is_one_line_naming_the_headless_commands(cli, tmp_path, monkeypatch):
    # Without a display the app renders a video instead (tests/cli/test_export_cmd.py); a screenshot of the
    # window still needs one, and says so in one line.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = cli("--screenshot", tmp_path / "s.png")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "no display" in line and "optviz export" in line and "Traceback" not in out.stderr
    assert out.stdout == "" and not (tmp_path / "s.png").exists()


# The entry point itself, in a real process: `python -m optviz` exits with main's status, and an error is
# still one line with no traceback.


def test_entry_point_version_and_help():
    out = optviz("--version")
    assert out.returncode == 0 and out.stdout.startswith("optviz ")
    out = optviz("race", "--help")
    assert out.returncode == 0 and "usage:" in out.stdout and "--optimizer" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["race", "--optimizer", "adamm"], "unknown optimizer 'adamm'"),  # OptvizError: main returns 2
        (["race", "--steps", "x"], "--steps: 'x' is not an integer"),  # argparse: SystemExit(2)
    ],
)
def test_entry_point_error_is_one_line_and_exit_2(args, message, tmp_path):
    out = optviz(*args, "--json", str(tmp_path / "o.json"))
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert message in line and "Traceback" not in out.stderr
    assert out.stdout == "" and not (tmp_path / "o.json").exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_json_and_csv_outputs_have_the_permissions_the_umask_gives(tmp_path, capsys):
    from optviz import cli as optviz_cli

    js, cs = tmp_path / "race.json", tmp_path / "race.csv"
    previous = os.umask(0o022)
    try:
        assert optviz_cli.main(["race", "--steps", "20", "--json", str(js), "--csv", str(cs)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(js.stat().st_mode) == 0o644  # not mkstemp's private 0600
    assert stat.S_IMODE(cs.stat().st_mode) == 0o644
