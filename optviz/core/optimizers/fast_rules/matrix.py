"""Pair rules for optimizers that precondition or orthogonalise with small matrices: a surface point is one
2-vector (Shampoo, SOAP: 2 x 2 preconditioners) or a 1 x 2 matrix (Muon: Newton-Schulz), so every matrix
function is written out on its few entries, each an expression in floats or (M,) columns (see `PairRule`).

Some of these libraries compute in lower precision than the float64 parameters (Muon's Newton-Schulz runs in
bfloat16); the rules round where the library rounds (`_f32`, `_bf16`), so they match it to float64 round-off.
"""

from __future__ import annotations

import functools
import math
import struct
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.mathlib import SCALAR
from optviz.core.optimizers.fast_rules.ops import Hp, State, f32, lerp
from optviz.core.optimizers.spec import PairRule, SurfaceProbe

# --- Rounding to float32 and bfloat16, on floats and numpy arrays alike -------------------------------------

_F32_BITS = struct.Struct("<f")
_U32_BITS = struct.Struct("<I")
#: Veltkamp's splitters: c = S·v; c - (c - v) is v rounded to nearest (ties to even) on 24 or 8 bits.
_SPLIT_F32 = 2.0**29 + 1.0
_SPLIT_BF16 = 2.0**45 + 1.0
#: Where the splitters round as float32 does: float32's normal range, below where it rounds up to inf.
_NORMAL_LOW, _NORMAL_HIGH = 2.0**-126, 2.0**127


def _f32_scalar(v: float) -> float:
    """A float rounded to float32 (round to nearest even), kept as a float."""
    if _NORMAL_LOW <= abs(v) < _NORMAL_HIGH:
        c = v * _SPLIT_F32
        return c - (c - v)
    return f32(v)  # zero, subnormal, overflow, NaN: the exact conversion


def _bf16_bits(v: float) -> float:
    (u,) = _U32_BITS.unpack(_F32_BITS.pack(f32(v)))
    if (u & 0x7F800000) != 0x7F800000:  # NaN and inf are left alone
        u = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000) & 0xFFFFFFFF
    return _F32_BITS.unpack(_U32_BITS.pack(u))[0]


def _bf16_scalar(v: float) -> float:
    """A float rounded to float32, then to bfloat16 (both round to nearest even), as torch's `.bfloat16()` and
    its bfloat16 kernels (which compute in float32 and round the result) round."""
    if _NORMAL_LOW <= abs(v) < _NORMAL_HIGH:
        c = v * _SPLIT_F32
        v = c - (c - v)
        c = v * _SPLIT_BF16
        return c - (c - v)
    return _bf16_bits(v)


def _f32(v: Any, xp: SimpleNamespace) -> Any:
    """v rounded to float32 (round to nearest even), kept as float64."""
    if xp.name == "numpy":
        with np.errstate(over="ignore"):
            return np.asarray(v, dtype=np.float64).astype(np.float32).astype(np.float64)
    return _f32_scalar(v)


def _bf16(v: Any, xp: SimpleNamespace) -> Any:
    """v rounded to float32, then to bfloat16 (see `_bf16_scalar`), kept as float64."""
    if xp.name != "numpy":
        return _bf16_scalar(v)
    v = np.asarray(v, dtype=np.float64)
    magnitude = np.abs(v)
    if ((magnitude >= _NORMAL_LOW) & (magnitude < _NORMAL_HIGH)).all():
        c = v * _SPLIT_F32
        v = c - (c - v)
        c = v * _SPLIT_BF16
        return c - (c - v)
    with np.errstate(over="ignore"):
        u = v.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return np.where((u & 0x7F800000) != 0x7F800000, rounded, u).astype(np.uint32).view(np.float32).astype(np.float64)


# --- Muon -----------------------------------------------------------------------------------------------------

#: torch.optim.Muon's defaults that the registry does not expose.
_MUON_NS = (3.4445, -4.7750, 2.0315)
_MUON_EPS = 1e-7


