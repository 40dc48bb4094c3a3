"""Gradient pathologies of a surface race: one perturbation per scene, drawn once from the scene's seed.

Every racing optimizer sees the same draw (as it sees the same Gaussian noise), so a race compares how each
survives the same spike, the same NaN, the same stale gradients. The gradient an optimizer is given at step
t is: the surface's gradient + noise -> this perturbation -> its own clipping (`clip.py`) -> the optimizer.

Kinds (each with a `Schema`, so the app's form, scene files and `--perturb` share one validation):

- ``spike``: the gradient times `factor` at step `at` (and every `every` steps after it), and at each step
  with probability `p`;
- ``vanish``: the gradient times `factor` (tiny) from step `from` on, up to step `to` (0: to the end);
- ``sparse``: each coordinate zeroed with probability `p`;
- ``nan`` / ``inf``: the gradient replaced by NaN / +infinity at step `at`;
- ``heavy``: Student-t noise (`df` degrees of freedom) times `scale` added to the gradient, the heavy-tailed
  counterpart of the surface's Gaussian noise;
- ``stale``: the gradient the run saw `lag` steps ago, at its own earlier position (the current one before
  step `lag` + 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.core.errors import UnknownNameError, ValueOutOfRangeError, echo
from optviz.core.params import Param, Schema, Value

#: The largest step a perturbation may name (the scene's own step limit).
MAX_STEP = 100_000

SCHEMAS: dict[str, Schema] = {
    "spike": Schema(
        "spike",
        (
            Param("factor", 1e3, low=1e-12, high=1e12, scale="log", help="the gradient is multiplied by this"),
            Param("at", 100, kind="int", low=0, high=MAX_STEP, help="first spike at this step (0: none)"),
            Param("every", 0, kind="int", low=0, high=MAX_STEP, help="then again every this many steps (0: once)"),
            Param("p", 0.0, low=0.0, high=1.0, help="also spike each step with this probability"),
        ),
    ),
    "vanish": Schema(
        "vanish",
        (
            Param("factor", 1e-6, low=1e-12, high=1.0, scale="log", help="the gradient is multiplied by this"),
            Param("from", 100, kind="int", low=1, high=MAX_STEP, help="from this step on"),
            Param("to", 0, kind="int", low=0, high=MAX_STEP, help="up to this step (0: to the end)"),
        ),
    ),
    "sparse": Schema(
        "sparse",
        (Param("p", 0.5, low=0.0, high=1.0, help="probability that a coordinate of the gradient is zeroed"),),
    ),
    "nan": Schema(
        "nan", (Param("at", 100, kind="int", low=1, high=MAX_STEP, help="the gradient is NaN at this step"),)
    ),
    "inf": Schema(
        "inf", (Param("at", 100, kind="int", low=1, high=MAX_STEP, help="the gradient is +infinity at this step"),)
    ),
    "heavy": Schema(
        "heavy",
        (
            Param("df", 2.0, low=0.1, high=1000.0, scale="log", help="degrees of freedom of the Student-t noise"),
            Param("scale", 1.0, low=0.0, high=100.0, help="the noise is Student-t draws times this"),
        ),
    ),
    "stale": Schema(
        "stale", (Param("lag", 10, kind="int", low=1, high=1000, help="the gradient of this many steps ago"),)
    ),
}

#: The kinds, in the order the app lists them.
KINDS = tuple(SCHEMAS)

#: What each kind is called in the app and in divergence reasons.
TITLES = {
    "spike": "spikes",
    "vanish": "vanishing gradient",
    "sparse": "sparse gradient",
    "nan": "NaN injected",
    "inf": "infinity injected",
    "heavy": "heavy-tailed noise",
    "stale": "stale gradients",
}


@dataclass(frozen=True)
class Perturbation:
    """A validated perturbation: its kind and every parameter value (defaults included); hashable, so it can key
    the race session's cache."""

    kind: str
    values: tuple[tuple[str, Value], ...]

    @classmethod
    def make(cls, kind: str, values: Mapping[str, object] | None = None) -> Perturbation:
        """The perturbation of `kind` with `values` over its defaults; a one-line `OptvizError` names a bad kind,
        key or value (text values, from a command line, are parsed)."""
        if kind not in SCHEMAS:
            raise UnknownNameError(f"perturbation {echo(kind)} is not one of {', '.join(KINDS)}")
        resolved = SCHEMAS[kind].resolve(values or {})
        return cls(kind, tuple(resolved.items()))

    @property
    def params(self) -> dict[str, Value]:
        return dict(self.values)

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def overrides(self) -> dict[str, Value]:
        """The values that differ from the kind's defaults (what a scene file writes)."""
        defaults = SCHEMAS[self.kind].defaults()
        return {k: v for k, v in self.values if defaults[k] != v}

    def to_text(self) -> str:
        """The command-line form, `kind:key=value,...` (defaults left out)."""
        rest = ",".join(f"{k}={v!r}" for k, v in self.overrides().items())
        return f"{self.kind}:{rest}" if rest else self.kind

    def describe(self) -> str:
        """A short phrase for reasons and readouts, e.g. "stale gradients (10 steps old)"."""
        v = self.params
        if self.kind == "spike":
            return f"spikes (x{v['factor']:g})"
        if self.kind == "vanish":
            return f"vanishing gradient (x{v['factor']:g})"
        if self.kind == "sparse":
            return f"sparse gradient (p={v['p']:g})"
        if self.kind == "heavy":
            return f"heavy-tailed noise (Student-t, df={v['df']:g})"
        if self.kind == "stale":
            return f"stale gradients ({v['lag']} steps old)"
        return TITLES[self.kind]


