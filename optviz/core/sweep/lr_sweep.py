"""Learning-rate suggestions from a loss-versus-lr curve, and the curve for an analytic surface.

The two rules (shared with the lr finder on real training, `core/learn/lr_find.py`):

- steepest: the lr where the curve falls fastest, the most negative gradient of the loss against log10(lr),
  the first and last few points left out (their one-sided differences are the noisiest) and only points up to
  the curve's minimum considered, so the suggestion lies where the loss falls, not in the noise of a blow-up;
- valley: one tenth of the lr at the curve's minimum (a step back from the edge, as fastai suggests). A
  smoothed curve's first points are barely smoothed (one batch's loss), so its minimum is searched after the
  same first points the steepest search leaves out (`skip_start`), as fastai does.

`surface_lr_sweep` runs one optimizer from one start at every lr of a grid as one batched race (per-run
hyperparameters, `core/sweep/run.py`) and applies both rules to the final loss against lr.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.jsonsafe import finite_list, json_text
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.race.engine import DEFAULT_TOLERANCE
from optviz.core.surfaces.base import Surface
from optviz.core.sweep.run import PLAIN, RunConditions, run_rows

if TYPE_CHECKING:
    from optviz.core.scene import Scene

#: The steepest-descent search leaves out the first tenth of the points and at most this many at the end.
SKIP_END = 5


@dataclass(frozen=True)
class Suggestions:
    """Indices into the curve (None where a rule finds nothing) and the learning rates they suggest."""

    steepest_index: int | None
    minimum_index: int | None
    steepest_lr: float | None
    valley_lr: float | None  # a tenth of the lr at the minimum

    def to_dict(self) -> dict[str, Any]:
        return {
            "steepest_lr": self.steepest_lr,
            "steepest_index": self.steepest_index,
            "valley_lr": self.valley_lr,
            "minimum_index": self.minimum_index,
        }


def skipped_ends(count: int) -> tuple[int, int]:
    """How many points the steepest search leaves out at the start and at the end of a curve of `count`."""
    return max(1, count // 10), max(1, min(SKIP_END, count // 20))


def suggest(
    lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray, skip_start: bool = False
) -> Suggestions:
    """Both rules (module doc) on a curve of losses at increasing learning rates; non-finite losses are gaps
    (they can be neither the minimum nor the steepest point). `skip_start`: look for the minimum after the
    points the steepest search leaves out at the start too (a smoothed curve)."""
    lrs = np.asarray(lrs, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    head, tail = skipped_ends(len(losses))
    candidates = np.arange(len(losses))
    finite = np.isfinite(losses) & (candidates >= (head if skip_start else 0))
    if not finite.any():
        return Suggestions(None, None, None, None)
    minimum = int(np.argmin(np.where(finite, losses, np.inf)))
    steepest = None
    if len(losses) >= 3:
        with np.errstate(all="ignore"):
            slope = np.gradient(losses, np.log10(lrs))
        usable = (candidates >= head) & (candidates < len(losses) - tail) & (candidates <= minimum)
        usable &= np.isfinite(slope) & (slope < 0)
        if usable.any():
            steepest = int(candidates[usable][np.argmin(slope[usable])])
    return Suggestions(
        steepest,
        minimum,
        None if steepest is None else float(lrs[steepest]),
        float(lrs[minimum]) / 10.0,
    )


@dataclass
class SurfaceLrSweep:
    """An analytic surface's final loss after `steps` steps at each learning rate, and the suggestions."""

    surface: str
    optimizer: str
    hyperparams: dict[str, Value]
    start: tuple[float, float]
    steps: int
    lrs: np.ndarray
    final_losses: np.ndarray  # NaN where the run diverged
    status: np.ndarray  # "converged", "diverged" or "running" per lr
    suggestions: Suggestions

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "optviz-surface-lr-sweep",
            "version": 1,
            "surface": self.surface,
            "optimizer": self.optimizer,
            "hyperparameters": self.hyperparams,
            "start": list(self.start),
            "steps": self.steps,
            "lrs": self.lrs.tolist(),
            "final_loss": finite_list(self.final_losses),
            "status": self.status.tolist(),
            "suggestions": self.suggestions.to_dict(),
        }

    def to_json(self) -> str:
        return json_text(self.to_dict())


def surface_lr_sweep(
    scene_or_surface: Scene | Surface,
    optimizer: str,
    hp: Mapping[str, Value],
    start: tuple[float, float] | None,
    steps: int,
    lrs: Sequence[float] | np.ndarray,
    cancelled: Callable[[], bool] | None = None,
    conditions: RunConditions = PLAIN,
) -> SurfaceLrSweep:
    """`optimizer` (its other hyperparameters from `hp`) from `start` (None: the scene's first start, or the
    surface's suggested one) for `steps` steps at each lr, as one batched race; the final losses and the
    suggestions. A scene also gives its seed and tolerance; a learned scene is refused (train on the real model
    with `core/learn/lr_find.py` instead). `conditions`: the race's pathology, clipping and schedule."""
    seed, tolerance = 0, DEFAULT_TOLERANCE
    if isinstance(scene_or_surface, Surface):
        surface = scene_or_surface
    else:
        scene = scene_or_surface
        if scene.is_learned:
            raise OptvizError("a learned surface's lr is found on the real model: use the lr finder (optviz lr-find)")
        surface = scene.build_surface()
        seed, tolerance = scene.seed, scene.tolerance
        if start is None:
            start = tuple(scene.start_points(surface)[0])
    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    if len(lrs) < 2:
        raise ValueOutOfRangeError(f"an lr sweep needs at least 2 learning rates, got {len(lrs)}")
    if not (np.all(np.isfinite(lrs)) and np.all(lrs > 0) and np.all(np.diff(lrs) > 0)):
        raise ValueOutOfRangeError("the learning rates must be finite, above 0 and increasing")
    spec = get_optimizer(optimizer)
    if "lr" not in spec.schema.names:
        raise OptvizError(f"{spec.name} has no learning rate to sweep")
    base = spec.resolve(hp, surface.name)
    spec.schema.get("lr").validate(float(lrs[0]), spec.name)  # both ends inside the schema's range
    spec.schema.get("lr").validate(float(lrs[-1]), spec.name)
    point = tuple(float(v) for v in (surface.start if start is None else start))
    starts = np.tile(np.asarray(point, dtype=np.float64), (len(lrs), 1))
    alone = np.zeros(len(lrs), dtype=int)  # every lr sees that start's noise and draw, as its race would
    cells = run_rows(
        surface, optimizer, {**base, "lr": lrs}, starts, alone, steps, seed, tolerance, cancelled, (), conditions
    )
    return SurfaceLrSweep(
        surface=surface.name,
        optimizer=spec.name,
        hyperparams=base,
        start=(point[0], point[1]),
        steps=steps,
        lrs=lrs,
        final_losses=cells.final_loss,
        status=cells.status,
        suggestions=suggest(lrs, cells.final_loss),
    )
