"""Learned races in the app: what the scheduler's worker runs when the scene's surface is learned.

`LearnedSession` keeps, between jobs:
- every trained path, keyed by (model, data set, seed, batch size, steps, optimizer, hyperparameters), so
  dragging one optimizer's slider retrains that optimizer alone;
- the current *frame*: the shared plane and its grid. It is kept while hyperparameters change, while
  optimizers are added, removed or switched on and off: refitting on every slider step would move the whole
  picture under every other path and recompute the grid each time. The explained fractions and the view's
  warning say when a kept plane has stopped fitting the paths, and "Refit plane" (`request_refit`) fits a
  new one to the paths as they are. A new frame is made when the recipe (model, data, plane kind,
  resolution, range, seed, batch size) or the number of steps changes.
Plane losses are cached per (frame, path), so a retrained path costs one training run and one batched
evaluation of its projected points.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.race.result import RunConfig
from optviz.core.scene import Scene

CACHE_PATHS = 48
Progress = Callable[[str, int, int], None]


@dataclass
class _Frame:
    number: int
    recipe_key: tuple
    plane: Any
    grid: Any
    surface: Any
    dataset: Any
    model: Any


class LearnedSession:
    def __init__(self) -> None:
        self._paths: OrderedDict[tuple, Any] = OrderedDict()
        self._plane_losses: OrderedDict[tuple, Any] = OrderedDict()
        self._frame: _Frame | None = None
        self._frames = 0
        self._refit = threading.Event()

    def request_refit(self) -> None:
        """The next job fits a new plane (and grid) to the paths as they are then."""
        self._refit.set()

    def compute(self, scene: Scene, cancelled: Callable[[], bool], progress: Progress):
        """An `Outcome` for the scene (see `scheduler.compute_race`), or None when cancelled."""
        from optviz.app.race.scheduler import Outcome
        from optviz.core.learn.learned_race import (
            assemble,
            fit_plane,
            frame_coords,
            grid_for,
            load,
            plane_losses,
            project_path,
        )
        from optviz.core.learn.paths import check_record_size, train_path
        from optviz.core.learn.surface import LearnedSurface

        t0 = time.perf_counter()
        outcome = Outcome(revision=-1)
        recipe, steps = scene.learned, scene.steps
        try:
            dataset, model = load(recipe)
            check_record_size(sum(p.numel() for p in model.parameters()), steps, len(scene.optimizers))
        except OptvizError as exc:
            outcome.error = str(exc)
            return outcome
        base = (recipe.model, recipe.dataset, recipe.seed, recipe.batch_size, steps)
        configs, paths, keys = [], [], []
        for k, entry in enumerate(scene.optimizers):
            try:
                hp = get_optimizer(entry.name).resolve(entry.hyperparams, scene.surface)
            except OptvizError as exc:
                outcome.error = f"{entry.name}: {exc}"
                return outcome
            config = RunConfig(entry.name, hp, entry.label)
            key = (*base, entry.name, tuple(sorted(hp.items())))
            path = self._paths.get(key)
            if path is None:
                progress(f"training {config.display_name} ({k + 1}/{len(scene.optimizers)})", k, len(scene.optimizers))
                path = train_path(
                    recipe.model, dataset, entry.name, hp, steps, recipe.seed, recipe.batch_size, cancelled
                )
                if path is None:
                    return None
                self._remember(self._paths, key, path)
                outcome.simulated.append(k)
            configs.append(config)
            paths.append(path)
            keys.append(key)

        recipe_key = (recipe, steps)
        frame = self._frame
        if frame is None or frame.recipe_key != recipe_key or self._refit.is_set():
            self._refit.clear()
            try:
                plane = fit_plane(recipe, model, paths)
            except OptvizError as exc:
                outcome.error = str(exc)
                return outcome
            projections = [project_path(plane, p) for p in paths]
            grid = None
            frame_points = frame_coords(paths, projections)
            for report in grid_for(recipe, model, dataset, plane, frame_points, cancelled=cancelled):
                progress("computing the surface", report.rows_done, report.rows)
                grid = report.grid
            if grid is None:
                return None
            self._frames += 1
            title = f"{recipe.model} on {recipe.dataset} ({recipe.plane} plane)"
            frame = _Frame(self._frames, recipe_key, plane, grid, LearnedSurface(grid, title), dataset, model)
            self._frame = frame
            outcome.simulated = list(range(len(paths)))
        projections = [project_path(frame.plane, p) for p in paths]
        losses = []
        for key, path, projection in zip(keys, paths, projections, strict=True):
            cached = self._plane_losses.get((frame.number, key))
            if cached is None:
                if cancelled():
                    return None
                cached = plane_losses(frame.model, frame.dataset, frame.plane, projection, path)
                self._remember(self._plane_losses, (frame.number, key), cached)
            losses.append(cached)
        result = assemble(recipe, configs, paths, projections, losses, frame.plane, frame.grid, steps)
        result.surface = frame.surface  # one object per frame: the view redraws the mesh only for a new one
        outcome.result = result
        outcome.keys = [(frame.number, key) for key in keys]
        outcome.scene_key = ("learned", frame.number)
        outcome.seconds = time.perf_counter() - t0
        progress("done", 1, 1)
        return outcome

    @staticmethod
    def _remember(cache: OrderedDict, key: tuple, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_PATHS:
            cache.popitem(last=False)
