"""The pieces fast rules share, each evaluated in the order torch's CPU kernels evaluate it.

How torch's CPU kernels evaluate, mirrored here (t1, t2 tensors, v a Python number; fma(a, b, c) = a*b + c
rounded once, `xp.fma`). Probed on torch 2.13 (AVX2 and scalar paths alike):

- `a.add_(b, alpha=v)` is fma(v, b, a); `a.sub_(b, alpha=v)` is fma(-v, b, a); without alpha, a + b.
- `a.addcmul_(t1, t2, value=v)` is fma(v*t1, t2, a); `a.addcdiv_(t1, t2, value=v)` is a + (v*t1)/t2 (no fusing).
- `a.lerp_(b, w)` is fma(w, b - a, a) when |w| < 0.5, else fma(a - b, 1 - w, b) (see `lerp`).
- `v / tensor` is `tensor.reciprocal() * v` (RAdam's adaptive learning rate).
- Scalar state that torch keeps in 0-dim tensors of the default dtype (float32 unless changed) is rounded to
  float32 as torch rounds it: NAdam's `mu_product`, ASGD's `eta` (see `f32`).

Python-number maths (bias corrections) is the libraries' own: `beta**t` and `math.pow(beta, t)` are the same C
`pow` call, so one helper serves both spellings.

Per-run hyperparameters: a hyperparameter may be an array with one value per run of the batch (a sweep of 4,096
(lr, beta) pairs is one batched run), shaped by the engine to broadcast against the points ((M, 1) for
elementwise rules, (M,) for pair rules). Rules read them with `num`, so the same arithmetic serves a number and
an array; where a rule branches on a value (weight decay on or off, momentum on or off) it asks `on`, and the
engine groups runs so that every run of a batch agrees on such branches (see `race/per_run.py`).
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.params import Value

#: A rule's state: library state names -> arrays shaped like the parameter, or plain Python numbers.
State = dict[str, Any]
#: Resolved hyperparameters, by the registry's flat names.
Hp = Mapping[str, Value]

_F32 = struct.Struct("f")


def num(value: Any) -> Any:
    """A hyperparameter as rules compute with it: a float, or a float64 array of per-run values."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return float(value)


def on(value: Any) -> bool:
    """Whether a hyperparameter that switches a branch is set (non-zero) for this batch: per-run values are
    grouped by it, so every run of the batch agrees."""
    return bool(np.all(np.asarray(value) != 0))


def f32(x: Any) -> Any:
    """`x` rounded to float32, as storing it in a float32 0-dim tensor does (torch's default scalar dtype)."""
    if isinstance(x, np.ndarray):
        with np.errstate(over="ignore"):
            return x.astype(np.float32).astype(np.float64)
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def lerp(a: Any, b: Any, w: float, xp: SimpleNamespace) -> Any:
    """`torch.lerp(a, b, w)` for a Python-number weight: the formula torch's kernel picks for that weight.

    A first moment `exp_avg.lerp_(grad, 1 - beta1)` is `lerp(m, g, 1 - beta1, xp)`.
    """
    if isinstance(w, np.ndarray):  # per-run weights: each run's own formula (one, where all runs agree)
        small = np.abs(w) < 0.5
        if small.all():
            return xp.fma(w, b - a, a)
        if not small.any():
            return xp.fma(a - b, 1.0 - w, b)
        return np.where(small, xp.fma(w, b - a, a), xp.fma(a - b, 1.0 - w, b))
    if -0.5 < w < 0.5:
        return xp.fma(w, b - a, a)
    return xp.fma(a - b, 1.0 - w, b)


def second_moment(v: Any, g: Any, beta: float, one_minus_beta: float, xp: SimpleNamespace) -> Any:
    """`v.mul_(beta).addcmul_(g, g, value=1 - beta)`: the running average of g² every Adam-like rule keeps."""
    return xp.fma(one_minus_beta * g, g, v * beta)


