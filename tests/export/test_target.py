"""Where an export is written (optviz.export.target): the finished file's permissions, and no umask games."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

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
