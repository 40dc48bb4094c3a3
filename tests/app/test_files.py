"""Scenes through the File menu: save, open, examples, recent files, the unsaved-changes prompt, settings."""

from __future__ import annotations

import html

import pytest
from PySide6 import QtWidgets

from optviz.core.scene import load_scene, save_scene
from optviz.resources import example_scenes

Button = QtWidgets.QMessageBox.StandardButton


def _menu_action(window, menu_title: str, text: str):
    for menu_action in window.menuBar().actions():
        if menu_action.text().replace("&", "") == menu_title:
            for action in menu_action.menu().actions():
                if action.text().replace("&", "").rstrip("…") == text:
                    return action
    raise LookupError(f"{menu_title} > {text}")


def test_save_as_and_open_through_the_menu(window, qtbot, tmp_path, monkeypatch):
    model = window.model
    model.set_hyperparam(2, "lr", 0.0123)
    model.set_color(1, "#abcdef")
    model.set_start(-1.0, 2.5)
    assert window.settle(60)
    target = tmp_path / "race.toml"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    _menu_action(window, "File", "Save As").trigger()
    assert target.is_file()
    assert not model.dirty and model.path == target
    assert target.name in window.windowTitle()
    saved = load_scene(target)
    assert saved.optimizers[2].hyperparams == {"lr": 0.0123}
    assert saved.optimizers[1].color == "#abcdef"
    assert saved.starts == [(-1.0, 2.5)]
    assert window.files.recent()[0] == str(target.resolve())

    # Change the file behind the app's back, then open it through the menu.
    saved.optimizers[0].hyperparams = {"lr": 0.0005}
    saved.steps = 250
    save_scene(saved, target)
    model.set_hyperparam(0, "lr", 0.002)  # an unsaved change: the prompt appears, we discard
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: asked.append(a) or Button.Discard)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    _menu_action(window, "File", "Open").trigger()
    assert asked
    assert window.settle(60)
    assert model.steps == 250 and model.result.steps == 250
    assert model.optimizers[0].hyperparams == {"lr": 0.0005}
    assert not model.dirty


def test_save_writes_back_to_the_same_file(window, tmp_path, monkeypatch):
    target = tmp_path / "a.toml"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.files.save()  # no path yet: asks where
    window.model.set_steps(321)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("asked again"))
    _menu_action(window, "File", "Save").trigger()
    assert load_scene(target).steps == 321


def test_unsaved_changes_prompt_can_cancel(window, monkeypatch):
    model = window.model
    model.set_steps(400)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: Button.Cancel)
    _menu_action(window, "File", "New").trigger()
    assert model.steps == 400 and model.dirty
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: Button.Discard)
    _menu_action(window, "File", "New").trigger()
    assert model.steps != 400 and not model.dirty


def test_a_bad_scene_file_is_one_line_inline(window, tmp_path, monkeypatch, no_modal_dialogs):
    bad = tmp_path / "bad.toml"
    bad.write_text('format = "optviz-scene"\nversion = 1\n[surface]\nname = "rosenbrok"\n')
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    steps = window.model.steps
    _menu_action(window, "File", "Open").trigger()
    message = window.statusBar().currentMessage()
    assert "rosenbrok" in message and "\n" not in message
    assert no_modal_dialogs and "Traceback" not in no_modal_dialogs[0][1]
    assert window.model.steps == steps


@pytest.mark.parametrize("path", example_scenes(), ids=lambda p: p.stem)
def test_every_example_scene_opens(window, path, no_modal_dialogs):
    assert window.files.open_example(path)
    assert window.settle(120)
    model = window.model
    scene = load_scene(path)
    assert [e.name for e in model.optimizers] == [e.name for e in scene.optimizers]
    result = model.result
    assert result is not None and result.shape[0] == len(scene.optimizers) and result.steps == scene.steps
    assert window.view_panel.scene_view.trail_count == result.shape[0] * result.shape[1]
    assert window.leaderboard.rowCount() == len(scene.optimizers)
    assert not no_modal_dialogs
    assert model.path is None  # an example is a template: Save asks where
    assert html.escape(scene.title or "") in window.view_panel.legend.text()


def test_layout_and_last_scene_are_remembered(make_window, settings, tmp_path, monkeypatch):
    first = make_window()
    target = tmp_path / "kept.toml"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    first.model.set_steps(222)
    first.files.save_as()
    first.docks["charts"].hide()
    first.save_layout()
    second = make_window()
    assert second.files.last_scene() == target.resolve()
    assert not second.docks["charts"].isVisible()
    assert second.files.recent() == [str(target.resolve())]
    assert settings.value("window/version", 0, type=int) >= 1


def test_closing_with_unsaved_changes_asks(window, monkeypatch):
    window.model.set_steps(444)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: Button.Cancel)
    assert not window.close()
    assert window.isVisible()


def test_recent_files_menu(window, tmp_path, monkeypatch):
    paths = []
    for name in ("one", "two"):
        target = tmp_path / f"{name}.toml"
        monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), ""))
        window.files.save_as()
        paths.append(str(target.resolve()))
    window._fill_recent()
    actions = window.recent_menu.actions()
    assert [a.toolTip() for a in actions] == paths[::-1]  # newest first
    actions[1].trigger()  # "one.toml", no unsaved changes: opens without asking
    assert window.model.path == tmp_path / "one.toml"
