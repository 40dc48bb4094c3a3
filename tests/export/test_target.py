"""Where an export is written (optviz.export.target): the finished file's permissions, and no umask games."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from optviz.core.errors import OptvizError
from optviz.export.target import OutputTarget


def test_importing_the_module_leaves_the_umask_alone():
    code = (
        "import os\n"
        "calls = []\n"
        "real = os.umask\n"
        "os.umask = lambda mask: calls.append(mask) or real(mask)\n"
        "import optviz.export.target\n"
        "print(calls)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # os.umask is process-wide: reading it by setting it races other threads


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("is_folder", [False, True])
def test_a_committed_export_has_the_permissions_the_umask_gives(tmp_path, is_folder):
    out = tmp_path / ("frames" if is_folder else "race.mp4")
    previous = os.umask(0o022)
    try:
        target = OutputTarget(out, is_folder=is_folder, force=False)
        assert target.temp.name.startswith(f".{out.name}.") and target.temp.name.endswith(".part")
        (target.temp / "frame_00000.png" if is_folder else target.temp).write_bytes(b"data")
        target.commit()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == (0o755 if is_folder else 0o644)
    assert os.listdir(tmp_path) == [out.name]


def frames_folder(folder, count=3):
    folder.mkdir()
    for i in range(count):
        (folder / f"frame_{i:05d}.png").write_bytes(b"old frame")
    return folder


def test_force_replaces_a_folder_of_frames_only(tmp_path):
    out = frames_folder(tmp_path / "frames")
    target = OutputTarget(out, is_folder=True, force=True)
    (target.temp / "frame_00000.png").write_bytes(b"new frame")
    target.commit()
    assert sorted(os.listdir(out)) == ["frame_00000.png"] and (out / "frame_00000.png").read_bytes() == b"new frame"
    assert os.listdir(tmp_path) == ["frames"]


@pytest.mark.parametrize("other", ["notes.txt", "frame_1.png", "frame_00003.jpg", ".hidden", "sub/"])
def test_force_refuses_a_folder_holding_anything_but_frames(tmp_path, other):
    out = frames_folder(tmp_path / "frames")
    if other.endswith("/"):
        (out / other.rstrip("/")).mkdir()
    else:
        (out / other).write_text("not optviz's")
    before = sorted(os.listdir(out))
    with pytest.raises(OptvizError, match=rf"will not replace the folder .*frames: it holds '{other.rstrip('/')}'"):
        OutputTarget(out, is_folder=True, force=True)
    assert sorted(os.listdir(out)) == before and os.listdir(tmp_path) == ["frames"]


def test_a_file_that_appears_in_the_folder_while_exporting_is_kept(tmp_path):
    out = frames_folder(tmp_path / "frames")
    target = OutputTarget(out, is_folder=True, force=True)
    (out / "notes.txt").write_text("written meanwhile")
    with pytest.raises(OptvizError, match=r"notes\.txt"):
        target.commit()
    assert (out / "notes.txt").read_text() == "written meanwhile" and len(os.listdir(out)) == 4
    assert os.listdir(tmp_path) == ["frames"]
