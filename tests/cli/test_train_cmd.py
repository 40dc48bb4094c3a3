"""`optviz train` end to end (in-process, the `cli` fixture): the table, the JSON per optimizer, and
one-line refusals."""

from __future__ import annotations

import json

import pytest


def test_train_writes_curves_step_times_and_memory_per_optimizer(cli, tmp_path):
    out_file = tmp_path / "runs.json"
    out = cli(
        "train", "--model", "mlp", "--dataset", "xor", "--optimizer", "adamw:lr=0.01",
        "--optimizer", "sgd:lr=0.1,momentum=0.9,impl=fused", "--impl", "foreach", "--device", "cpu",
        "--steps", "15", "--batch-size", "32", "--schedule", "warmup-cosine", "--seed", "3", "--json", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "device: CPU" in out.stderr
    assert "adamw (foreach)" in out.stdout and "sgd (fused)" in out.stdout
    data = json.loads(out_file.read_text())
    assert data["format"] == "optviz-train" and data["device"] == "cpu" and data["seed"] == 3
    adamw, sgd = data["runs"]
    assert (adamw["implementation"], sgd["implementation"]) == ("foreach", "fused")
    for run in data["runs"]:
        assert run["status"] == "done" and len(run["train_loss"]) == 15 and len(run["step_times"]) == 15
        assert run["parameter_count"] == run["memory"]["parameters"] > 0
        assert run["memory"]["optimizer_state_bytes"] > 0 and run["memory"]["peak_bytes"] > 0
    assert adamw["memory"]["optimizer_state_bytes_per_param"] == pytest.approx(8.0, abs=0.05)
    assert adamw["hyperparameters"]["lr"] == 0.01


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--optimizer", "rmsprop:impl=fused"], "no fused implementation"),
        (["--optimizer", "adam", "--precision", "fp16", "--device", "cpu"], "CUDA only"),
        (["--optimizer", "muon"], "2-D parameters"),
        (["--optimizer", "adam", "--model", "transformer"], "does not fit"),
        (["--optimizer", "nosuch"], "unknown optimizer"),
        (["--optimizer", "adam", "--dataset", "nosuch"], "unknown data set"),
        (["--optimizer", "adam:lr=abc"], "not a number"),
        ([], "at least one --optimizer"),
        (["--optimizer", "adam", "--schedule", "nosuch"], "invalid choice"),
    ],
)
def test_train_refuses_with_one_line(cli, args, fragment, tmp_path):
    out = cli("train", "--steps", "2", "--json", str(tmp_path / "x.json"), *args)
    assert out.returncode == 2
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("optviz train: error:") and out.stdout == ""
    assert not (tmp_path / "x.json").exists()


def test_train_help(cli):
    out = cli("train", "--help")
    assert out.returncode == 0 and "--optimizer" in out.stdout and "fused" in out.stdout


def test_train_json_writes_null_for_a_diverged_runs_nan(tmp_path, capsys):
    from optviz.cli import main

    out_file = tmp_path / "runs.json"
    code = main([
        "train", "--model", "mlp", "--dataset", "xor", "--optimizer", "sgd:lr=10,momentum=0.99", "--device", "cpu",
        "--steps", "10", "--batch-size", "32", "--seed", "0", "--json", str(out_file),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err

    def reject(constant: str):
        raise ValueError(f"{out_file.name} is not valid JSON: it holds {constant}")

    (run,) = json.loads(out_file.read_text(), parse_constant=reject)["runs"]
    assert run["status"] == "diverged"
    assert run["train_loss"][-1] is None and run["val_loss"][-1] is None
    assert all(isinstance(v, float) for v in run["train_loss"][:-1])
