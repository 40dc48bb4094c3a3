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


def _scalar_full_like(like: float, value: float) -> float:
    return float(value)


def _np_full_like(like, value):
    return np.full(np.shape(like), value, dtype=np.float64)


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
    sign=np.sign,
    sigmoid=_np_sigmoid,
    maximum=np.maximum,
    minimum=np.minimum,
    where=np.where,
    full_like=_np_full_like,
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
        )
    return _TORCH
