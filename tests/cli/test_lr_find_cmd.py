"""`optviz lr-find` end to end (in-process, the `cli` fixture): the summary, the JSON, the PNG, one-line
refusals."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BASE = ["lr-find", "--model", "mlp", "--dataset", "moons", "--device", "cpu", "--batch-size", "32"]


def test_lr_find_writes_the_curve_the_suggestions_and_a_picture(cli, tmp_path):
    js, png = tmp_path / "lr.json", tmp_path / "lr.png"
    sweep = ["--min", "1e-5", "--max", "100", "--steps", "60"]
    out = cli(*BASE, "--optimizer", "adam", *sweep, "--json", js, "--png", png)
    assert out.returncode == 0, out.stderr
    data = json.loads(js.read_text())
    assert data["format"] == "optviz-lr-find" and data["optimizer"] == "adam" and data["steps"] == 60
    assert len(data["lr"]) == len(data["loss"]) == len(data["smoothed_loss"]) == data["steps_taken"]
    steepest = data["suggestions"]["steepest_lr"]
    assert steepest is not None and 1e-5 < steepest < 100
    assert f"lr = {steepest:.3g}" in out.stdout and f"wrote {png}" in out.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lr_find_stops_early_on_divergence(cli):
    out = cli(*BASE, "--optimizer", "sgd:momentum=0.9", "--min", "1e-3", "--max", "1e5", "--steps", "80", "--json", "-")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["stopped_early"] and data["steps_taken"] < 80 and data["stop_reason"]
    assert "stopped:" in out.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--optimizer", "nosuch"], "unknown optimizer"),
        (["--optimizer", "sparse_adam"], "cannot train"),
        (["--optimizer", "adam", "--min", "1", "--max", "1"], "must be below the largest"),
        (["--optimizer", "adam", "--min", "10", "--max", "1"], "must be below the largest"),
        (["--optimizer", "adam", "--steps", "1"], "out of range (2 to"),
        (["--optimizer", "adam", "--min", "0"], "--min"),
        (["--optimizer", "adam", "--max", "inf"], "--max"),
        (["--optimizer", "adam:beta1=2"], "beta1"),
        ([], "--optimizer"),
    ],
)
def test_lr_find_refuses_with_one_line(cli, args, fragment, tmp_path):
    out = cli(*BASE, "--json", tmp_path / "x.json", "--png", tmp_path / "x.png", *args)
    assert out.returncode == 2, out.stderr
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("optviz lr-find: error:") and out.stdout == ""
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "x.png").exists()


def test_an_existing_output_is_kept_without_force(cli, tmp_path, monkeypatch):
    from optviz.core.learn import lr_find

    monkeypatch.setattr(lr_find, "range_test", lambda *a, **k: pytest.fail("trained before checking the output"))
    target = tmp_path / "old.png"
    target.write_bytes(b"keep")
    out = cli(*BASE, "--optimizer", "adam", "--png", target)
    assert out.returncode == 2 and "already exists (use --force" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and target.read_bytes() == b"keep"
    monkeypatch.undo()
    assert cli(*BASE, "--optimizer", "adam", "--steps", "5", "--png", target, "--force").returncode == 0
    assert target.read_bytes() != b"keep"
