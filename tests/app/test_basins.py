"""Basins of attraction in the app: View > Basins of attraction drapes the selected optimizer's basins on the
surface with a legend; selecting another optimizer switches them; a change of settings recomputes them."""

from __future__ import annotations

import numpy as np

from optviz.core.scene import OptimizerEntry, Scene
from optviz.core.sweep.scene_basins import scene_basins


def himmelblau_scene() -> Scene:
    scene = Scene(surface="himmelblau", optimizers=[OptimizerEntry("adam", {"lr": 0.1}), OptimizerEntry("sgd")])
    scene.steps = 200
    scene.view.basins_grid = 48
    return scene


def test_basins_follow_the_menu_the_selection_and_the_settings(window):
    model, layer = window.model, window.view_panel.basins
    model.replace_scene(himmelblau_scene())
    assert window.settle(120)
    assert layer.sweep is None and window.view_panel.scene_view.surface_item.overlay is None
    action = next(a for a in window.basins_actions.actions() if a.data() == "minima")
    action.trigger()
    assert window.settle(120)
    assert layer.sweep is not None and layer.sweep.optimizer == "adam" and layer.sweep.nx == 48
    assert layer.legend.isVisible() and "Basins of Adam" in layer.legend.text()
    overlay = window.view_panel.scene_view.surface_item.overlay
    assert overlay.shape == (48, 48, 4)
    # What is drawn is what the core computes for the scene.
    np.testing.assert_array_equal(layer.sweep.cells.minimum, scene_basins(model.snapshot()).cells.minimum)
    model.select(1)  # one click on another optimizer shows its basins
    assert window.settle(120)
    assert layer.sweep.optimizer == "sgd" and "Basins of SGD" in layer.legend.text()
    before = layer.sweep
    model.set_hyperparam(1, "lr", 0.02)  # its settings changed: recomputed
    assert window.settle(120)
    assert layer.sweep is not before and layer.sweep.hyperparams["lr"] == 0.02
    model.set_basins("off")
    assert window.settle(120)
    assert window.view_panel.scene_view.surface_item.overlay is None and not layer.legend.isVisible()