def parse_perturbation(text: str) -> Perturbation | None:
    """`--perturb` text: `KIND[:key=value,...]` (`spike:factor=1e3,p=0.01`, `nan:at=50`) or `off` (None);
    one line naming what is wrong otherwise."""
    kind, _, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind in ("off", "none") and not rest.strip():
        return None
    values: dict[str, str] = {}
    for part in rest.split(",") if rest.strip() else ():
        key, eq, value = part.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ValueOutOfRangeError(f"perturbation {echo(text)}: {echo(part.strip())} is not key=value")
        if key.strip() in values:
            raise ValueOutOfRangeError(f"perturbation {echo(text)}: {echo(key.strip())} given twice")
        values[key.strip()] = value.strip()
    return Perturbation.make(kind, values)


@dataclass
class GradientPlan:
    """One race's draw of a perturbation for M starts and N steps, applied at step t (1-based) as:
    stale gradient (`lag`) -> times `mult[:, t-1]` -> replaced by `inject` at its step.

    `noise` is added to the surface's Gaussian noise (heavy-tailed kind); `events` (M, N) marks the steps of
    a discrete event (a spike, an injection) for the divergence reasons."""

    perturbation: Perturbation
    mult: np.ndarray | None = None  # (M, N, 2)
    inject: tuple[int, float] | None = None  # (step, value)
    lag: int = 0
    noise: np.ndarray | None = None  # (M, N, 2)
    events: np.ndarray | None = None  # (M, N) bool

    def rows(self, rows: Any) -> GradientPlan:
        """The plan of a subset of the starts (a per-run sweep's group)."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[rows]

        return GradientPlan(
            self.perturbation, pick(self.mult), self.inject, self.lag, pick(self.noise), pick(self.events)
        )

    def blame(self, m: int, step: int, what: str) -> str:
        """The divergence reason of start `m` that went bad at `step` ("NaN", "infinity" or "exploded"), naming
        the perturbation when it came at or before that step; "" when it did not."""
        kind, v = self.perturbation.kind, self.perturbation.params
        if kind in ("nan", "inf") and step >= v["at"]:
            injected = "NaN" if kind == "nan" else "infinite"
            link = "after" if what == "exploded" else "from"
            return f"{what} {link} the injected {injected} gradient at step {v['at']}"
        if self.events is not None:
            before = np.nonzero(self.events[m, :step])[0]
            if before.size:
                return f"{what} after the spike at step {int(before[-1]) + 1}"
            return ""
        onset = {"vanish": v.get("from", 1), "stale": v.get("lag", 0) + 1}.get(kind, 1)
        if kind != "spike" and step >= onset:
            return f"{what} under {self.perturbation.describe()}"
        return ""


def draw_plan(perturbation: Perturbation | None, m_count: int, steps: int, seed: int) -> GradientPlan | None:
    """The plan every optimizer of a race sees, drawn from `seed` on a stream of its own (the Gaussian noise
    of the same seed is unchanged by it); None without a perturbation."""
    if perturbation is None:
        return None
    kind, v = perturbation.kind, perturbation.params
    rng = np.random.default_rng([seed, 0x9E27])
    plan = GradientPlan(perturbation)
    t = np.arange(1, steps + 1)
    if kind == "spike":
        at, every = int(v["at"]), int(v["every"])
        chosen = np.zeros(steps, dtype=bool)
        if at:
            chosen |= (t == at) if every == 0 else ((t >= at) & ((t - at) % every == 0))
        events = np.broadcast_to(chosen, (m_count, steps)).copy()
        if v["p"] > 0:
            events |= rng.random((m_count, steps)) < v["p"]
        plan.events = events
        plan.mult = np.where(events, float(v["factor"]), 1.0)[..., None].repeat(2, -1)
    elif kind == "vanish":
        end = int(v["to"]) or steps
        window = (t >= v["from"]) & (t <= end)
        plan.mult = np.broadcast_to(np.where(window, float(v["factor"]), 1.0)[None, :, None], (m_count, steps, 2))
    elif kind == "sparse":
        plan.mult = np.where(rng.random((m_count, steps, 2)) < v["p"], 0.0, 1.0)
    elif kind in ("nan", "inf"):
        plan.inject = (int(v["at"]), float("nan") if kind == "nan" else float("inf"))
    elif kind == "heavy":
        plan.noise = rng.standard_t(float(v["df"]), (m_count, steps, 2)) * float(v["scale"])
    elif kind == "stale":
        plan.lag = int(v["lag"])
    return plan
