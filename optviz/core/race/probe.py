"""The surface as a `PairRule` sees it (`SurfaceProbe`): the gradient, loss and Hessian-vector products that
the library optimizer gets from its closure and from autograd, on floats (one start) or (M,) arrays."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from optviz.core.race.gradient_filter import GradientFilter
from optviz.core.surfaces.base import Surface


class RaceProbe:
    """One run's view of the surface; the engine sets `noise` to the current step's gradient noise.

    The noise mirrors the library path's closure: added to every gradient it sets, and its linear term
    ⟨noise, θ⟩ added to the loss it returns, so a line search sees a loss consistent with its gradients.
    A perturbation and clipping (`filt`) then act on every gradient it gives, as they act on every gradient
    the library's closure sets; they change the gradient the optimizer is told, not the loss or the curvature.
    """

    def __init__(self, surface: Surface, xp: SimpleNamespace, seed: int, filt: GradientFilter | None = None) -> None:
        self.surface = surface
        self.xp = xp
        self.seed = seed
        self.noise: tuple[Any, Any] | None = None
        self.filter = filt

    def begin(self, t: int) -> None:
        """Step t starts: its perturbation applies to every gradient until the next call."""
        if self.filter is not None:
            self.filter.begin(t)

    def grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        gx, gy = self.surface.grad(x, y, self.xp)
        if self.noise is not None:
            gx, gy = gx + self.noise[0], gy + self.noise[1]
        if self.filter is not None:
            return self.filter(gx, gy)
        return gx, gy

    def loss(self, x: Any, y: Any) -> Any:
        value = self.surface.value(x, y, self.xp)
        if self.noise is not None:
            return value + (self.noise[0] * x + self.noise[1] * y)
        return value

    def hvp(self, x: Any, y: Any, vx: Any, vy: Any) -> tuple[Any, Any]:
        # Noise is constant in θ, so it adds nothing to the Hessian.
        return self.surface.hvp(x, y, vx, vy, self.xp)
