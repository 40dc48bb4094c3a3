"""`optviz race --perturb ... --clip ...`: the same perturbations and clipping as scene files, one-line refusals."""

from __future__ import annotations

import json

import pytest


def test_spike_throws_momentum_out_and_names_the_spike(cli, tmp_path):
    out = cli(
        "race",
        "--perturb",
        "spike:factor=1e3,at=100",
        "--optimizer",
        "momentum",
        "--optimizer",
        "momentum:clip_norm=1",
        "--steps",
        "200",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert out.returncode == 0, out.stderr
    assert "diverged at step 109: exploded after the spike at step 100" in out.stdout
    runs = json.loads((tmp_path / "r.json").read_text())["runs"]
    assert [r["clip"] for r in runs] == [None, {"kind": "norm", "threshold": 1.0}]
    assert runs[1]["status"] != "diverged" and runs[1]["label"] == "momentum (clip norm=1)"


def test_clip_applies_to_every_optimizer_without_its_own(cli, tmp_path):
    out = cli(
        "race", "--perturb", "nan:at=20", "--clip", "value=0.5", "--optimizer", "sgd", "--steps", "40", "--json", "-"
    )
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)["runs"][0]
    assert run["clip"] == {"kind": "value", "threshold": 0.5}
    assert run["reason"] == "NaN from the injected NaN gradient at step 20"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--perturb", "wobble"], "perturbation 'wobble' is not one of spike"),
        (["--perturb", "spike:factor=0"], "factor=0 is out of range"),
        (["--perturb", "spike:factor"], "is not key=value"),
        (["--perturb", "stale:lag=1.5"], "lag='1.5' is not an integer"),
        (["--perturb", "nan:when=3"], "nan has no parameter 'when'"),
        (["--clip", "norm=abc"], "'abc' is not a number"),
        (["--clip", "size=1"], "must be norm=X, value=X or off"),
        (["--clip", "norm=0"], "clip norm=0 is out of range"),
        (["--optimizer", "adam:clip_norm=1,clip_value=2"], "give clip_norm or clip_value, not both"),
    ],
)
def test_bad_perturb_and_clip_are_one_line_and_exit_2(cli, args, message):
    out = cli("race", *args, "--steps", "5")
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
