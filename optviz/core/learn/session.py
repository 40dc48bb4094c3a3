"""The one learned-race pipeline: train every optimizer, fit one shared plane, grid it, score the paths.

`LearnedSession.race_steps` is what the command line (`Scene.run`, `optviz landscape`), the exporter and the
app all run. A session used once (`run_learned_race`) trains everything; the app keeps one session between
jobs, and then it keeps:
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

The race is a generator of `LearnedProgress` reports (training, then grid rows), cancellable between steps and
between grid chunks; its last report carries the result and says which runs it computed afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from optviz.core.learn.datasets import Dataset
from optviz.core.learn.grid import LossGrid
from optviz.core.learn.learned_race import (
    LearnedRaceResult,
    assemble,
    fit_plane,
    frame_coords,
    grid_for,
    load,
    plane_losses,
    project_path,
)
from optviz.core.learn.paths import check_record_size, train_path
from optviz.core.learn.planes import Plane
from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.learn.surface import LearnedSurface
from optviz.core.race.result import RunConfig

#: Trained paths (and plane losses) kept between jobs: a few scenes' worth of optimizers, bounded memory.
CACHE_PATHS = 48


@dataclass(frozen=True)
class LearnedProgress:
    stage: str  # "train", "grid" or "done"
    done: int
    total: int
    message: str
    result: LearnedRaceResult | None = None
    #: With the result: the run indices trained or re-projected for it (all of them on a new plane), and a
    #: key per run that changes exactly when its drawn path does.
    recomputed: tuple[int, ...] = ()
    keys: tuple[Any, ...] = ()


@dataclass
class _Frame:
    number: int
    recipe_key: tuple
    plane: Plane
    grid: LossGrid
    surface: LearnedSurface
    dataset: Dataset
    model: torch.nn.Module


class LearnedSession:
    """See the module doc. `use_cache` is the on-disk grid cache (`optviz.core.learn.cache`)."""

    def __init__(self, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self._paths: OrderedDict[tuple, Any] = OrderedDict()
        self._plane_losses: OrderedDict[tuple, Any] = OrderedDict()
        self._frame: _Frame | None = None
        self._frames = 0
        self._refit = threading.Event()  # set from the UI thread, read by the worker

    def request_refit(self) -> None:
        """The next race fits a new plane (and grid) to the paths as they are then."""
        self._refit.set()

    @property
    def frame_number(self) -> int:
        """Counts the planes fitted so far (0 before the first)."""
        return self._frames

    def race_steps(
        self,
        recipe: LearnedRecipe,
        configs: Sequence[RunConfig],
        steps: int,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[LearnedProgress]:
        """Train, fit, grid and score (see the module doc); stops with no result as soon as `cancelled()`."""
        cancelled = cancelled or (lambda: False)
        dataset, model = load(recipe)
        check_record_size(sum(p.numel() for p in model.parameters()), steps, len(configs))
        base = (recipe.model, recipe.dataset, recipe.seed, recipe.batch_size, steps)
        k_count = len(configs)
        paths, keys, recomputed = [], [], []
        for k, config in enumerate(configs):
            key = (*base, config.optimizer, tuple(sorted(config.hyperparams.items())))
            path = self._paths.get(key)
            if path is None:
                yield LearnedProgress("train", k, k_count, f"training {config.display_name} ({k + 1}/{k_count})")
                path = train_path(
                    recipe.model, dataset, config.optimizer, config.hyperparams, steps, recipe.seed,
                    recipe.batch_size, cancelled,
                )  # fmt: skip
                if path is None:
                    return
                _remember(self._paths, key, path)
                recomputed.append(k)
            paths.append(path)
            keys.append(key)

        recipe_key = (recipe, steps)
        frame = self._frame
        if frame is None or frame.recipe_key != recipe_key or self._refit.is_set():
            self._refit.clear()
            plane = fit_plane(recipe, model, paths)
            framing = frame_coords(paths, [project_path(plane, p) for p in paths])
            grid = None
            for report in grid_for(
                recipe, model, dataset, plane, framing, cancelled=cancelled, use_cache=self.use_cache
            ):
                yield LearnedProgress("grid", report.rows_done, report.rows, "computing the surface")
                grid = report.grid
            if grid is None:
                return
            self._frames += 1
            title = f"{recipe.model} on {recipe.dataset} ({recipe.plane} plane)"
            frame = _Frame(self._frames, recipe_key, plane, grid, LearnedSurface(grid, title), dataset, model)
            self._frame = frame
            recomputed = list(range(k_count))
        projections = [project_path(frame.plane, p) for p in paths]
        losses = []
        for key, path, projection in zip(keys, paths, projections, strict=True):
            cached = self._plane_losses.get((frame.number, key))
            if cached is None:
                if cancelled():
                    return
                cached = plane_losses(frame.model, frame.dataset, frame.plane, projection, path)
                _remember(self._plane_losses, (frame.number, key), cached)
            losses.append(cached)
        # One surface object per frame: the view redraws the mesh only for a new one.
        result = assemble(recipe, configs, paths, projections, losses, frame.plane, frame.surface, steps)
        frame_keys = tuple((frame.number, key) for key in keys)
        yield LearnedProgress("done", 1, 1, "done", result, tuple(recomputed), frame_keys)


def _remember(cache: OrderedDict, key: tuple, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_PATHS:
        cache.popitem(last=False)


def learned_race_steps(
    recipe: LearnedRecipe,
    configs: Sequence[RunConfig],
    steps: int,
    *,
    cancelled: Callable[[], bool] | None = None,
    use_cache: bool = True,
) -> Iterator[LearnedProgress]:
    """One learned race from scratch (the command line): `LearnedSession.race_steps` on a fresh session."""
    return LearnedSession(use_cache).race_steps(recipe, configs, steps, cancelled)


def run_learned_race(
    recipe: LearnedRecipe, configs: Sequence[RunConfig], steps: int, *, use_cache: bool = True
) -> LearnedRaceResult:
    """The whole race at once (tests, scripts): the result of `learned_race_steps`."""
    for progress in learned_race_steps(recipe, configs, steps, use_cache=use_cache):
        if progress.result is not None:
            return progress.result
    raise AssertionError("a learned race that was not cancelled ended without a result")
