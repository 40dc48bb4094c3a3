"""`optviz study` from the command line (in-process): run, resume, report as HTML and JSON, and one-line
refusals for bad input and storages that cannot be reached."""

from __future__ import annotations

import json

import pytest

RUN = ["study", "run", "--model", "mlp", "--dataset", "moons", "--optimizer", "adamw", "--optimizer", "lion",
       "--tune", "lr,beta2", "--steps", "6", "--batch-size", "32", "--device", "cpu"]  # fmt: skip


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVIZ_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_run_resume_and_report(cli, tmp_path, data_dir):
    out = cli(*RUN, "--trials", "2", "--study", "s1", "--json", tmp_path / "r.json")
    assert out.returncode == 0, out.stderr
    assert (data_dir / "studies" / "s1.journal").is_file()
    assert "0/4 trials finished" in out.stderr and "lowest validation loss:" in out.stdout
    assert "which hyperparameter mattered" in out.stdout and "\n  adamw " in out.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert [r["finished"] for r in data["optimizers"]] == [2, 2]
    # Run again: the study is complete, nothing is trained twice.
    again = cli(*RUN, "--trials", "2", "--study", "s1")
    assert again.returncode == 0 and "4/4 trials finished" in again.stderr
    html = tmp_path / "r.html"
    report = cli("study", "report", "--study", "s1", "--html", html, "--json", "-")
    assert report.returncode == 0, report.stderr
    text = html.read_text()
    assert text.count("data:image/png;base64,") >= 3 and "least memory within 1 % of the best loss" in text
    data = json.loads(report.stdout)
    assert data["optimizers"][1]["optimizer"] == "lion"
    for name, weight in data["importances"].items():  # two finished trials each: a share per tuned parameter
        assert set(weight["values"]) == {"lr", "beta2"} and weight["trials"] == 2, name
        for param, share in weight["values"].items():
            assert f"{share:.0%}</td>" in text, (name, param)
    assert "Which hyperparameter mattered" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--optimizer", "nosuch", "--tune", "lr"], "unknown optimizer"),
        (["--optimizer", "sgd", "--tune", "beta2"], "--tune beta2: no chosen optimizer has it"),
        (["--optimizer", "adamw", "--tune", "lr=1:0.1"], "LOW < HIGH"),
        (["--optimizer", "adamw", "--tune", "lr", "--grid", "--trials", "4"], "leave out --trials"),
        (["--optimizer", "adamw", "--optimizer", "sgd", "--tune", "lr,beta2", "--grid"], "sgd has no beta2"),
        (["--optimizer", "adamw:lr=0.1", "--tune", "lr"], "both tuned and held fixed"),
        (["--optimizer", "adamw", "--tune", "lr", "--model", "cnn"], "does not fit"),
        (["--optimizer", "adamw", "--tune", "lr", "--study", "a/b"], "study name"),
        (["--optimizer", "adamw", "--tune", "lr", "--trials", "0"], "trials=0 is out of range"),
        (["--optimizer", "adamw", "--tune", "lr", "--storage", "postgresql://u:secret@127.0.0.1:1/x"], "cannot be"),
        (["--optimizer", "adamw", "--tune", "lr", "--storage", "/no/such/folder/s.journal"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, data_dir, args, fragment):
    base = ["study", "run", "--dataset", "moons", "--steps", "5", "--device", "cpu"]
    if "--study" not in args:
        args = [*args, "--study", "bad"]
    out = cli(*base, *args)
    assert out.returncode == 2
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "secret" not in out.stderr


def test_report_and_worker_of_a_missing_study_and_a_changed_set_up(cli, tmp_path, data_dir):
    out = cli("study", "report", "--study", "nothing", "--storage", tmp_path / "x.journal")
    assert out.returncode == 2 and "no study named 'nothing'" in out.stderr
    assert cli(*RUN, "--trials", "1", "--study", "s2").returncode == 0
    changed = cli(*RUN, "--trials", "2", "--study", "s2")
    assert changed.returncode == 2 and "another set-up (trials: 1 there, 2 now)" in changed.stderr
