"""Temporaries left by killed processes (optviz.core.atomic): they say who wrote them, and the next write
beside them removes those whose writer is gone, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys

from optviz.core.atomic import TEMP_NAME, _host, atomic_path, atomic_write_text, remove_stale_temps, temp_name


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped), so no process has it now."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_temporary_names_its_target_process_and_host(tmp_path):
    with atomic_path(tmp_path / "race.json") as temp:
        match = TEMP_NAME.fullmatch(temp.name)
        assert match is not None
        assert match["name"] == "race.json" and int(match["pid"]) == os.getpid() and match["host"] == _host()
        assert temp.suffix == ".tmp"


def test_stale_temporaries_of_dead_processes_are_removed_and_nothing_else(tmp_path):
    pid = dead_pid()
    stale_file = tmp_path / temp_name("race.json", ".tmp", pid=pid)
    stale_part = tmp_path / temp_name("race.mp4", ".part", pid=pid)
    stale_folder = tmp_path / temp_name("frames", ".part", pid=pid)
    stale_file.write_text("half")
    stale_part.write_bytes(b"\0" * 100)
    stale_folder.mkdir()
    (stale_folder / "frame_00000.png").write_bytes(b"png")
    live = tmp_path / temp_name("race.json", ".tmp", pid=os.getppid())  # the process that started pytest
    other_host = tmp_path / temp_name("race.json", ".tmp", pid=pid, host="elsewhere")
    lookalikes = [
        ".race.json.0123abcd.tmp",  # the old shape: no process id, so whose it is cannot be known
        f".race.json.optviz-{pid}.tmp",
        f"race.json.optviz-{pid}-{_host()}-0123abcd.tmp",  # not hidden
        "notes.txt",
        "race.json",
    ]
    for name in (live.name, other_host.name, *lookalikes):
        (tmp_path / name).write_text("keep me")

    atomic_write_text(tmp_path / "race.json", "new")

    kept = {p.name for p in tmp_path.iterdir()}
    assert kept == {live.name, other_host.name, *lookalikes}
    assert (tmp_path / "race.json").read_text() == "new"
    assert all((tmp_path / name).read_text() == "keep me" for name in kept - {"race.json"})


def test_a_write_to_another_name_cleans_the_folder_too(tmp_path):
    stale = tmp_path / temp_name("big.csv", ".tmp", pid=dead_pid())
    stale.write_text("x" * 1000)
    atomic_write_text(tmp_path / "other.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]


def test_cleaning_a_missing_folder_is_quiet(tmp_path):
    assert remove_stale_temps(tmp_path / "no-such-folder") == []
