"""`optviz robustness` end to end (in-process, the `cli` fixture): the table, the JSON, one-line refusals."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BASE = ["robustness", "--model", "mlp", "--dataset", "moons", "--device", "cpu", "--batch-size", "32"]
SHORT = ["--at-step", "3", "--after", "3"]


def test_robustness_prints_a_table_and_writes_every_outcome(cli, tmp_path):
    out_file = tmp_path / "rob.json"
    out = cli(*BASE, *SHORT, "--optimizer", "sgd:lr=0.1", "--optimizer", "lion", "--json", out_file)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1].split() == ["optimizer", "exploding", "vanishing", "sparse", "nan", "inf"]
    assert [line.split()[0] for line in lines[3:7]] == ["sgd", "sgd", "lion", "lion"]
    assert lines[3].split()[4] == "NaN"  # SGD without clipping: one NaN entry spreads into the weights
    assert f"wrote {out_file}" in out.stdout
    data = json.loads(out_file.read_text())
    assert data["format"] == "optviz-robustness" and data["judged_at"] == 6 and data["clip_norms"] == [None, 1.0]
    sgd = data["optimizers"][0]
    assert sgd["hyperparameters"]["lr"] == 0.1 and len(sgd["baselines"]) == 2
    assert len(sgd["cases"]) == 10
    nan = next(c for c in sgd["cases"] if c["case"] == "nan" and c["clip"] is None)
    assert nan["outcome"] == "weights became NaN" and nan["first_nonfinite_step"] == 3
    assert nan["window_steps"] == [1, 2, 3, 4, 5, 6] and nan["loss"][-1] is None  # NaN is written as null


def test_json_to_stdout_sends_the_table_to_stderr(cli):
    out = cli(*BASE, *SHORT, "--optimizer", "adam", "--no-clip", "--cases", "nan,inf", "--json", "-")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["clip_norms"] == [None] and set(data["cases"]) == {"nan", "inf"}
    assert "optimizer" in out.stderr and "nan" in out.stderr


def test_clip_reads_norm_equals(cli):
    out = cli(*BASE, *SHORT, "--optimizer", "sgd", "--clip", "norm=0.5", "--cases", "sparse", "--json", "-")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["clip_norms"] == [None, 0.5] and "sgd + clip 0.5" in out.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--optimizer", "nosuch"], "unknown optimizer"),
        (["--optimizer", "muon"], "cannot train"),
        ([], "at least one --optimizer"),
        (["--optimizer", "sgd", "--steps", "4"], "ends before the judgement step"),
        (["--optimizer", "sgd", "--at-step", "0"], "event step"),
        (["--optimizer", "sgd", "--cases", "nan,boom"], "unknown case"),
        (["--optimizer", "sgd", "--clip", "0"], "--clip"),
        (["--optimizer", "sgd", "--clip", "1", "--no-clip"], "not allowed with"),
        (["--optimizer", "sgd", "--tolerance", "-5"], "--tolerance"),
        (["--optimizer", "sgd", "--dataset", "nosuch"], "unknown data set"),
    ],
)
def test_robustness_refuses_with_one_line(cli, args, fragment, tmp_path):
    out = cli(*BASE, *SHORT, "--json", tmp_path / "x.json", *args)
    assert out.returncode == 2, out.stderr
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("optviz robustness: error:") and out.stdout == ""
    assert not (tmp_path / "x.json").exists()


def test_an_existing_output_is_kept_without_force(cli, tmp_path, monkeypatch):
    from optviz.core.learn import robustness

    monkeypatch.setattr(robustness, "_train", lambda *a: pytest.fail("trained before checking the output"))
    target = tmp_path / "old.json"
    target.write_text("keep")
    out = cli(*BASE, *SHORT, "--optimizer", "sgd", "--json", target)
    assert out.returncode == 2 and "already exists (use --force" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and target.read_text() == "keep"
