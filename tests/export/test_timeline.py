"""Frames to steps and cameras: pure numbers (no GL)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from optviz.export.settings import CameraMove, ExportSettings
from optviz.export.timeline import make_timeline

BASE = {"distance": 5.0, "elevation": 40.0, "azimuth": -60.0, "fov": 30.0, "center": [0.0, 0.0, 0.3]}


def make(**kw):
    return make_timeline(ExportSettings(out=Path("x.mp4"), **kw), 500)


@pytest.mark.parametrize(("fps", "seconds"), [(30, 10.0), (24, 2.5), (8, 1.5), (1, 1.0)])
def test_frame_count_is_fps_times_seconds(fps, seconds):
    assert make(fps=fps, seconds=seconds).frames == round(fps * seconds)


def test_the_race_plays_then_holds_the_end():
    tl = make(fps=30, seconds=10.0)
    steps = [tl.step_at(i) for i in range(tl.frames)]
    assert steps[0] == 0 and steps[-1] == 500
    assert all(b >= a for a, b in itertools.pairwise(steps))
    assert tl.frames - tl.race_frames == 30  # one second of the finished race
    assert steps[tl.race_frames - 1] == 500


def test_steps_per_frame_sets_the_length():
    tl = make(fps=30, seconds=None, steps_per_frame=10)
    assert tl.step_at(1) == 10 and tl.race_frames == 51 and tl.step_at(tl.frames - 1) == 500


def test_orbit_turns_by_the_degrees_asked():
    tl = make(fps=10, seconds=2.0)
    move = CameraMove("orbit", 90.0)
    assert tl.camera_at(0, BASE, move)["azimuth"] == -60.0
    assert tl.camera_at(tl.frames - 1, BASE, move)["azimuth"] == pytest.approx(30.0)
    assert tl.camera_at(5, BASE, CameraMove())["azimuth"] == -60.0


def test_flyin_starts_far_and_arrives_at_the_camera():
    tl = make(fps=10, seconds=3.0)
    move = CameraMove("flyin")
    first, last = tl.camera_at(0, BASE, move), tl.camera_at(tl.frames - 1, BASE, move)
    assert first["distance"] > 1.5 * BASE["distance"] and first["elevation"] > BASE["elevation"]
    assert last == BASE
