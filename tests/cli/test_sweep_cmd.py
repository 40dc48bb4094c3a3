"""`optviz sweep`, `optviz basins`, `optviz tune`: files that hold what the core computed, real pictures, and
one line with exit 2 (and no file) for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optviz.core.surfaces import get_surface
from optviz.core.sweep import SweepAxis, sweep_hyperparams


def picture(path):
    """(width, height, distinct colours) of a PNG file."""
    from PySide6 import QtGui

    image = QtGui.QImage(str(path))
    assert not image.isNull(), f"{path} is not a PNG"
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), -1)
    return image.width(), image.height(), len(np.unique(data.reshape(-1, 4), axis=0))


def test_sweep_writes_grids_indexed_y_then_x(cli, tmp_path):
    out = cli(
        "sweep",
        "--optimizer",
        "adam",
        "--x",
        "lr=1e-3:0.5:5:log",
        "--y",
        "beta1=0.5:0.95:3",
        "--steps",
        "120",
        "--json",
        tmp_path / "m.json",
        "--npz",
        tmp_path / "m.npz",
        "--png",
        tmp_path / "m.png",
    )
    assert out.returncode == 0, out.stderr
    assert "adam on rosenbrock: lr x beta1 = 5 x 3 cells" in out.stdout
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["x"]["name"] == "lr" and data["x"]["scale"] == "log" and len(data["x"]["values"]) == 5
    assert data["y"]["values"] == [0.5, 0.725, 0.95]
    grids = data["starts"][0]["grids"]
    assert len(grids["final_loss"]) == 3 and len(grids["final_loss"][0]) == 5  # [y][x]
    # The cell (y=2, x=4) is the race at beta1=0.95, lr=0.5.
    surface = get_surface("rosenbrock")
    ref = sweep_hyperparams(
        surface,
        "adam",
        {},
        SweepAxis("lr", 0.5, 0.5, 1, True),
        SweepAxis("beta1", 0.95, 0.95, 1, False),
        np.array([surface.start]),
        120,
    )
    assert grids["final_loss"][2][4] == pytest.approx(float(ref.cells.final_loss[0, 0, 0]), rel=1e-12)
    assert grids["status"][2][4] == str(ref.cells.status[0, 0, 0])
    arrays = np.load(tmp_path / "m.npz")
    assert arrays["final_loss"].shape == (3, 5, 1)
    width, height, colours = picture(tmp_path / "m.png")
    assert (width, height) == (960, 720) and colours > 20


def test_sweep_defaults_and_several_starts(cli, tmp_path):
    out = cli("sweep", "--optimizer", "momentum", "--steps", "30", "--starts", "3", "--json", tmp_path / "d.json")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "d.json").read_text())
    assert (data["x"]["name"], data["y"]["name"]) == ("lr", "momentum")  # lr x momentum by default
    assert len(data["starts"]) == 3 and len(data["median_final_loss"]) == 64


def test_basins_on_himmelblau_find_four_minima(cli, tmp_path):
    out = cli(
        "basins",
        "--surface",
        "himmelblau",
        "--optimizer",
        "adam:lr=0.1",
        "--grid",
        "16x12",
        "--steps",
        "300",
        "--json",
        tmp_path / "b.json",
        "--png",
        tmp_path / "b.png",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["grid"]["nx"] == 16 and len(data["minimum"]) == 12 and len(data["minimum"][0]) == 16
    assert {v for row in data["minimum"] for v in row} >= {0, 1, 2, 3}
    assert len(data["final_position"][0][0]) == 2
    assert picture(tmp_path / "b.png")[2] >= 4


def test_tune_ranks_optimizers_by_one_objective(cli, tmp_path):
    out = cli(
        "tune",
        "--optimizer",
        "adam",
        "--optimizer",
        "sgd",
        "--budget",
        "6",
        "--starts",
        "4",
        "--steps",
        "100",
        "--json",
        tmp_path / "t.json",
        "--png",
        tmp_path / "t.png",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("median over 4 random starts of the final loss after 100 steps")
    data = json.loads((tmp_path / "t.json").read_text())
    for entry in data["optimizers"]:
        objective = np.array([np.inf if v is None else v for v in entry["objective"][0]])
        assert entry["best"]["lr"] == entry["lr"][int(np.argmin(objective))]
    assert picture(tmp_path / "t.png")[2] > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--optimizer", "adam", "--x", "nope=1:2:3"], "nope"),
        (["sweep", "--optimizer", "adam", "--x", "amsgrad=0:1:2"], "real-valued"),
        (["sweep", "--optimizer", "adam", "--x", "lr=1:0.1:4"], "LO must be less than HI"),
        (["sweep", "--optimizer", "adam", "--x", "lr", "--y", "lr"], "different hyperparameters"),
        (["sweep", "--optimizer", "sparse_adam"], "cannot race on a surface"),
        (["sweep", "--optimizer", "adam", "--steps", "0"], "steps"),
        (["basins", "--optimizer", "adam", "--grid", "0x4"], "grid"),
        (["tune", "--optimizer", "adam", "--budget", "1"], "budget"),
        (["tune", "--optimizer", "adam", "--also", "momentum=0:0.9:3"], "momentum"),
        (["tune", "--optimizer", "adam", "--steps", "50", "--budgets", "10,60"], "budgets"),
        (["tune", "--optimizer", "adam", "--budgets", "ten"], "budgets"),
    ],
)
def test_bad_input_is_one_line_and_no_file(cli, tmp_path, args, message):
    out = cli(*args, "--json", tmp_path / "x.json")
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_nothing_to_write_is_refused_before_work(cli):
    out = cli("sweep", "--optimizer", "adam")
    assert out.returncode == 2 and "nothing to write" in out.stderr


def test_tune_scores_shorter_budgets_too(cli, tmp_path):
    out = cli(
        "tune",
        "--optimizer",
        "adam",
        "--budget",
        "4",
        "--starts",
        "2",
        "--steps",
        "60",
        "--budgets",
        "20,40",
        "--json",
        tmp_path / "t.json",
    )
    assert out.returncode == 0, out.stderr
    assert "best lr by step budget: 20, 40, 60" in out.stdout
    (entry,) = json.loads((tmp_path / "t.json").read_text())["optimizers"]
    assert [b["steps"] for b in entry["by_budget"]] == [20, 40, 60]
    assert entry["by_budget"][-1]["best"] == entry["best"]


def test_sweep_outputs_follow_the_one_policy(cli, tmp_path):
    existing = tmp_path / "map.json"
    existing.write_text("keep me")
    out = cli("basins", "--optimizer", "sgd", "--grid", "4x4", "--steps", "10", "--json", existing)
    assert out.returncode == 2 and "--force" in out.stderr and existing.read_text() == "keep me"
    out = cli("basins", "--optimizer", "sgd", "--grid", "4x4", "--steps", "10", "--json", existing, "--force")
    assert out.returncode == 0 and json.loads(existing.read_text())["format"] == "optviz-basins"
    out = cli("basins", "--optimizer", "sgd", "--grid", "4x4", "--steps", "10", "--json", "-")
    assert json.loads(out.stdout)["grid"]["nx"] == 4 and "sgd on rosenbrock" in out.stderr


def test_sweeps_take_the_race_s_pathology_clipping_and_schedule(cli, tmp_path):
    from optviz.core.race.clip import Clip
    from optviz.core.race.perturb import Perturbation
    from optviz.core.sweep import RunConditions

    axes = ["--x", "lr=1e-4:0.01:4:log", "--y", "momentum=0.5:0.95:2", "--steps", "200"]
    spike = ["--perturb", "spike:factor=1e3,at=100"]
    own = cli("sweep", "--optimizer", "momentum:clip_norm=1", *axes, *spike, "--json", tmp_path / "own.json")
    every = cli("sweep", "--optimizer", "momentum", *axes, *spike, "--clip", "norm=1", "--json", tmp_path / "all.json")
    assert own.returncode == 0 and every.returncode == 0, (own.stderr, every.stderr)
    data = json.loads((tmp_path / "own.json").read_text())
    assert (data["perturbation"], data["clip"], data["schedule"]) == ("spike", "norm=1", None)  # the defaults left out
    assert data["starts"] == json.loads((tmp_path / "all.json").read_text())["starts"]  # one meaning, two spellings
    surface = get_surface("rosenbrock")
    conditions = RunConditions(Perturbation.make("spike", {"factor": 1e3}), Clip("norm", 1.0))
    x, y = SweepAxis("lr", 1e-4, 0.01, 4, True), SweepAxis("momentum", 0.5, 0.95, 2, False)
    ref = sweep_hyperparams(surface, "momentum", {}, x, y, np.array([surface.start]), 200, conditions=conditions)
    got = np.array(data["starts"][0]["grids"]["final_loss"], dtype=float)
    np.testing.assert_allclose(got, ref.cells.final_loss[..., 0], rtol=1e-12)

    bad = cli("basins", "--optimizer", "adam", "--perturb", "spike:factor=x", "--json", tmp_path / "b.json")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "spike" in bad.stderr
    assert not (tmp_path / "b.json").exists()
    tuned = cli("tune", "--optimizer", "adam:schedule=one-cycle", "--optimizer", "sgd", "--steps", "100",
                "--budget", "4", "--starts", "2", "--json", tmp_path / "t.json")  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr
    schedules = [o["schedule"] for o in json.loads((tmp_path / "t.json").read_text())["optimizers"]]
    assert schedules == ["one-cycle", None]
