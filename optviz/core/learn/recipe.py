"""`LearnedRecipe`: what defines a learned surface in a scene file, the CLI and the app.

Torch-free on purpose: scene files are read by `optviz.core.scene`, which must stay importable without
torch; the names are checked against the model and data set registries only when a scene has a learned
surface (that import brings torch, which such a scene needs anyway).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from optviz.core.errors import OptvizError, UnknownNameError
from optviz.core.params import check_seed

PLANES = ("random", "pca", "three-point")
MIN_RESOLUTION, MAX_RESOLUTION = 5, 401
MAX_RANGE = 100.0
MAX_BATCH = 100_000

PLANE_HELP = {
    "random": "two filter-normalised random directions through the common start (Li et al. 2018)",
    "pca": "the two leading principal directions of all optimizers' paths together, through their mean",
    "three-point": "the plane through the common start and the first two optimizers' end points",
}


@dataclass(frozen=True)
class LearnedRecipe:
    """A model trained on a data set, and the plane and grid its loss is drawn on.

    `range`: for the random plane, the grid's half-width in direction units (1 = each filter moved by its
    own norm, as in Li et al.); for pca and three-point, the half-width as a multiple of what just covers
    every path with a 15 % margin (1 = fit the paths). `seed` initialises the model, orders the mini-batches
    and draws the random directions; the data set itself always uses seed 0, so seeds compare the same data.
    """

    model: str = "mlp"
    dataset: str = "moons"
    plane: str = "pca"
    resolution: int = 41
    range: float = 1.0
    seed: int = 0
    batch_size: int = 64

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def validate(self) -> LearnedRecipe:
        """Check every value (names against the registries); raises `OptvizError` naming the problem."""
        from optviz.core.learn.datasets import dataset_info
        from optviz.core.learn.models import model_spec

        info = dataset_info(self.dataset)
        spec = model_spec(self.model)
        if info.kind not in spec.kinds:
            raise OptvizError(f"model {self.model!r} does not fit data set {self.dataset!r} ({info.kind})")
        if self.plane not in PLANES:
            raise UnknownNameError(f"unknown plane {self.plane!r}; choose one of: {', '.join(PLANES)}")
        if not MIN_RESOLUTION <= self.resolution <= MAX_RESOLUTION:
            raise OptvizError(f"resolution={self.resolution} is out of range ({MIN_RESOLUTION} to {MAX_RESOLUTION})")
        if not 0 < self.range <= MAX_RANGE:
            raise OptvizError(f"range={self.range} is out of range (above 0, at most {MAX_RANGE:g})")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise OptvizError(f"batch_size={self.batch_size} is out of range (1 to {MAX_BATCH})")
        check_seed(self.seed)
        return self
