"""`optviz export` in a subprocess with no DISPLAY (Qt chooses its platform once per process): the eglfs
(surfaceless EGL) path, the Xvfb fallback, --force, and `optviz` with no display rendering the default race
to a video. One-line errors come before any rendering, so those run in-process (the `cli` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys

import av
import pytest

SMALL = ["--size", "320x180", "--fps", "6", "--seconds", "1", "--steps", "40"]


def headless(*args, cwd=None, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run(
        [sys.executable, "-m", "optviz", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean | env,
        timeout=300,
    )


def frame_count(path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as c:
        frames = [f for f in c.decode(video=0)]
    return len(frames), (frames[0].width, frames[0].height)


@pytest.fixture
def no_display(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)


def test_export_with_no_display(tmp_path, cli, no_display):
    out = tmp_path / "race.mp4"
    proc = headless(
        "export", "--optimizer", "adam", "--optimizer", "lion", "--camera", "orbit:30", *SMALL, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the platform's notes are kept out; a non-terminal gets no progress bar
    assert proc.stdout.strip() == f"optviz: wrote {out} (6 frames, 320x180, 6 frames/s)"
    assert frame_count(out) == (6, (320, 180))
    refused = cli("export", *SMALL, "--out", str(out))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--force" in refused.stderr
    assert refused.stdout == "" and frame_count(out) == (6, (320, 180))  # untouched
    forced = headless("export", *SMALL, "--fps", "4", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert frame_count(out)[0] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.mp4"]


def test_xvfb_fallback(tmp_path):
    if not any(os.access(os.path.join(d, "Xvfb"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.skip("Xvfb is not installed")
    out = tmp_path / "frames"
    proc = headless("export", *SMALL, "--out", str(out), OPTVIZ_HEADLESS="xvfb")
    assert proc.returncode == 0, proc.stderr
    assert len(list(out.glob("frame_*.png"))) == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "race.avi"], "unknown format '.avi'"),
        (["--out", "race.mp4", "--size", "321x180"], "even width and height"),
        (["--out", "race.mp4", "--camera", "spin"], "static, orbit:DEGREES or flyin"),
        (["--out", "race.mp4", "--overlay", "legend,clock"], "unknown overlay 'clock'"),
        (["--out", "race.mp4", "--optimizer", "adamm"], "unknown optimizer 'adamm'"),
        (["--out", "no/such/folder/race.mp4"], "does not exist"),
        (["--out", "race.mp4", "--seconds", "-1"], "--seconds"),
        (["--size", "320x180"], "--out"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, no_display, tmp_path, args, message):
    proc = cli("export", *args, cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert message in line and line.startswith("optviz") and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_optviz_with_no_display_renders_the_default_race(tmp_path):
    proc = headless("--size", "320x240", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    video = tmp_path / "optviz-race.mp4"
    assert str(video) in line and "no display" in line and "optviz export" in line
    count, size = frame_count(video)
    assert size == (320, 240) and count == 300  # 10 s at 30 frames/s


def test_force_on_a_folder_with_other_files_is_refused_in_one_line(cli, no_display, tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    (out / "frame_00000.png").write_bytes(b"old frame")
    (out / "thesis.tex").write_text("not optviz's")
    proc = cli("export", *SMALL, "--out", str(out), "--force")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "thesis.tex" in line and "will not replace" in line
    assert sorted(p.name for p in out.iterdir()) == ["frame_00000.png", "thesis.tex"]
    assert (out / "thesis.tex").read_text() == "not optviz's"
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]
