"""The basins a scene's view shows: its chosen optimizer from every start of a grid over its surface."""

from __future__ import annotations

from collections.abc import Callable

from optviz.core.scene import Scene
from optviz.core.sweep.run import RunConditions, StartSweep, sweep_starts


def scene_basins(scene: Scene, count: int | None = None, cancelled: Callable[[], bool] | None = None) -> StartSweep:
    """Basins of `scene.view.basins_optimizer` over a count x count grid (the scene's `basins_grid` when None),
    with the scene's hyperparameters, steps, seed, tolerance, gradient pathology, clipping and schedule."""
    surface = scene.build_surface()
    config = scene.run_config(scene.view.basins_optimizer)
    n = scene.view.basins_grid if count is None else count
    conditions = RunConditions.of(scene, scene.view.basins_optimizer)
    return sweep_starts(
        surface,
        config.optimizer,
        config.hyperparams,
        n,
        n,
        scene.steps,
        scene.seed,
        scene.tolerance,
        cancelled,
        conditions,
    )
