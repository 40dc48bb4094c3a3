"""State glyphs: what one step of an optimizer is made of, as shapes at its head (the View's "State glyphs").

From the record of the step taken from the head (`inspect.StepRecord`, the library's own state after it):
- the descent direction −g (the gradient the optimizer was given, noise included);
- the update the step applied (after − before);
- the first moment / momentum buffer, negated (the push it adds), where the library keeps one;
- the per-coordinate scaling, as a linear map A whose image of the unit disc (or square) is drawn: the step the
  optimizer takes per unit of (averaged) gradient in each direction. Adam-like rows: lr / denominator on each
  axis (an axis-aligned ellipse); Shampoo: lr × its inverse preconditioner; SOAP: lr / denominator in its
  eigenbasis Q (both rotated ellipses); Lion and signSGD: the sign step's box, lr on each axis.

Scales: vectors of one kind are drawn at one scale for every optimizer (`kind_scales`), so lengths compare
across optimizers; the key says what the longest one stands for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.core.optimizers import OptimizerSpec
from optviz.core.optimizers.fast_rules.ops import bias_correction
from optviz.core.race.inspect import StepRecord
from optviz.core.scene import GLYPH_KINDS as KINDS

KIND_TITLES = {
    "gradient": "−gradient",
    "update": "update",
    "momentum": "−momentum",
    "scaling": "step per unit gradient",
}
#: torch's names for the first moment or momentum buffer, in the order they are looked for.
FIRST_MOMENT = ("exp_avg", "momentum_buffer")
#: Optimizers whose step is lr × a sign per coordinate: their scaling is a box.
SIGN_STEP = ("lion", "signsgd")
#: The longest glyph of a kind, as a share of the domain's width.
TARGET_SHARE = 0.16


@dataclass(frozen=True)
class StepGlyphs:
    """One optimizer's glyphs for one step, in domain coordinates (vectors start at `origin`)."""

    origin: np.ndarray  # (2,) the head: where the step starts
    gradient: np.ndarray  # (2,) −g
    update: np.ndarray  # (2,)
    momentum: np.ndarray | None  # (2,) −m, or None
    scaling: np.ndarray | None  # (2, 2) A, or None
    scaling_shape: str  # "ellipse", "box" or "" (none)

    def size(self, kind: str) -> float:
        """The glyph's extent in domain units before scaling: a vector's length, a shape's largest half-axis."""
        if kind == "scaling":
            return 0.0 if self.scaling is None else float(np.linalg.norm(self.scaling, 2))
        vector = getattr(self, kind)
        return 0.0 if vector is None else float(np.hypot(*vector))


def step_for_cursor(cursor: float, steps: int) -> int:
    """The step shown at this time cursor: the one taken from the head (the last step at the race's end)."""
    return max(1, min(math.floor(cursor) + 1, steps))


def step_glyphs(spec: OptimizerSpec, hp: Mapping[str, Any], record: StepRecord) -> StepGlyphs:
    """The glyphs of `record`'s step (see the module doc)."""
    state = record.state
    momentum = next((state[name] for name in FIRST_MOMENT if _pair(state.get(name))), None)
    scaling, shape = scaling_map(spec, hp, record)
    return StepGlyphs(
        origin=np.asarray(record.before, dtype=np.float64),
        gradient=-np.asarray(record.gradient, dtype=np.float64),
        update=np.asarray(record.update, dtype=np.float64),
        momentum=None if momentum is None else -np.asarray(momentum, dtype=np.float64),
        scaling=scaling,
        scaling_shape=shape,
    )


