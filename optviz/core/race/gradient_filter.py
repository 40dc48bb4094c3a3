"""What the fast path does to a gradient between the surface and the optimizer: the race's perturbation plan,
then the optimizer's clipping, step by step; on floats (one start) or (M,) columns (many).

The library path does the same in torch inside its closure (`library_path.py`); both follow one rule for
the stale ring: it records the first gradient evaluated in each step (at the run's current point, before any
line search moves), and every evaluation within step t gets step t's perturbation.
"""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.race.clip import Clip, clip_pair
from optviz.core.race.perturb import GradientPlan


class GradientFilter:
    """Applies `plan` (for the starts it was drawn for) and `clip` to each gradient of a run. Call `begin(t)` at
    the start of step t, then the filter on every gradient evaluated in that step."""

    def __init__(self, plan: GradientPlan | None, clip: Clip | None, xp: SimpleNamespace) -> None:
        self.clip = clip
        self.xp = xp
        self.scalar = xp.name == "scalar"
        self.mult = None if plan is None or plan.mult is None else plan.mult
        if self.mult is not None and self.scalar:
            self.mult = self.mult[0].tolist()  # plain floats: the scalar path never touches numpy per step
        self.inject = None if plan is None else plan.inject
        self.lag = 0 if plan is None else plan.lag
        self.ring: deque = deque(maxlen=self.lag + 1)
        self.t = 0
        self._first = False

    def begin(self, t: int) -> None:
        self.t = t
        self._first = True

    def __call__(self, gx: Any, gy: Any) -> tuple[Any, Any]:
        t = self.t
        if self.lag:
            if self._first:
                self.ring.append((gx, gy) if self.scalar else (np.array(gx), np.array(gy)))
                self._first = False
            if t > self.lag:
                gx, gy = self.ring[0]  # the gradient of step t - lag
        if self.mult is not None:
            if self.scalar:
                mx, my = self.mult[t - 1]
            else:
                mx, my = self.mult[:, t - 1, 0], self.mult[:, t - 1, 1]
            gx, gy = gx * mx, gy * my
        if self.inject is not None and t == self.inject[0]:
            gx, gy = self.xp.full_like(gx, self.inject[1]), self.xp.full_like(gy, self.inject[1])
        if self.clip is not None:
            gx, gy = clip_pair(self.clip, gx, gy, self.xp)
        return gx, gy


def make_filter(plan: GradientPlan | None, clip: Clip | None, xp: SimpleNamespace) -> GradientFilter | None:
    """A filter, or None when there is nothing to do (the loops then run exactly as without this feature)."""
    if plan is None and clip is None:
        return None
    return GradientFilter(plan, clip, xp)
