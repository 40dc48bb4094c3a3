"""File > Export: the video dialog (progress, cancel, overwrite prompt, tooltips), trajectory data and
snapshots, from a real window."""

from __future__ import annotations

import csv
import json
import signal
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6 import QtGui, QtWidgets

from optviz.core.scene import default_scene


@pytest.fixture
def short_window(make_window):
    scene = default_scene()
    scene.steps = 80
    window = make_window(scene)
    window.model.set_enabled(1, False)  # a hidden optimizer is left out of every export
    assert window.settle(120)
    return window


def dialog_for(window, out):
    window.exports.export_video()
    dialog = window.exports.dialog
    dialog.path_edit.setText(str(out))
    dialog.size_box.setCurrentIndex(3)  # custom
    dialog.width_box.setValue(320)
    dialog.height_box.setValue(180)
    dialog.fps_box.setValue(8)
    dialog.length_box.setValue(1.5)
    return dialog


def test_every_control_has_a_tooltip(short_window):
    short_window.exports.export_video()
    dialog = short_window.exports.dialog
    kinds = (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QLineEdit, QtWidgets.QAbstractButton)
    controls = [w for w in dialog.findChildren(QtWidgets.QWidget) if isinstance(w, kinds)]
    controls = [w for w in controls if not isinstance(w.parent(), QtWidgets.QAbstractSpinBox | QtWidgets.QComboBox)]
    assert len(controls) > 15
    assert [w for w in controls if not w.toolTip()] == []
    dialog.close()


def test_export_runs_with_progress_and_writes_the_video(qtbot, short_window, tmp_path):
    out = tmp_path / "race.mp4"
    dialog = dialog_for(short_window, out)
    dialog.camera_box.setCurrentIndex(1)  # orbit
    seen = []
    dialog.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.finished_export, timeout=120_000) as done:
        assert dialog.start(), dialog.last_error
        assert dialog.running and not dialog.export_button.isEnabled()
    assert done.args == [str(out)]
    assert seen[-1] == 12 and dialog.progress.maximum() == 12
    assert "wrote" in dialog.status.text()
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 12 and frames[0].shape == (180, 320, 3)
    assert np.abs(frames[0].astype(int) - frames[-1]).sum() > 0
    dialog.close()


def test_cancel_leaves_no_file(qtbot, short_window, tmp_path):
    out = tmp_path / "race.gif"
    dialog = dialog_for(short_window, out)
    dialog.format_box.setCurrentIndex(2)  # GIF: the path follows
    assert dialog.path_edit.text().endswith("race.gif")
    dialog.length_box.setValue(5.0)
    assert dialog.start(), dialog.last_error
    qtbot.waitUntil(lambda: dialog.progress.value() >= 2, timeout=60_000)
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as done:
        dialog.cancel_button.click()
    assert done.args == [""] and list(tmp_path.iterdir()) == []
    assert "cancelled" in dialog.status.text()
    dialog.close()


def test_overwrite_is_asked_first(qtbot, short_window, tmp_path, monkeypatch):
    out = tmp_path / "race.mp4"
    out.write_bytes(b"old")
    dialog = dialog_for(short_window, out)
    asked = []

    def answer(reply):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply

        return question

    buttons = QtWidgets.QMessageBox.StandardButton
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(buttons.No))
    assert not dialog.start() and out.read_bytes() == b"old"
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(buttons.Yes))
    with qtbot.waitSignal(dialog.finished_export, timeout=120_000):
        assert dialog.start(), dialog.last_error
    assert len(asked) == 2 and "already exists" in asked[0]
    assert out.stat().st_size > 1000
    dialog.close()


def test_trajectories_as_the_race_command_writes_them(short_window, tmp_path):
    window = short_window
    assert window.exports.export_trajectories(tmp_path / "race.csv")
    assert window.exports.export_trajectories(tmp_path / "race.json")
    rows = list(csv.DictReader((tmp_path / "race.csv").open()))
    data = json.loads((tmp_path / "race.json").read_text())
    names = [e.name for e in window.model.optimizers if e.enabled]
    assert [r["optimizer"] for r in data["runs"]] == names
    assert len(rows) == sum(len(r["positions"]) for r in data["runs"])
    assert data["steps"] == 80 and data["format"] == "optviz-race"


def test_snapshot_at_any_size(short_window, tmp_path):
    window = short_window
    out = tmp_path / "snap.png"
    assert window.exports.export_snapshot(out, (640, 400), overlays=True)
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (640, 400)
    plain = tmp_path / "plain.png"
    assert window.exports.export_snapshot(plain, (640, 400), overlays=False)
    a = QtGui.QImage(str(out)).convertToFormat(QtGui.QImage.Format.Format_RGB888)
    b = QtGui.QImage(str(plain)).convertToFormat(QtGui.QImage.Format.Format_RGB888)
    pa = np.frombuffer(a.constBits(), np.uint8).reshape(400, a.bytesPerLine())[:, : 640 * 3].copy()
    pb = np.frombuffer(b.constBits(), np.uint8).reshape(400, b.bytesPerLine())[:, : 640 * 3].copy()
    corner = (slice(0, 130), slice(0, 200 * 3))
    assert pa[corner].std() > pb[corner].std() + 5  # the legend's text
    assert pb.std() > 10  # the scene itself, not a blank frame


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_export_and_keeps_the_old_file(qtbot, short_window, tmp_path, monkeypatch, sig):
    out = tmp_path / "race.mp4"
    out.write_bytes(b"old video")
    dialog = dialog_for(short_window, out)
    dialog.length_box.setValue(30.0)
    buttons = QtWidgets.QMessageBox.StandardButton
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *args, **kwargs: buttons.Yes)
    before = signal.getsignal(sig)
    assert dialog.start(), dialog.last_error
    assert signal.getsignal(sig) != before  # the export's own handler while it runs
    qtbot.waitUntil(lambda: dialog.progress.value() >= 2, timeout=60_000)
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as done:
        signal.raise_signal(sig)
    assert done.args == [""] and not dialog.running
    assert dialog.status.text() == f"interrupted by {sig.name}: export cancelled; race.mp4 left as it was"
    assert out.read_bytes() == b"old video" and [p.name for p in tmp_path.iterdir()] == ["race.mp4"]
    assert signal.getsignal(sig) == before  # the app's handlers are back
    dialog.close()


def test_exports_are_offered_in_the_last_export_folder_never_inside_the_install(window, tmp_path):
    from optviz.resources import example_scenes

    assert window.files.open_example(example_scenes()[0])
    assert window.settle(120)  # the example's race, which the trajectories are
    exports = window.exports
    install = example_scenes()[0].parent.resolve()
    assert Path(exports._start_dir()).resolve() != install
    assert exports.export_trajectories(tmp_path / "race.csv")
    assert Path(exports._start_dir()).resolve() == tmp_path.resolve()
