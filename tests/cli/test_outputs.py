"""The one output policy of `race`, `landscape` and `train` (`optviz.cli.outputs`): an existing file needs
--force, `-` is standard output, folders, FIFOs, devices and the same file twice are refused before any
work, a symlink's target is replaced (not the link), files are written before anything is printed, and a
closed or full standard output is one line at most and never costs a file."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys

import pytest

RACE = ["race", "--steps", "5"]
LANDSCAPE = ["landscape", "--model", "mlp", "--dataset", "moons", "--resolution", "5", "--plane", "random"]
TRAIN = ["train", "--model", "mlp", "--dataset", "xor", "--optimizer", "sgd", "--device", "cpu", "--steps", "2"]


def one_line_refusal(run, prog: str, fragment: str) -> None:
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"optviz {prog}: error:") and fragment in lines[0], run.stderr
    assert run.stdout == ""


@pytest.fixture
def no_work(monkeypatch):
    """Make racing, landscape training and training fail loudly: a refusal must come before any work."""
    from optviz.core import scene
    from optviz.core.learn import session, training

    def boom(*_args, **_kwargs):
        raise AssertionError("work started before the outputs were checked")

    monkeypatch.setattr(scene.Scene, "run", boom)
    monkeypatch.setattr(session, "learned_race_steps", boom)
    monkeypatch.setattr(training.TrainingSession, "__init__", boom)


# --- existing files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "flag"),
    [(RACE, "--json"), (RACE, "--csv"), (LANDSCAPE, "--out"), (LANDSCAPE, "--json"), (TRAIN, "--json")],
)
def test_an_existing_file_is_kept_without_force(cli, tmp_path, no_work, command, flag):
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    args = [*command, flag, existing]
    if command is LANDSCAPE and flag != "--out":
        args += ["--out", tmp_path / "x.npz"]
    run = cli(*args)
    one_line_refusal(run, command[0], "already exists (use --force to replace it)")
    assert existing.read_text() == "keep me"


def test_force_replaces_an_existing_file(cli, tmp_path):
    js, cs = tmp_path / "race.json", tmp_path / "race.csv"
    js.write_text("old")
    cs.write_text("old")
    run = cli(*RACE, "--json", js, "--csv", cs, "--force")
    assert run.returncode == 0, run.stderr
    assert json.loads(js.read_text())["format"] == "optviz-race" and cs.read_text().startswith("optimizer")


def test_landscape_and_train_force_replace_too(cli, tmp_path):
    out, js = tmp_path / "l.npz", tmp_path / "t.json"
    out.write_text("old")
    js.write_text("old")
    assert cli(*LANDSCAPE, "--out", out, "--force").returncode == 0
    assert out.read_bytes().startswith(b"PK")  # an .npz is a zip
    run = cli(*TRAIN, "--json", js, "--force")
    assert run.returncode == 0, run.stderr
    assert json.loads(js.read_text())["format"] == "optviz-train" and f"wrote {js}" in run.stdout


# --- what is not a regular file ----------------------------------------------------------------------------


def test_a_folder_is_refused(cli, tmp_path, no_work):
    one_line_refusal(cli(*RACE, "--json", tmp_path, "--force"), "race", "it is a folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_and_kept(cli, tmp_path, no_work):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    one_line_refusal(cli(*RACE, "--json", fifo, "--force"), "race", "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs a device node")
def test_a_device_is_refused_never_replaced(cli, no_work):
    # Only checked: the refusal comes before any write, so the device is never opened.
    before = os.stat("/dev/null")
    one_line_refusal(cli(*RACE, "--json", "/dev/null", "--force"), "race", "it is a device")
    one_line_refusal(cli(*TRAIN, "--json", "/dev/null", "--force"), "train", "it is a device")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_symlinks_target_is_replaced_not_the_link(cli, tmp_path):
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target.name)
    one_line_refusal(cli(*RACE, "--json", link), "race", "already exists")  # the target exists
    assert cli(*RACE, "--json", link, "--force").returncode == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert json.loads(target.read_text())["format"] == "optviz-race"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_dangling_symlink_creates_its_target(cli, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to("made.csv")
    assert cli(*RACE, "--csv", link).returncode == 0
    assert link.is_symlink() and (tmp_path / "made.csv").read_text().startswith("optimizer")


# --- the same file twice, folders ----------------------------------------------------------------------------


def test_the_same_path_twice_is_refused(cli, tmp_path, no_work):
    path = tmp_path / "x"
    run = cli(*RACE, "--json", path, "--csv", tmp_path / "." / "x")
    one_line_refusal(run, "race", "--json and --csv both write")
    assert not path.exists()
    run = cli(*LANDSCAPE, "--out", path, "--json", path)
    one_line_refusal(run, "landscape", "--out and --json both write")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_link_to_the_other_output_is_the_same_file(cli, tmp_path, no_work):
    (tmp_path / "link").symlink_to("x")
    one_line_refusal(cli(*RACE, "--json", tmp_path / "x", "--csv", tmp_path / "link"), "race", "both write")


def test_stdout_twice_is_refused(cli, no_work):
    one_line_refusal(cli(*RACE, "--json", "-", "--csv", "-"), "race", "both write standard output")


@pytest.mark.parametrize("command", [RACE, TRAIN])
def test_a_missing_folder_is_refused_before_any_work(cli, tmp_path, no_work, command):
    one_line_refusal(cli(*command, "--json", tmp_path / "no" / "x.json"), command[0], "does not exist")


@pytest.mark.parametrize("command", [RACE, TRAIN, LANDSCAPE])
def test_an_unwritable_folder_is_refused_before_any_work(cli, tmp_path, no_work, monkeypatch, command):
    # Tests may run as root, which may write anywhere: the folder's answer is mocked instead of chmod.
    from optviz.cli import outputs

    real_access = os.access
    monkeypatch.setattr(
        outputs.os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode)
    )
    flag = "--out" if command is LANDSCAPE else "--json"
    one_line_refusal(cli(*command, flag, tmp_path / "x"), command[0], "is not writable")


# --- standard output ---------------------------------------------------------------------------------------------


def test_dash_writes_the_json_to_stdout_and_the_table_to_stderr(cli):
    run = cli(*RACE, "--json", "-")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["format"] == "optviz-race"
    assert "final loss" in run.stderr


def test_dash_csv_beside_a_json_file(cli, tmp_path):
    js = tmp_path / "r.json"
    run = cli(*RACE, "--csv", "-", "--json", js)
    assert run.returncode == 0 and run.stdout.startswith("optimizer") and js.exists()


def test_train_json_to_stdout(cli):
    run = cli(*TRAIN, "--json", "-")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["format"] == "optviz-train" and "optimizer" in run.stderr


# --- permissions -------------------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_files_get_the_modes_the_umask_gives(cli, tmp_path):
    out, lj, tj = tmp_path / "l.npz", tmp_path / "l.json", tmp_path / "t.json"
    previous = os.umask(0o022)
    try:
        assert cli(*LANDSCAPE, "--out", out, "--json", lj).returncode == 0
        assert cli(*TRAIN, "--json", tj).returncode == 0
    finally:
        os.umask(previous)
    for path in (out, lj, tj):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


# --- a closed or full standard output, in a real process -----------------------------------------------------


def run_with_stdout(args, stdout, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optviz", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.skipif(os.name != "posix", reason="pipes and SIGPIPE status are POSIX")
@pytest.mark.parametrize("args", [[*RACE, "--json", "r.json"], ["list", "optimizers"]])
def test_a_closed_pipe_is_silent_and_costs_no_file(tmp_path, args):
    # `optviz race --json r.json | head -0`: the reader is gone before the first line.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = run_with_stdout(args, write_end, tmp_path)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == ""
    if "--json" in args:
        assert json.loads((tmp_path / "r.json").read_text())["format"] == "optviz-race"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stdout_is_one_line_and_costs_no_file(tmp_path):
    # Standard output is opened on /dev/full (every write fails with ENOSPC); the device is only opened.
    with open("/dev/full", "w") as full:
        done = run_with_stdout([*RACE, "--json", "r.json"], full, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write standard output: no space left" in lines[0], done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["format"] == "optviz-race"


def test_broken_pipe_in_process_is_exit_141(cli, monkeypatch):
    from optviz.cli import list_cmd

    def closed(_args):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(list_cmd, "run", closed)
    run = cli("list", "optimizers")
    assert run.returncode == 141 and run.stderr == ""


def test_an_os_error_while_working_is_one_line(cli, tmp_path, monkeypatch):
    # A full disk while the landscape is computed (a cache or data file): one line, status 1, no traceback.
    from optviz.core.learn import session

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "cache.npz"))

    monkeypatch.setattr(session, "learned_race_steps", full)
    run = cli(*LANDSCAPE, "--out", tmp_path / "l.npz")
    assert run.returncode == 1 and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on the device" in lines[0] and "cache.npz" in lines[0]
    assert not (tmp_path / "l.npz").exists()


def test_a_full_disk_when_writing_a_file_is_one_line(cli, tmp_path, monkeypatch):
    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the atomic writer flushes every file to disk before the rename
    run = cli(*LANDSCAPE, "--out", tmp_path / "l.npz")
    assert run.returncode == 2 and run.stdout == ""
    last = run.stderr.strip().splitlines()[-1]  # after the progress bar's lines
    assert last.startswith("optviz landscape: error: cannot write") and "l.npz" in last
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left behind


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_export_refuses_a_fifo_even_with_force(cli, tmp_path, no_work):
    fifo = tmp_path / "race.mp4"
    os.mkfifo(fifo)
    one_line_refusal(cli("export", "--out", fifo, "--force"), "export", "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
