"""The one atomic writer (optviz.core.atomic): whole files or none, with the permissions the umask gives."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from optviz.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text, temp_folder_beside
from optviz.core.errors import OptvizError


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, expected):
    previous = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        atomic_write_bytes(tmp_path / "b.bin", b"\0")
        folder = temp_folder_beside(tmp_path / "frames", ".part")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "a.json") == expected
    assert mode(tmp_path / "b.bin") == expected
    assert mode(folder) == 0o777 & ~umask  # folders: 0o777 less the umask


def test_replaces_the_whole_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("old contents, longer than the new")
    atomic_write_text(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert os.listdir(tmp_path) == ["s.toml"]


def test_an_exception_inside_the_writer_leaves_the_original_and_no_temporary(tmp_path):
    path = tmp_path / "grid.npz"
    path.write_bytes(b"original")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_path(path) as temp, open(temp, "wb") as f:
        np.savez(f, xs=np.arange(3))
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"original"
    assert os.listdir(tmp_path) == ["grid.npz"]


def test_a_failed_write_is_one_line_naming_the_target(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"

    def full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OptvizError, match=r"cannot write .*out\.csv: No space left on device"):
        atomic_write_text(path, "a,b\n")
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_an_optviz_error(tmp_path):
    with pytest.raises(OptvizError, match="cannot write"):
        atomic_write_text(tmp_path / "no" / "such" / "file.json", "{}")


def test_the_temporary_is_hidden_beside_the_target(tmp_path):
    with atomic_path(tmp_path / "race.json", ".part") as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".race.json.") and temp.name.endswith(".part")
        temp.write_text("{}")
    assert (tmp_path / "race.json").read_text() == "{}"
