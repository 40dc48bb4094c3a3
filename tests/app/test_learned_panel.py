"""The learned surface in the app: chosen in the surface panel, computed with progress, drawn with honesty
readouts; a slider retrains one optimizer on the kept plane; Cancel stops; scenes describe and rebuild it."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.scene import LEARNED, OptimizerEntry, Scene, save_scene, scene_from_toml, scene_to_toml

SMALL = LearnedRecipe(model="mlp", dataset="moons", plane="pca", resolution=7)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path / "cache"))


def learned_scene(steps: int = 12) -> Scene:
    return Scene(
        surface=LEARNED,
        learned=SMALL,
        optimizers=[OptimizerEntry("adam", {"lr": 0.02}), OptimizerEntry("sgd", {"lr": 0.3})],
        steps=steps,
    )


def test_panel_computes_and_shows_a_learned_surface(window, qtbot):
    panel = window.surface_panel
    model = window.model
    progress: list[tuple[str, int, int]] = []
    model.learnedProgress.connect(lambda text, done, total: progress.append((text, done, total)))
    model.set_steps(10)
    assert window.settle(60)
    panel.combo.setCurrentIndex(panel.combo.findData(LEARNED))
    assert model.scene.is_learned and panel.learned_panel.isVisible()
    assert panel.combo.itemData(panel.combo.findData(LEARNED), 3)  # a tooltip on the entry
    learned = panel.learned_panel
    learned.resolution.setValue(7)
    learned.resolution.editingFinished.emit()
    assert model.scene.learned.resolution == 7
    assert window.settle(240), "the learned race did not land"
    result = model.result
    assert result.plane_losses is not None and result.positions.shape[0] == len(model.optimizers)
    assert any(text.startswith("training") for text, _, _ in progress)
    assert any(text.startswith("computing") for text, _, _ in progress)
    field = window.view_panel.scene_view.field
    assert field.shape == (7, 7) and field.domain == model.surface.domain
    assert learned.table.rowCount() == len(model.optimizers)
    assert learned.table.item(0, 1).text() not in ("", "–")
    for widget in (learned.net, learned.data, learned.plane, learned.resolution, learned.range, learned.refit):
        assert widget.toolTip()


def test_slider_retrains_one_path_on_the_kept_plane(make_window, qtbot):
    window = make_window(learned_scene())
    model = window.model
    first = model.result
    assert first.plane is not None
    changed: list = []
    model.resultChanged.connect(changed.append)
    model.set_hyperparam(1, "lr", 0.1)
    assert window.settle(240)
    second = model.result
    assert second.plane is first.plane and second.surface is first.surface  # the plane is kept
    np.testing.assert_array_equal(second.positions[0], first.positions[0])
    assert not np.array_equal(second.positions[1], first.positions[1])
    assert changed[-1] == frozenset({1}), "only the retrained optimizer's trail is redrawn"
    # Refit: a new plane and surface for the same paths.
    model.learnedRefitRequested.emit()
    assert window.settle(240)
    assert model.result.surface is not first.surface


def test_cancel_stops_and_nothing_restarts(make_window, qtbot):
    window = make_window(learned_scene())
    model = window.model
    model.set_steps(5000)  # long enough to be cancelled while training
    qtbot.waitUntil(lambda: window.scheduler._running is not None, timeout=5000)
    model.learnedCancelRequested.emit()
    assert window.settle(60), "Cancel did not stop the job"
    assert window.scheduler.idle and not model.busy
    assert model.result.steps == 12  # the last finished result stays


def test_scene_file_describes_and_rebuilds_a_learned_surface(make_window, tmp_path):
    scene = learned_scene()
    text = scene_to_toml(scene)
    assert "[learned]" in text
    again = scene_from_toml(text)
    assert again.learned == SMALL and again.surface == LEARNED
    path = tmp_path / "learned.toml"
    save_scene(scene, path)
    window = make_window(scene_from_toml(path.read_text()))
    assert window.view_panel.scene_view.field.shape == (7, 7)
    assert window.surface_panel.learned_panel.isVisible()
    # Back to an analytic surface: the recipe is dropped.
    window.surface_panel.combo.setCurrentIndex(window.surface_panel.combo.findData("himmelblau"))
    assert not window.model.scene.is_learned and window.settle(60)


def test_a_learned_race_exports_from_the_app(make_window, tmp_path):
    from optviz.export.pipeline import ExportJob
    from optviz.export.settings import ExportSettings

    window = make_window(learned_scene())
    assert window.settle(240)
    window.model.set_enabled(0, False)
    scene, result, colors = window.model.shown_race()
    # The learned readouts are restricted to the enabled optimizer like the rest.
    assert result.plane_losses.shape[0] == result.positions.shape[0] == len(colors) == 1
    assert result.surface is window.model.result.surface
    settings = ExportSettings(out=tmp_path / "l.mp4", size=(160, 96), fps=4, seconds=0.5, overlays=frozenset())
    frames = list(ExportJob(scene, settings, result=result, colors=colors).frames())
    assert len(frames) == 2 and frames[-1][..., :3].std() > 10
    assert window.exports.export_trajectories(tmp_path / "l.json")