def _muon_normalize(x0: Any, x1: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
    """The start of `torch.optim._muon._zeropower_via_newtonschulz` on a 1 x 2 matrix [x0, x1]: to bfloat16, then
    divided by its norm clamped at eps. The library works in bfloat16: each op computes in float32 and rounds
    its result to bfloat16."""
    x0, x1 = _bf16(x0, xp), _bf16(x1, xp)
    norm = _bf16(xp.sqrt(_f32(x0 * x0 + x1 * x1, xp)), xp)  # .norm(): float32 sum of exact squares, sqrt
    norm = xp.maximum(norm, _bf16(_MUON_EPS, xp))  # .clamp(min=eps): eps as a bfloat16
    return _bf16(x0 / norm, xp), _bf16(x1 / norm, xp)


def _muon_iterate(x0: Any, x1: Any, steps: int, xp: SimpleNamespace) -> tuple[Any, Any]:
    """The Newton-Schulz iterations of `_zeropower_via_newtonschulz` on a normalised 1 x 2 bfloat16 matrix.

    With one row, X Xᵀ is the 1 x 1 matrix s = x0² + x1², so each iteration is X ← a·X + (b·s + c·s²)·X.
    """
    a, b, c = (f32(v) for v in _MUON_NS)  # addmm's alpha and beta, as float32 (the kernels' compute type)
    for _ in range(steps):
        s = _bf16(x0 * x0 + x1 * x1, xp)  # X @ X.T: float32 sum of exact products
        # addmm(s, s, s, beta=b, alpha=c) = b·s + c·(s·s); s·s and gu·x are exact in float32
        gu = _bf16(_f32(b * s, xp) + _f32(c * (s * s), xp), xp)
        # addmm(X, gu, X, beta=a) = a·X + gu·X
        x0 = _bf16(_f32(a * x0, xp) + gu * x0, xp)
        x1 = _bf16(_f32(a * x1, xp) + gu * x1, xp)
    return x0, x1


def _muon_iterate_scalar(x0: float, x1: float, steps: int) -> tuple[float, float]:
    """`_muon_iterate` on floats with the roundings written out (each a Veltkamp split: `_SPLIT_F32` rounds to
    float32, `_SPLIT_BF16` a float32 on to bfloat16), where every value stays in float32's normal range: zero or
    at least 2⁻⁴⁰ in, so squares and products stay far above 2⁻¹²⁶; s stays near 1."""
    if not all(v == 0.0 or 2.0**-40 <= abs(v) <= 2.0 for v in (x0, x1)):
        return _muon_iterate(x0, x1, steps, SCALAR)
    a, b, c = (f32(v) for v in _MUON_NS)
    sf, sb = _SPLIT_F32, _SPLIT_BF16
    for _ in range(steps):
        v = x0 * x0 + x1 * x1
        h = v * sf
        v = h - (h - v)
        h = v * sb
        s = h - (h - v)
        u = b * s
        h = u * sf
        u = h - (h - u)
        w = c * (s * s)
        h = w * sf
        w = h - (h - w)
        v = u + w
        h = v * sf
        v = h - (h - v)
        h = v * sb
        gu = h - (h - v)
        u = a * x0
        h = u * sf
        u = h - (h - u)
        v = u + gu * x0
        h = v * sf
        v = h - (h - v)
        h = v * sb
        n0 = h - (h - v)
        u = a * x1
        h = u * sf
        u = h - (h - u)
        v = u + gu * x1
        h = v * sf
        v = h - (h - v)
        h = v * sb
        x0, x1 = n0, h - (h - v)
    return x0, x1


def muon(hp: Hp) -> PairRule:
    """torch.optim's `Muon` on a 1 x 2 parameter (default ns_coefficients, eps and adjust_lr_fn).

    The update B̃ goes through Newton-Schulz in bfloat16 (`_muon_normalize`, `_muon_iterate`); the learning rate's shape
    adjustment sqrt(max(1, rows/cols)) is 1 for one row.
    """
    lr = float(hp["lr"])
    weight_decay = float(hp["weight_decay"])
    momentum = float(hp["momentum"])
    nesterov = bool(hp["nesterov"])
    ns_steps = int(hp["ns_steps"])
    adjusted_lr = lr * math.sqrt(max(1, 1 / 2))
    decay = 1 - lr * weight_decay

    @functools.lru_cache(maxsize=1 << 16)
    def iterate(x0: float, x1: float) -> tuple[float, float]:
        # On floats the iterations are a pure function of two bfloat16 numbers near the unit circle: remember it.
        return _muon_iterate_scalar(x0, x1, ns_steps)

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        return {"momentum_buffer": (zero, zero)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        bx, by = s["momentum_buffer"]
        bx, by = lerp(bx, gx, 1 - momentum, xp), lerp(by, gy, 1 - momentum, xp)
        s["momentum_buffer"] = (bx, by)
        ux, uy = (lerp(gx, bx, momentum, xp), lerp(gy, by, momentum, xp)) if nesterov else (bx, by)
        nx, ny = _muon_normalize(ux, uy, xp)
        ox, oy = _muon_iterate(nx, ny, ns_steps, xp) if xp.name == "numpy" else iterate(nx, ny)
        return xp.fma(-adjusted_lr, ox, x * decay), xp.fma(-adjusted_lr, oy, y * decay)

    return PairRule(init=init, step=step)
