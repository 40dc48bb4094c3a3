"""Racing optimizers on a learned surface: train each for real, fit one shared plane, draw the paths on it.

K optimizers train the same model from the same initialisation on the same mini-batch order
(`paths.train_path`); their weight paths are projected onto one plane shared by all of them
(`fit_plane`: PCA of all paths together by default, the three-point plane, or random directions through
the common start, never a plane centred on one optimizer's end point, which would flatter that one); the
loss over the plane becomes a `LearnedSurface`, and the result is a `RaceResult`, so the 3-D view, the
charts, the leaderboard and the exporter draw it like any race.

Honesty: `losses` are the true full-weight-space losses at each step. `plane_losses` are what the picture
says there: the model's loss at the projected weights (computed exactly, not read off the grid).
`explained` is the fraction of each path's movement that lies in the plane and `off_plane` each point's
distance from it. When a path is poorly explained (`POOR_FIT`), the picture does not show where that
optimizer really went, and the app says so.

These are the pipeline's pieces; `optviz.core.learn.session` runs them (for the command line and the app).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn.cache import cached_grid_steps
from optviz.core.learn.datasets import Dataset, load_dataset
from optviz.core.learn.grid import evaluate_coords, grid_axes
from optviz.core.learn.models import model_spec
from optviz.core.learn.paths import TrainedPath
from optviz.core.learn.planes import (
    Plane,
    explained_fraction,
    line_plane,
    pca_plane,
    random_plane,
    three_point_plane,
)
from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.learn.surface import LearnedSurface
from optviz.core.race.result import RaceResult, RunConfig, RunStatus

#: Below this fraction of a path's movement in the plane, the view warns that the picture misleads.
POOR_FIT = 0.5
#: Fitted planes: the grid covers the paths' bounding box with this margin on each side (at range 1).
FIT_MARGIN = 1.15
#: The data set always uses this seed: a recipe's seed changes the model and the batches, not the data.
DATA_SEED = 0


@dataclass
class LearnedRaceResult(RaceResult):
    """A `RaceResult` (M = 1 start: the common initialisation) plus what a learned race must show beside it."""

    plane_losses: np.ndarray | None = None  # (K, 1, N+1) loss at the projected weights (what the picture says)
    accuracies: np.ndarray | None = None  # (K, 1, N+1) true training accuracy
    off_plane: np.ndarray | None = None  # (K, 1, N+1) distance of the true weights from the plane
    explained: np.ndarray | None = None  # (K,) fraction of each path's movement that lies in the plane
    recipe: LearnedRecipe | None = None
    plane: Plane | None = field(default=None, repr=False)

    PER_RUN: ClassVar[tuple[str, ...]] = (*RaceResult.PER_RUN, "plane_losses", "accuracies", "off_plane", "explained")

    def poorly_explained(self, threshold: float = POOR_FIT) -> list[int]:
        """Indices of optimizers whose paths the plane explains less than `threshold` of."""
        if self.explained is None:
            return []
        return [k for k, e in enumerate(self.explained) if np.isfinite(e) and e < threshold]


def load(recipe: LearnedRecipe) -> tuple[Dataset, torch.nn.Module]:
    """The recipe's data set and its freshly initialised model (the common start of every path)."""
    recipe.validate()
    dataset = load_dataset(recipe.dataset, DATA_SEED)
    return dataset, model_spec(recipe.model).build(dataset, recipe.seed)


def fit_plane(recipe: LearnedRecipe, model: torch.nn.Module, paths: Sequence[TrainedPath]) -> Plane:
    """The one plane every path of the race is drawn on (see the module doc and `recipe.PLANE_HELP`)."""
    from optviz.core.learn.stepping import flat_parameters

    start = flat_parameters(model)
    if recipe.plane == "random" or not paths:
        if recipe.plane != "random":
            raise OptvizError(f"a {recipe.plane} plane is fitted to optimizer paths: add an optimizer")
        return random_plane(model, recipe.seed, origin=start)
    finite = [p.weights[: p.valid_length] for p in _fitted(paths) if p.valid_length >= 2]
    if not finite:
        raise OptvizError("every optimizer diverged at once: no path to fit a plane to (try the random plane)")
    if len(finite) == 1 and len(finite[0]) == 2:
        # One step of one optimizer: a segment, which spans one direction only.
        return line_plane(recipe.plane, start, finite[0][-1], model, recipe.seed)
    if recipe.plane == "pca":
        return pca_plane(finite)
    if len(finite) >= 2:
        return three_point_plane(start, finite[0][-1], finite[1][-1])
    # One path: the start, its end, and the point of the path farthest from the line through those two.
    w = finite[0]
    line = (w[-1] - start) / max(float((w[-1] - start).norm()), 1e-300)
    rel = w - start
    off = rel - (rel @ line)[:, None] * line
    return three_point_plane(start, w[-1], w[int(off.norm(dim=1).argmax())])


def _fitted(paths: Sequence[TrainedPath]) -> list[TrainedPath]:
    """The paths a plane and a grid are fitted to: the runs that did not diverge (a path that blew up
    would swamp both; its trail still shows, leaving the box where it broke), or all if every one did."""
    kept = [p for p in paths if p.status != RunStatus.DIVERGED.value]
    return kept or list(paths)


