"""Parsing and checking export options: each mistake is one `OptvizError` naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from optviz.core.errors import OptvizError
from optviz.export.settings import CameraMove, ExportSettings, format_for, parse_camera, parse_overlays, parse_size


def test_formats_from_the_path(tmp_path):
    assert [format_for(p) for p in ("a.mp4", "a.WEBM", "b.gif", "frames", "frames/")] == [
        "mp4",
        "webm",
        "gif",
        "png",
        "png",
    ]
    assert format_for(tmp_path) == "png"
    with pytest.raises(OptvizError, match=r"unknown format '\.avi'"):
        format_for("x.avi")


def test_camera_and_overlay_parsing():
    assert parse_camera("orbit:45") == CameraMove("orbit", 45.0)
    assert parse_camera("fly-in") == CameraMove("flyin")
    assert parse_camera("orbit").degrees == 90.0
    with pytest.raises(OptvizError, match="static, orbit:DEGREES or flyin"):
        parse_camera("spin")
    with pytest.raises(OptvizError, match="degrees"):
        parse_camera("orbit:lots")
    assert parse_overlays("legend, steps") == {"legend", "steps"}
    assert parse_overlays("none") == frozenset()
    with pytest.raises(OptvizError, match="unknown overlay 'clock'"):
        parse_overlays("legend,clock")
    assert parse_size("640x360") == (640, 360)
    with pytest.raises(OptvizError, match="WIDTHxHEIGHT"):
        parse_size("big")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"size": (321, 180)}, "even width and height"),
        ({"size": (10, 10)}, "out of range"),
        ({"fps": 0}, "--fps 0"),
        ({"seconds": 0.0}, "--seconds"),
        ({"quality": "ultra"}, "unknown quality"),
    ],
)
def test_bad_settings(kw, message):
    with pytest.raises(OptvizError, match=message):
        ExportSettings(out=Path("x.mp4"), **kw).validate()
    ExportSettings(out=Path("x.gif"), size=(321, 181)).validate()  # GIFs take odd sizes
