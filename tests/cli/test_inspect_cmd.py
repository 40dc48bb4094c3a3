"""`optviz inspect`: one step of one run as JSON and as a table, the output rules, and one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optviz.core.optimizers import get_optimizer
from optviz.core.race.inspect import record_steps
from optviz.core.race.result import RunConfig
from optviz.core.surfaces import get_surface

RUN = ("--surface", "rosenbrock", "--optimizer", "adam:lr=0.01", "--start", "-1.5,2")


def test_writes_the_step_as_json(cli, tmp_path):
    out_file = tmp_path / "step.json"
    out = cli("inspect", *RUN, "--step", 7, "--json", out_file)
    assert out.returncode == 0, out.stderr
    data = json.loads(out_file.read_text())
    hp = get_optimizer("adam").resolve({"lr": 0.01}, "rosenbrock")
    want = record_steps(get_surface("rosenbrock"), RunConfig("adam", hp), np.array([-1.5, 2.0]), 7)[-1]
    assert data["step"] == 7 and data["optimizer"] == "adam" and data["hyperparameters"]["lr"] == 0.01
    for key in ("before", "after", "gradient", "update"):
        assert data[key] == getattr(want, key).tolist(), key
    assert set(data["state"]) == {"step", "exp_avg", "exp_avg_sq"}
    assert data["state"]["step"] == 7.0 and data["state"]["exp_avg"] == want.state["exp_avg"].tolist()
    assert set(data["derived"]) == {"m_hat", "v_hat", "denominator", "step"}
    assert data["step_note"] == get_optimizer("adam").step_note
    # The table went to standard output.
    assert "adam on rosenbrock" in out.stdout and "exp_avg_sq" in out.stdout and "m_hat" in out.stdout


def test_lbfgs_history_and_shampoo_matrices_are_nested_lists(cli):
    lbfgs = json.loads(cli("inspect", "--optimizer", "lbfgs", "--step", 4, "--json", "-").stdout)
    assert len(lbfgs["state"]["old_dirs"]) == 3 and len(lbfgs["state"]["old_dirs"][0]) == 2
    out = cli("inspect", "--optimizer", "shampoo", "--step", 3, "--json", "-")
    assert out.returncode == 0 and "pre_cond_0" in out.stderr  # the table moves to stderr
    pre = np.array(json.loads(out.stdout)["state"]["pre_cond_0"])
    assert pre.shape == (2, 2) and np.allclose(pre, pre.T)


def test_an_existing_file_is_kept_without_force(cli, tmp_path):
    out_file = tmp_path / "step.json"
    out_file.write_text("keep")
    out = cli("inspect", *RUN, "--step", 2, "--json", out_file)
    assert out.returncode == 2 and "already exists" in out.stderr and out_file.read_text() == "keep"
    assert cli("inspect", *RUN, "--step", 2, "--json", out_file, "--force").returncode == 0
    assert json.loads(out_file.read_text())["step"] == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((*RUN, "--step", 0), "steps count from 1"),
        ((*RUN, "--step", "two"), "is not an integer"),
        (("--surface", "rosenbrock", "--optimizer", "sgd:lr=1", "--step", 5), "beyond the run's divergence at step"),
        (("--optimizer", "nosuch", "--step", 3), "unknown optimizer 'nosuch'"),
        (("--optimizer", "adam", "--optimizer", "sgd", "--step", 3), "--optimizer is given 2 times"),
        (("--step", 3), "pick one with --optimizer"),
        (("--optimizer", "adam:lr=-1", "--step", 3), "lr"),
        (("--optimizer", "adam8bit", "--step", 3), "cannot race on a surface"),
        (("--optimizer", "adam", "--start", "1,x", "--step", 3), "must be two numbers"),
        (
            (
                "--optimizer",
                "adam",
            ),
            "--step",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(cli, args, says):
    out = cli("inspect", *args)
    assert out.returncode == 2, out
    assert says in out.stderr and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_listed_in_the_help(cli):
    assert "inspect" in cli("--help").stdout
    assert "--step" in cli("inspect", "--help").stdout
