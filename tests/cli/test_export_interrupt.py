"""Signals sent to a real `python -m optviz export --force` while it writes frames: the export stops, the file
it was asked to replace keeps its bytes, no temporary stays, one line on stderr, exit 128 + the signal.
A SIGKILL cannot be cleaned up after, so the next export removes what it left; and the Xvfb an export
started dies with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optviz.core.atomic import TEMP_NAME

#: Long enough (600 frames) that it is still rendering when the signal comes, small enough to start fast.
LONG = ["--size", "320x180", "--fps", "10", "--seconds", "60", "--steps", "100"]
OLD = b"the user's old video, not to be lost"
WAIT_S = 180  # an upper bound for a loaded machine; the tests poll and go on as soon as the state is reached


def has_xvfb() -> bool:
    return any(os.access(os.path.join(d, "Xvfb"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))


def start_export(out: Path, *extra: str, **env) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.Popen(
        [sys.executable, "-m", "optviz", "export", *LONG, *extra, "--out", str(out), "--force"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean | env,
    )


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if TEMP_NAME.fullmatch(p.name)]


def wait_until_writing(proc: subprocess.Popen, folder: Path) -> Path:
    """Poll until the export's own temporary holds encoded frames; returns it."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        parts = [p for p in temps(folder) if p.name.endswith(".part") and f".optviz-{proc.pid}-" in p.name]
        if parts and parts[0].stat().st_size > 0:
            return parts[0]
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no frames written within {WAIT_S} s")


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=WAIT_S)
    return proc.returncode, out, err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_the_export_and_keeps_the_old_file(tmp_path, sig, code):
    out = tmp_path / "race.mp4"
    out.write_bytes(OLD)
    proc = start_export(out)  # no display: Qt's eglfs platform, whose own handlers would swallow the signal
    wait_until_writing(proc, tmp_path)
    proc.send_signal(sig)
    returncode, stdout, stderr = finish(proc)
    assert returncode == code, stderr
    assert stderr.splitlines() == [f"optviz export: interrupted by {signal.Signals(sig).name}; {out} left as it was"]
    assert stdout == ""
    assert out.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["race.mp4"]


@pytest.mark.skipif(not has_xvfb(), reason="Xvfb is not installed")
def test_ctrl_c_on_the_xvfb_path(tmp_path):
    out = tmp_path / "race.mp4"
    out.write_bytes(OLD)
    proc = start_export(out, OPTVIZ_HEADLESS="xvfb")
    wait_until_writing(proc, tmp_path)
    proc.send_signal(signal.SIGINT)
    returncode, _, stderr = finish(proc)
    assert returncode == 130 and stderr.splitlines() == [f"optviz export: interrupted by SIGINT; {out} left as it was"]
    assert out.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["race.mp4"]


def test_what_a_killed_export_leaves_the_next_one_removes(tmp_path):
    out = tmp_path / "race.mp4"
    out.write_bytes(OLD)
    proc = start_export(out)
    left = wait_until_writing(proc, tmp_path)
    proc.kill()
    proc.communicate(timeout=WAIT_S)
    assert out.read_bytes() == OLD and left.exists()  # a killed process cannot clean up...
    (tmp_path / "notes.txt").write_text("mine")
    proc = start_export(out)  # ...so the next export does, as soon as it makes its own temporary
    wait_until_writing(proc, tmp_path)
    assert not left.exists() and (tmp_path / "notes.txt").read_text() == "mine"
    proc.send_signal(signal.SIGINT)
    assert finish(proc)[0] == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "race.mp4"]
