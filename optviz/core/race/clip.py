"""Gradient clipping of one racing optimizer, as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` do it.

Each start of a race is its own model with one 2-element parameter, so clipping by norm scales each start's
gradient by min(1, max_norm / (‖g‖ + 1e-6)) (torch's formula, NaN and infinity included: an infinite norm
gives a coefficient of 0 and a NaN gradient, as torch does with `error_if_nonfinite=False`); clipping by value
clamps each coordinate to [-threshold, threshold] (NaN stays NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from optviz.core.errors import ValueOutOfRangeError, echo

#: How a gradient can be clipped.
CLIP_KINDS = ("norm", "value")
#: The threshold's range (a slider's ends; log scale).
THRESHOLD_RANGE = (1e-6, 1e6)
#: What torch adds to the norm before dividing (`clip_grad_norm_`).
_NORM_EPS = 1e-6


@dataclass(frozen=True)
class Clip:
    kind: str  # "norm" or "value"
    threshold: float

    def __post_init__(self) -> None:
        if self.kind not in CLIP_KINDS:
            raise ValueOutOfRangeError(f"clip {echo(self.kind)} is not one of {', '.join(CLIP_KINDS)}")
        lo, hi = THRESHOLD_RANGE
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not (lo <= t <= hi):  # also false for NaN
            shown = f"{t:g}" if isinstance(t, (int, float)) and not isinstance(t, bool) else echo(t)
            raise ValueOutOfRangeError(f"clip {self.kind}={shown} is out of range ({lo:g} to {hi:g})")
        object.__setattr__(self, "threshold", float(t))

    def to_text(self) -> str:
        return f"{self.kind}={self.threshold:g}"

    def describe(self) -> str:
        return f"clipped by {self.kind} at {self.threshold:g}"


def parse_clip(text: str) -> Clip | None:
    """`norm=1.0`, `value=0.5` or `off` (None); a one-line `ValueOutOfRangeError` otherwise."""
    raw = text.strip().lower()
    if raw in ("off", "none"):
        return None
    kind, eq, value = raw.partition("=")
    if not eq or kind.strip() not in CLIP_KINDS:
        raise ValueOutOfRangeError(f"clip {echo(text)} must be norm=X, value=X or off")
    try:
        number = float(value)
    except ValueError:
        raise ValueOutOfRangeError(f"clip {echo(text)}: {echo(value.strip())} is not a number") from None
    return Clip(kind.strip(), number)


def clip_pair(clip: Clip, gx: Any, gy: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
    """Clip the gradient (gx, gy) of each start (floats, or (M,) columns) as torch would."""
    c = clip.threshold
    if clip.kind == "value":
        # maximum then minimum, the first argument the gradient: NaN stays NaN on floats as on numpy.
        return xp.minimum(xp.maximum(gx, -c), c), xp.minimum(xp.maximum(gy, -c), c)
    # torch's vector_norm of two values, bit for bit: sqrt(fma(y, y, x * x)). Where the squares overflow or
    # a value is NaN, the plain sum is torch's answer too (our emulated FMA would give NaN for infinity).
    plain = gx * gx + gy * gy
    norm = xp.sqrt(xp.where(plain - plain == 0, xp.fma(gy, gy, gx * gx), plain))
    coef = xp.minimum(c / (norm + _NORM_EPS), 1.0)
    return gx * coef, gy * coef


def clip_rows_torch(clip: Clip, grads: Any) -> Any:
    """The same on torch: `grads` (M, 2), one start per row, each clipped as its own parameter would be by
    `clip_grad_norm_` / `clip_grad_value_` (a new tensor; the rows' norms are torch's `vector_norm`)."""
    import torch

    c = clip.threshold
    if clip.kind == "value":
        return torch.clamp(grads, -c, c)
    norms = torch.linalg.vector_norm(grads, dim=-1, keepdim=True)
    return grads * torch.clamp(c / (norms + _NORM_EPS), max=1.0)