def bias_correction(beta: Any, t: int) -> Any:
    """1 - betaᵗ, the factor a moment average started at zero is divided by at step t (per-run betas: each
    power by C `pow`, as the library's Python `beta**t` computes it; see `c_pow`)."""
    if isinstance(beta, np.ndarray):
        return 1.0 - c_pow(beta, float(t))
    return 1.0 - beta**t


def power_of(exponent: Any) -> Callable[[float], Any]:
    """`base ** exponent` as a function of a Python-number base (a step count), for an exponent that is a number
    or per-run values (`c_pow` over the distinct exponents, found once, here)."""
    if not isinstance(exponent, np.ndarray):
        return lambda base: base**exponent
    values, index = np.unique(exponent, return_inverse=True)
    return lambda base: c_pow(float(base), values)[index]


def c_pow(base: Any, exponent: Any) -> np.ndarray:
    """C `pow(base, exponent)` elementwise (numbers or arrays, broadcast), what Python's `**` and `math.pow` give
    on floats. numpy's own power differs from it in the last place on ~5% of values (its SIMD builds), so a
    per-run `beta**t` is not left to numpy. Compiled with numba: 4,096 powers in ~0.07 ms (~0.3 ms in a Python
    loop, which is the fallback where numba would vectorize `pow` through Intel's SVML, another library)."""
    bases, exponents = np.broadcast_arrays(np.asarray(base, dtype=np.float64), np.asarray(exponent, dtype=np.float64))
    shape = bases.shape
    bases, exponents = np.ascontiguousarray(bases).reshape(-1), np.ascontiguousarray(exponents).reshape(-1)
    powers = _compiled_powers()
    if powers is None:
        return np.array([math.pow(b, e) for b, e in zip(bases.tolist(), exponents.tolist(), strict=True)]).reshape(
            shape
        )
    return powers(bases, exponents).reshape(shape)


def _powers_kernel(bases: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """C `pow(b, e)` for each pair, to be compiled (numba calls the C library's `pow`, as Python does)."""
    out = np.empty_like(bases)
    for i in range(bases.size):
        out[i] = math.pow(bases[i], exponents[i])
    return out


@functools.cache
def _compiled_powers() -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """`_powers_kernel` compiled by numba, on first use (cached on disk: ~1 s once, then a load); None where
    numba maps `pow` to SVML's vector functions (accurate to 1 ulp, not C's `pow`)."""
    import numba  # here: only per-run values need it, and its import costs ~0.3 s
    from numba.core import config

    if config.USING_SVML:
        return None
    return numba.njit(cache=True)(_powers_kernel)


def sqrt_num(x: Any) -> Any:
    """`math.sqrt` of a Python-number expression, or of per-run values."""
    return np.sqrt(x) if isinstance(x, np.ndarray) else math.sqrt(x)


def adam_denominator(v: Any, bias_correction2_sqrt: float, eps: float, xp: SimpleNamespace) -> Any:
    """`(v.sqrt() / sqrt(1 - beta2ᵗ)).add_(eps)`: the bias-corrected RMS an Adam-like step divides by."""
    return xp.sqrt(v) / bias_correction2_sqrt + eps


def coupled_decay(g: Any, p: Any, weight_decay: float, xp: SimpleNamespace) -> Any:
    """`grad.add(param, alpha=weight_decay)`: L2 weight decay, added to the gradient."""
    return xp.fma(weight_decay, p, g)


def decoupled_decay(p: Any, lr: float, weight_decay: float) -> Any:
    """`param.mul_(1 - lr * weight_decay)`: decoupled weight decay (AdamW), the weights shrink directly."""
    return p * (1.0 - lr * weight_decay)


def zeros(p: Any, xp: SimpleNamespace) -> Any:
    """A zero state entry shaped like p."""
    return xp.full_like(p, 0.0)


def copy(p: Any) -> Any:
    """A copy of p (a new array for numpy; -0.0 kept), so state never aliases the engine's arrays."""
    return p * 1.0
