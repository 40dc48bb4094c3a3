"""`optviz --screenshot`: the whole window at the asked size, with the 3-D view in it; bad flags are one line."""

from __future__ import annotations

import argparse

import numpy as np
from PySide6 import QtGui

from optviz.app.shell.main import EXIT_OK, EXIT_USAGE, run_app


def _args(**kw) -> argparse.Namespace:
    base = {"scene": None, "screenshot": None, "size": "1600x1000", "steps": None}
    base.update(kw)
    return argparse.Namespace(**base)


def test_screenshot_of_the_whole_window(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # its throwaway settings file: not shared with a parallel run
    out = tmp_path / "shot.png"
    assert run_app(_args(screenshot=str(out), size="1280x800", steps=300)) == EXIT_OK
    image = QtGui.QImage(str(out)).convertToFormat(QtGui.QImage.Format.Format_RGB888)
    assert (image.width(), image.height()) == (1280, 800)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(800, image.bytesPerLine())[:, : 1280 * 3]
    pixels = pixels.reshape(800, 1280, 3)
    centre = pixels[200:500, 450:850]
    assert centre.std() > 20  # the surface is there, not a black or flat view
    assert centre.mean() > 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot.png"]  # the throwaway settings are gone


def test_bad_flags_are_one_line(capsys, tmp_path):
    assert run_app(_args(screenshot=str(tmp_path / "x.png"), size="big")) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WIDTHxHEIGHT" in err
    assert run_app(_args(scene=str(tmp_path / "missing.toml"))) == EXIT_USAGE
    assert "no such scene file" in capsys.readouterr().err
    assert run_app(_args(screenshot=str(tmp_path / "x.png"), open_study="no-colon")) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give STORAGE:NAME" in err
    assert not (tmp_path / "x.png").exists()