def frame_coords(paths: Sequence[TrainedPath], projections: Sequence[Projection]) -> list[np.ndarray]:
    """The projected points the grid is framed around: the valid part of every path a plane is fitted to."""
    fitted = {id(p) for p in _fitted(paths)}
    return [pr.coords[: p.valid_length] for p, pr in zip(paths, projections, strict=True) if id(p) in fitted]


def grid_frame(recipe: LearnedRecipe, coords: Sequence[np.ndarray]) -> tuple[tuple[float, float], float]:
    """(centre, half-width) of the grid in plane coordinates (see `LearnedRecipe.range`), around `coords`
    (the projected paths that did not diverge)."""
    if recipe.plane == "random" or not coords:
        return (0.0, 0.0), float(recipe.range)
    points = np.concatenate([c[np.isfinite(c).all(axis=1)] for c in coords])
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (hi + lo) / 2
    half = float(np.max(hi - lo)) / 2 * FIT_MARGIN * float(recipe.range)
    # A path that barely moves still gets a visible patch of surface around it.
    half = max(half, 1e-3 * max(float(np.abs(points).max()), 1.0), 1e-6)
    return (float(centre[0]), float(centre[1])), half


@dataclass
class Projection:
    """One path on a plane: coordinates (N+1, 2), distance from the plane (N+1,), explained fraction."""

    coords: np.ndarray
    off_plane: np.ndarray
    explained: float


def project_path(plane: Plane, path: TrainedPath) -> Projection:
    coords, off = plane.project(path.weights)
    n = path.valid_length
    off = off.numpy().copy()
    off[n:] = np.nan
    return Projection(coords.numpy(), off, explained_fraction(plane, path.weights[:n]))


def plane_losses(
    model: torch.nn.Module, dataset: Dataset, plane: Plane, projection: Projection, path: TrainedPath
) -> np.ndarray:
    """The loss at each projected point (N+1,): what the surface says at the drawn position, exactly."""
    n = path.valid_length
    out = np.full(len(projection.coords), np.nan)
    loss, _ = evaluate_coords(model, dataset, plane, projection.coords[:n])
    out[:n] = loss
    return out


def assemble(
    recipe: LearnedRecipe,
    configs: Sequence[RunConfig],
    paths: Sequence[TrainedPath],
    projections: Sequence[Projection],
    plane_loss: Sequence[np.ndarray],
    plane: Plane,
    surface: LearnedSurface,
    steps: int,
) -> LearnedRaceResult:
    """The race result from trained paths, their projections and their plane losses (no torch work here)."""
    k_count = len(paths)
    n1 = steps + 1

    def stacked(rows: Sequence[np.ndarray], *tail: int) -> np.ndarray:
        """(K, 1, N+1, *tail) from one row per optimizer; empty (0, 1, N+1, *tail) with no optimizer (a random
        plane needs none: the surface alone)."""
        shape = (k_count, 1, n1, *tail)
        return np.stack(rows).reshape(shape) if k_count else np.zeros(shape)

    positions = stacked([p.coords for p in projections], 2)
    losses = stacked([p.losses for p in paths])
    accuracies = stacked([p.accuracy for p in paths])
    grad_norms = stacked([p.grad_norms for p in paths])
    update_norms = np.zeros((k_count, 1, n1))
    for k, path in enumerate(paths):
        update_norms[k, 0, 1:] = (path.weights[1:] - path.weights[:-1]).norm(dim=1).numpy()
        if path.status == RunStatus.DIVERGED.value:
            update_norms[k, 0, path.stopped_at :] = np.nan
    status = np.array([[p.status] for p in paths], dtype="<U9").reshape(k_count, 1)
    stopped = np.array([[p.stopped_at] for p in paths], dtype=int).reshape(k_count, 1)
    reasons = np.array([[p.reason] for p in paths], dtype=object).reshape(k_count, 1)
    start = positions[0, 0, 0] if k_count else np.zeros(2)
    return LearnedRaceResult(
        configs=list(configs),
        starts=np.asarray(start, dtype=np.float64).reshape(1, 2),
        positions=positions,
        losses=losses,
        grad_norms=grad_norms,
        update_norms=update_norms,
        distances=np.full((k_count, 1, n1), np.inf),
        status=status,
        stopped_at=stopped,
        reasons=reasons,
        steps=steps,
        seed=recipe.seed,
        tolerance=0.0,
        engines=["library"] * k_count,
        plane_losses=stacked(plane_loss),
        accuracies=accuracies,
        off_plane=stacked([p.off_plane for p in projections]),
        explained=np.array([p.explained for p in projections], dtype=np.float64),
        recipe=recipe,
        plane=plane,
        surface=surface,
    )


def grid_for(
    recipe: LearnedRecipe,
    model: torch.nn.Module,
    dataset: Dataset,
    plane: Plane,
    frame: Sequence[np.ndarray],
    **kwargs,
):
    """The recipe's grid on `plane`, framed around `frame` (`frame_coords`), cached on disk: GridProgress
    reports."""
    centre, half = grid_frame(recipe, frame)
    xs, ys = grid_axes(centre, half, recipe.resolution)
    return cached_grid_steps(recipe.model, model, dataset, plane, xs, ys, **kwargs)
