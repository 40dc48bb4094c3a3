"""Math namespaces so one formula serves Python floats, numpy arrays and torch tensors.

Surfaces and fast optimizer rules are written once against `xp` (e.g. `xp.sin(x)`); the race engine picks
`SCALAR` for a single start (plain floats are ~15x faster than numpy on 2-element arrays), `NUMPY` for
batches of starts and grids, and `torch_math()` where autograd is needed (library optimizers, Hessians).
Only functions that behave identically on all three are listed here.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np


def _scalar_sign(v: float) -> float:
    return float((v > 0) - (v < 0))


def _scalar_where(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _scalar_sigmoid(v: float) -> float:
    # Split by sign so math.exp never overflows for large |v|.
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves


def _fma_scalar(a, b, c):
    """a*b + c rounded once, as a fused multiply-add does, on floats (and compiled by numba for L-BFGS's kernels:
    plain arithmetic only).

    Dekker's exact product p + e = a*b and Knuth's exact sum s + r = p + c, then s + (r + e): correctly rounded
    but for rare cases where the inexact r + e lands next to a rounding midpoint of s. Where a*b + c is not
    finite, the plain a*b + c is returned (a real FMA gives inf there too, but for an exact a*b beyond the
    largest double cancelled by c, which a race never meets): the error terms would make NaN of an infinity
    (an injected infinite gradient through a lerp).
    """
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    z = s - p
    r = (p - (s - z)) + (c - z)
    fused = s + (r + e)
    return fused if s - s == 0 else s


def _fma_emulated(a, b, c):
    """`_fma_scalar` on floats or numpy arrays (numpy has no FMA). The array branch repeats its arithmetic
    because numba compiles `_fma_scalar` for L-BFGS and can call no plain Python helper from it, and importing
    numba here to register one would put its 0.3 s on every start."""
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray) and not isinstance(c, np.ndarray):
        return _fma_scalar(a, b, c)
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    z = s - p
    r = (p - (s - z)) + (c - z)
    fused = s + (r + e)
    if np.isfinite(s).all():
        return fused
    return np.where(np.isfinite(s), fused, s)


_scalar_fma = getattr(math, "fma", _fma_emulated)  # Python 3.13+ has a native one


def _scalar_full_like(like: float, value: float) -> float:
    return float(value)


def _np_full_like(like, value):
    return np.full(np.shape(like), value, dtype=np.float64)


def _np_sign(v):
    # torch.sign(NaN) is 0 (so is our scalar sign); numpy's is NaN. A NaN gradient reaches Lion's sign.
    return np.where(np.isnan(v), 0.0, np.sign(v))


def _np_sigmoid(v):
    with np.errstate(over="ignore"):
        return np.where(v >= 0, 1.0 / (1.0 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) / (1.0 + np.exp(-np.abs(v))))


SCALAR = SimpleNamespace(
    name="scalar",
    pi=math.pi,
    e=math.e,
    sin=math.sin,
    cos=math.cos,
    tan=math.tan,
    exp=math.exp,
    log=math.log,
    sqrt=math.sqrt,
    tanh=math.tanh,
    abs=abs,
    sign=_scalar_sign,
    sigmoid=_scalar_sigmoid,
    maximum=max,
    minimum=min,
    where=_scalar_where,
    full_like=_scalar_full_like,
    fma=_scalar_fma,
)

NUMPY = SimpleNamespace(
    name="numpy",
    pi=math.pi,
    e=math.e,
    sin=np.sin,
    cos=np.cos,
    tan=np.tan,
    exp=np.exp,
    log=np.log,
    sqrt=np.sqrt,
    tanh=np.tanh,
    abs=np.abs,
    sign=_np_sign,
    sigmoid=_np_sigmoid,
    maximum=np.maximum,
    minimum=np.minimum,
    where=np.where,
    full_like=_np_full_like,
    fma=_fma_emulated,
)

_TORCH = None


def torch_math() -> SimpleNamespace:
    """The torch namespace, built on first use so importing the core does not import torch."""
    global _TORCH
    if _TORCH is None:
        import torch

        _TORCH = SimpleNamespace(
            name="torch",
            pi=math.pi,
            e=math.e,
            sin=torch.sin,
            cos=torch.cos,
            tan=torch.tan,
            exp=torch.exp,
            log=torch.log,
            sqrt=torch.sqrt,
            tanh=torch.tanh,
            abs=torch.abs,
            sign=torch.sign,
            sigmoid=torch.sigmoid,
            maximum=torch.maximum,
            minimum=torch.minimum,
            where=torch.where,
            full_like=torch.full_like,
            fma=lambda a, b, c: torch.addcmul(torch.as_tensor(c), torch.as_tensor(a), torch.as_tensor(b)),
        )
    return _TORCH