def scaling_map(spec: OptimizerSpec, hp: Mapping[str, Any], record: StepRecord) -> tuple[np.ndarray | None, str]:
    """(A, shape): the step per unit gradient as a linear map (see the module doc), or (None, "")."""
    state, name = record.state, spec.name
    hp = record.step_hp(hp)  # a scheduled step scales by its own learning rate
    lr = float(hp["lr"]) if "lr" in hp else None
    if lr is None:
        return None, ""
    if name in SIGN_STEP:
        return np.diag([lr, lr]), "box"
    derived = record.derived(spec, hp)
    if _pair(derived.get("denominator")):
        rate = float(derived.get("lr_t", lr))  # Adagrad's decayed lr
        return np.diag(rate / np.asarray(derived["denominator"], dtype=np.float64)), "ellipse"
    inverse = state.get("inv_pre_cond_0")
    if inverse is not None and np.shape(inverse) == (2, 2):  # Shampoo on the (2,) parameter
        return lr * np.asarray(inverse, dtype=np.float64), "ellipse"
    q = state.get("Q")
    if q is not None and _pair(state.get("exp_avg_sq")):  # SOAP: Adam's denominator in the eigenbasis Q
        basis = np.asarray(q, dtype=np.float64).reshape(-1, 2, 2)[0]
        return basis @ np.diag(lr / _adam_denominator(hp, state, record.step)) @ basis.T, "ellipse"
    if _pair(state.get("exp_avg_sq")) and "beta2" in hp:  # the other Adam-like rows: lr / (√v̂ + ε)
        return np.diag(lr / _adam_denominator(hp, state, record.step)), "ellipse"
    return None, ""


def _adam_denominator(hp: Mapping[str, Any], state: Mapping[str, Any], t: int) -> np.ndarray:
    v = np.asarray(state["exp_avg_sq"], dtype=np.float64)
    eps = float(hp.get("eps", 1e-8))
    return np.sqrt(v / bias_correction(float(hp["beta2"]), t)) + eps


def _pair(value: Any) -> bool:
    return value is not None and np.shape(value) == (2,)


def kind_scales(glyphs: Iterable[StepGlyphs], width: float, kinds: Iterable[str] = KINDS) -> dict[str, float]:
    """One factor per kind: the longest glyph of that kind among `glyphs` is drawn `TARGET_SHARE` of `width`
    long (the gradient and the momentum share one scale: both are in gradient units). 0 where none is finite."""
    glyphs = list(glyphs)
    groups = {"gradient": ("gradient", "momentum"), "momentum": ("gradient", "momentum")}
    scales = {}
    for kind in kinds:
        sizes = [g.size(k) for g in glyphs for k in groups.get(kind, (kind,))]
        finite = [s for s in sizes if np.isfinite(s) and s > 0]
        scales[kind] = TARGET_SHARE * width / max(finite) if finite else 0.0
    return scales


def arrow_polyline(origin: np.ndarray, vector: np.ndarray, samples: int = 12) -> list[np.ndarray]:
    """An arrow as domain-coordinate polylines: the shaft (sampled, so it can drape over a surface) and its head."""
    origin, vector = np.asarray(origin, dtype=np.float64), np.asarray(vector, dtype=np.float64)
    tip = origin + vector
    shaft = origin + np.linspace(0.0, 1.0, samples)[:, None] * vector
    length = float(np.hypot(*vector))
    if length == 0.0 or not np.isfinite(length):
        return [shaft]
    back = -vector / length * min(0.28 * length, length)
    heads = []
    for angle in (0.45, -0.45):
        c, s = np.cos(angle), np.sin(angle)
        heads.append(tip + np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]]))
    return [shaft, np.array([heads[0], tip, heads[1]])]


def shape_polyline(origin: np.ndarray, matrix: np.ndarray, shape: str, samples: int = 48) -> np.ndarray:
    """The image of the unit circle ("ellipse") or unit square ("box") under `matrix`, around `origin`."""
    if shape == "box":
        unit = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1], [1, 1]], dtype=np.float64)
    else:
        theta = np.linspace(0.0, 2.0 * np.pi, samples + 1)
        unit = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return np.asarray(origin, dtype=np.float64) + unit @ np.asarray(matrix, dtype=np.float64).T
