"""The flat stand-in the view shows while a learned surface is being computed (no torch needed)."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

from optviz.core.surfaces.base import Surface


class PendingLearnedSurface(Surface):
    """f = 0 over [-1, 1]^2: a floor for the view until the first grid lands."""

    name = "learned"
    title = "learned surface (computing…)"
    domain = ((-1.0, 1.0), (-1.0, 1.0))
    log_scale = True  # as the learned surface will be, so the log-scale box does not flip when it lands
    pending = True  # views draw nothing for it (and say what is being computed)

    def value(self, x: Any, y: Any, xp: SimpleNamespace) -> Any:
        return x * 0.0 + y * 0.0

    def grad(self, x: Any, y: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
        return x * 0.0, y * 0.0


@cache
def pending_surface() -> PendingLearnedSurface:
    """One shared instance, so the view sees the same surface until the real one arrives."""
    surface = PendingLearnedSurface()
    surface.params = {}
    return surface
