"""2-D planes through a network's weight space, and how well a plane represents a path.

A `Plane` is an origin and two directions, all flat float64 vectors in the order of
`stepping.flat_parameters`. Three ways to choose one:

- `random_plane`: filter-normalised random directions around a point (Li et al. 2018). Each filter of a
  direction (a row of a weight matrix: one output unit; one output channel of a convolution; one row of an
  embedding) is rescaled to the norm of the matching filter of the weights, so the picture is comparable
  across layers and networks whatever their scale. Parameters with one dimension (biases, LayerNorm) get a
  zero direction, as the reference code does with `--xignore biasbn` (the setting of its published plots):
  they are tiny and have no filter to normalise by.
- `pca_plane`: the two leading principal directions of one or several trajectories stacked together,
  through their mean, with the fraction of the variance each direction explains.
- `three_point_plane`: the plane through three weight vectors (e.g. the common start and two optimizers'
  end points). The directions are Gram-Schmidt orthonormalised, not the affine basis (b - a, c - a): unit
  coordinates then measure true distance in weight space and the drawn surface is not sheared.
- `line_plane`: a single step (two points) spans one direction; a seeded random one beside it completes
  the plane, so `--steps 1` with one optimizer still has a picture.

`Plane.project` finds plane coordinates by least squares (random directions are not exactly orthogonal),
and `explained_fraction` says how much of a path's movement the plane captures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from optviz.core.errors import OptvizError


@dataclass(frozen=True)
class Plane:
    """origin + a * d1 + b * d2 (flat float64 vectors of the model's weight count)."""

    kind: str  # one of recipe.PLANES
    origin: torch.Tensor
    d1: torch.Tensor
    d2: torch.Tensor
    #: PCA only: the fraction of the trajectories' variance along d1 and d2 (None for other planes).
    explained_variance: tuple[float, float] | None = None

    @property
    def basis(self) -> torch.Tensor:
        """(D, 2) matrix whose columns are the directions."""
        return torch.stack([self.d1, self.d2], dim=1)

    def point(self, a: float, b: float) -> torch.Tensor:
        """The weight vector at plane coordinates (a, b)."""
        return self.origin + a * self.d1 + b * self.d2

    def points(self, coords: torch.Tensor) -> torch.Tensor:
        """(P, D) weight vectors at plane coordinates (P, 2)."""
        coords = torch.as_tensor(coords, dtype=self.origin.dtype)
        return self.origin + coords @ self.basis.T

    def project(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Plane coordinates (T, 2) of weight vectors (T, D), and each one's distance from the plane (T,).

        Least squares through the 2 x 2 Gram matrix: exact for orthonormal directions and correct for the
        nearly orthogonal random ones.
        """
        w = torch.as_tensor(weights, dtype=self.origin.dtype).reshape(-1, self.origin.numel()) - self.origin
        basis = self.basis
        coords = torch.linalg.solve(basis.T @ basis, basis.T @ w.T).T
        residual = w - coords @ basis.T
        return coords, residual.norm(dim=1)


def explained_fraction(plane: Plane, weights: torch.Tensor) -> float:
    """How much of a path's movement lies in the plane: 1 - |off-plane movement|^2 / |movement|^2, summed
    over the steps, with movement measured from the path's own start (so the answer does not depend on
    where the plane's origin is). 1.0: the path moves only within the plane; near 0: the plane misses it."""
    w = torch.as_tensor(weights, dtype=plane.origin.dtype).reshape(-1, plane.origin.numel())
    w = w[torch.isfinite(w).all(dim=1)]
    if len(w) < 2:
        return 1.0
    moved = w - w[0]
    total = float((moved**2).sum())
    if total == 0.0:
        return 1.0
    basis = plane.basis
    coords = torch.linalg.solve(basis.T @ basis, basis.T @ moved.T).T
    off = moved - coords @ basis.T
    return max(0.0, 1.0 - float((off**2).sum()) / total)


def filter_normalized_direction(model: nn.Module, generator: torch.Generator) -> torch.Tensor:
    """One random direction, flat float64, filter-normalised to `model`'s current weights (see module doc)."""
    parts = []
    for p in (q for q in model.parameters() if q.requires_grad):
        w = p.detach().double()
        d = torch.randn(w.shape, generator=generator, dtype=torch.float64)
        if w.dim() <= 1:
            d.zero_()
        else:
            # One filter per index of the first dimension: a Linear's output unit, a Conv's output channel.
            w_norm = w.reshape(w.shape[0], -1).norm(dim=1)
            d_norm = d.reshape(d.shape[0], -1).norm(dim=1)
            scale = w_norm / (d_norm + 1e-10)
            d = d * scale.reshape(-1, *([1] * (w.dim() - 1)))
        parts.append(d.reshape(-1))
    return torch.cat(parts)


def random_plane(model: nn.Module, seed: int = 0, origin: torch.Tensor | None = None) -> Plane:
    """Two filter-normalised random directions (seeded) through `origin` (default: the model's weights).

    Normalisation is always to the model's current weights, which should be the weights at `origin`.
    """
    from optviz.core.learn.stepping import flat_parameters

    generator = torch.Generator().manual_seed(int(seed))
    d1 = filter_normalized_direction(model, generator)
    d2 = filter_normalized_direction(model, generator)
    center = flat_parameters(model) if origin is None else torch.as_tensor(origin, dtype=torch.float64)
    return Plane("random", center.clone(), d1, d2)


def pca_plane(trajectories: Sequence[torch.Tensor]) -> Plane:
    """The plane of the two leading principal directions of all points of `trajectories` (each (T_k, D)),
    through their mean. Non-finite rows (after a divergence) are left out.

    Signs are fixed so that the first trajectory's last point has non-negative coordinates: the same
    input always gives the same picture, not its mirror image.
    """
    rows = [torch.as_tensor(t, dtype=torch.float64).reshape(-1, t.shape[-1]) for t in trajectories]
    stacked = torch.cat(rows)
    finite = torch.isfinite(stacked).all(dim=1)
    points = stacked[finite]
    if len(points) < 3:
        raise OptvizError("a PCA plane needs at least three finite points on the trajectories")
    mean = points.mean(dim=0)
    centered = points - mean
    # A thin SVD: T (a few hundred points) is far smaller than D, so this is cheap.
    _, s, vh = torch.linalg.svd(centered, full_matrices=False)
    variance = s**2
    total = float(variance.sum())
    if total == 0.0 or len(s) < 2 or float(variance[1]) <= 1e-30 * max(total, 1e-300):
        raise OptvizError("the trajectories do not move in two independent directions: no PCA plane")
    d1, d2 = vh[0].clone(), vh[1].clone()
    last = rows[0][torch.isfinite(rows[0]).all(dim=1)][-1] - mean
    if float(last @ d1) < 0:
        d1 = -d1
    if float(last @ d2) < 0:
        d2 = -d2
    ratios = (float(variance[0]) / total, float(variance[1]) / total)
    return Plane("pca", mean, d1, d2, ratios)


def line_plane(kind: str, a: torch.Tensor, b: torch.Tensor, model: nn.Module, seed: int = 0) -> Plane:
    """The plane through a and b (d1 along b - a) and a seeded filter-normalised random direction made
    orthogonal to it (d2): what a path of a single step gives, where `pca_plane` and `three_point_plane`
    need two independent directions. Both directions are unit vectors, as theirs are."""
    a, b = (torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in (a, b))
    u = b - a
    nu = float(u.norm())
    if nu == 0.0:
        raise OptvizError("the path did not move: no plane through it (try the random plane)")
    d1 = u / nu
    r = filter_normalized_direction(model, torch.Generator().manual_seed(int(seed))).to(torch.float64)
    r = r - (r @ d1) * d1
    nr = float(r.norm())
    if nr == 0.0:
        raise OptvizError("no direction beside the path to draw a plane with (try the random plane)")
    return Plane(kind, a.clone(), d1, r / nr, (1.0, 0.0) if kind == "pca" else None)


def three_point_plane(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> Plane:
    """The plane through a, b and c: origin a, d1 along b - a, d2 the part of c - a orthogonal to d1."""
    a, b, c = (torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in (a, b, c))
    u = b - a
    nu = float(u.norm())
    if nu == 0.0:
        raise OptvizError("the three points of a plane must differ (the first two are the same)")
    d1 = u / nu
    v = c - a
    v = v - (v @ d1) * d1
    nv = float(v.norm())
    if nv <= 1e-12 * max(nu, float((c - a).norm())):
        raise OptvizError("the three points of a plane lie on one line: no plane through them")
    return Plane("three-point", a.clone(), d1, v / nv)
