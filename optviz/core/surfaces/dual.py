"""Forward-mode dual numbers over a math namespace, for Hessian-vector products of any surface.

A `Dual` carries a value and a tangent (its derivative along one direction v). Pushing x + ε·vx and y + ε·vy
through a surface's own `grad` (written on `xp`, see `optviz.core.mathlib`) gives the gradient's directional
derivative: the Hessian times v, which is what torch's double backward through the same `grad` gives the
library optimizers (AdaHessian, Sophia-H). One implementation serves every surface, on floats and numpy arrays.

Derivatives at kinks follow torch's conventions: abs'(0) = 0, sign' = 0, sqrt'(0) = inf, `where` passes the
tangent of the branch it picks only, and maximum/minimum split a tie half and half. Forward mode gives J·v for
the Jacobian J of `grad`, torch's reverse mode Jᵀ·v: the same wherever the surface is twice differentiable (J is
the symmetric Hessian); they differ only where `grad` itself has a kink that breaks the symmetry (a tie of
max(x, y) in a typed formula), a set of measure zero.
"""

from __future__ import annotations

import math
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.mathlib import NUMPY, SCALAR


class Dual:
    """value + ε·tangent, with ε² = 0. `v` and `d` are floats or numpy arrays."""

    __slots__ = ("d", "v")

    def __init__(self, v: Any, d: Any) -> None:
        self.v = v
        self.d = d

    def __add__(self, o: Any) -> Dual:
        if type(o) is Dual:
            return Dual(self.v + o.v, self.d + o.d)
        return Dual(self.v + o, self.d)

    def __radd__(self, o: Any) -> Dual:
        return Dual(o + self.v, self.d)

    def __sub__(self, o: Any) -> Dual:
        if type(o) is Dual:
            return Dual(self.v - o.v, self.d - o.d)
        return Dual(self.v - o, self.d)

    def __rsub__(self, o: Any) -> Dual:
        return Dual(o - self.v, -self.d)

    def __mul__(self, o: Any) -> Dual:
        if type(o) is Dual:
            return Dual(self.v * o.v, self.d * o.v + self.v * o.d)
        return Dual(self.v * o, self.d * o)

    def __rmul__(self, o: Any) -> Dual:
        return Dual(o * self.v, o * self.d)

    def __truediv__(self, o: Any) -> Dual:
        if type(o) is Dual:
            out = self.v / o.v
            return Dual(out, (self.d - out * o.d) / o.v)
        return Dual(self.v / o, self.d / o)

    def __rtruediv__(self, o: Any) -> Dual:
        out = o / self.v
        return Dual(out, -(out * self.d) / self.v)

    def __neg__(self) -> Dual:
        return Dual(-self.v, -self.d)

    def __pos__(self) -> Dual:
        return self

    def __abs__(self) -> Dual:
        v = self.v
        # torch: abs'(x) = sign(x), 0 at the kink.
        return Dual(abs(v), self.d * ((v > 0) * 1.0 - (v < 0) * 1.0))

    def __pow__(self, o: Any) -> Dual:
        return _pow(self, o)

    def __rpow__(self, o: Any) -> Dual:
        return _pow(o, self)

    # Comparisons look at values only (branches and masks).
    def __lt__(self, o: Any) -> Any:
        return self.v < _value(o)

    def __le__(self, o: Any) -> Any:
        return self.v <= _value(o)

    def __gt__(self, o: Any) -> Any:
        return self.v > _value(o)

    def __ge__(self, o: Any) -> Any:
        return self.v >= _value(o)

    def __eq__(self, o: Any) -> Any:  # type: ignore[override]
        return self.v == _value(o)

    def __ne__(self, o: Any) -> Any:  # type: ignore[override]
        return self.v != _value(o)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Dual({self.v!r}, {self.d!r})"


def _value(a: Any) -> Any:
    return a.v if type(a) is Dual else a


def _tangent(a: Any) -> Any:
    return a.d if type(a) is Dual else 0.0


def _pow(u: Any, w: Any) -> Any:
    """u ** w with torch's derivative: w·u^(w−1)·du (0 where w = 0) + u^w·log(u)·dw (0 where u = 0, w ≥ 0)."""
    uv, wv = _value(u), _value(w)
    with np.errstate(all="ignore"):
        out = _raw_pow(uv, wv)
        d = 0.0
        if type(u) is Dual:
            d = _mask(wv == 0.0, 0.0, wv * _raw_pow(uv, wv - 1.0)) * u.d
        if type(w) is Dual:
            log_u = _raw_log(uv)
            d = d + _mask((uv == 0.0) & (wv >= 0.0), 0.0, out * log_u) * w.d
    return Dual(out, d)


def _mask(cond: Any, a: Any, b: Any) -> Any:
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    return a if cond else b


def _raw_pow(u: Any, w: Any) -> Any:
    if isinstance(u, np.ndarray) or isinstance(w, np.ndarray):
        return np.power(u, w)
    try:
        return math.pow(u, w)
    except OverflowError:
        return -math.inf if (u < 0 and float(w).is_integer() and int(w) % 2 == 1) else math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a fractional power
        return math.inf if u == 0 else math.nan


def _raw_log(u: Any) -> Any:
    if isinstance(u, np.ndarray):
        return np.log(u)
    if u > 0:
        return math.log(u)
    return -math.inf if u == 0 else math.nan


def _namespace(base: SimpleNamespace) -> SimpleNamespace:
    """The dual-number version of `base` (SCALAR or NUMPY): the same functions, on `Dual`s or plain values."""
    b_sin, b_cos, b_tan, b_exp, b_log, b_sqrt, b_tanh = (
        base.sin,
        base.cos,
        base.tan,
        base.exp,
        base.log,
        base.sqrt,
        base.tanh,
    )
    b_abs, b_sign, b_sigmoid, b_where, b_max, b_min, b_fma = (
        base.abs,
        base.sign,
        base.sigmoid,
        base.where,
        base.maximum,
        base.minimum,
        base.fma,
    )

    def sin(a: Any) -> Any:
        if type(a) is not Dual:
            return b_sin(a)
        return Dual(b_sin(a.v), b_cos(a.v) * a.d)

    def cos(a: Any) -> Any:
        if type(a) is not Dual:
            return b_cos(a)
        return Dual(b_cos(a.v), -(b_sin(a.v) * a.d))

    def tan(a: Any) -> Any:
        if type(a) is not Dual:
            return b_tan(a)
        out = b_tan(a.v)
        return Dual(out, (1.0 + out * out) * a.d)

    def exp(a: Any) -> Any:
        if type(a) is not Dual:
            return b_exp(a)
        out = b_exp(a.v)
        return Dual(out, out * a.d)

    def log(a: Any) -> Any:
        if type(a) is not Dual:
            return b_log(a)
        return Dual(b_log(a.v), a.d / a.v)

    def sqrt(a: Any) -> Any:
        if type(a) is not Dual:
            return b_sqrt(a)
        out = b_sqrt(a.v)
        return Dual(out, a.d / (2.0 * out))

    def tanh(a: Any) -> Any:
        if type(a) is not Dual:
            return b_tanh(a)
        out = b_tanh(a.v)
        return Dual(out, (1.0 - out * out) * a.d)

    def abs_(a: Any) -> Any:
        if type(a) is not Dual:
            return b_abs(a)
        return Dual(b_abs(a.v), b_sign(a.v) * a.d)

    def sign(a: Any) -> Any:
        if type(a) is not Dual:
            return b_sign(a)
        return Dual(b_sign(a.v), 0.0 * a.d)

    def sigmoid(a: Any) -> Any:
        if type(a) is not Dual:
            return b_sigmoid(a)
        out = b_sigmoid(a.v)
        return Dual(out, (1.0 - out) * out * a.d)

    def where(cond: Any, a: Any, c: Any) -> Any:
        cond = _value(cond)
        if type(a) is not Dual and type(c) is not Dual:
            return b_where(cond, a, c)
        return Dual(b_where(cond, _value(a), _value(c)), b_where(cond, _tangent(a), _tangent(c)))

    def _pick(a: Any, c: Any, first: Any) -> Any:
        # torch's maximum/minimum: the picked operand's tangent; a tie splits it half and half.
        av, cv = _value(a), _value(c)
        ad, cd = _tangent(a), _tangent(c)
        return b_where(av == cv, (ad + cd) * 0.5, b_where(first, ad, cd))

    def maximum(a: Any, c: Any) -> Any:
        if type(a) is not Dual and type(c) is not Dual:
            return b_max(a, c)
        av, cv = _value(a), _value(c)
        return Dual(b_max(av, cv), _pick(a, c, av > cv))

    def minimum(a: Any, c: Any) -> Any:
        if type(a) is not Dual and type(c) is not Dual:
            return b_min(a, c)
        av, cv = _value(a), _value(c)
        return Dual(b_min(av, cv), _pick(a, c, av < cv))

    def full_like(like: Any, value: float) -> Any:
        return base.full_like(_value(like), value)

    def fma(a: Any, c: Any, e: Any) -> Any:
        av, cv = _value(a), _value(c)
        d = _tangent(a) * cv + av * _tangent(c) + _tangent(e)
        return Dual(b_fma(av, cv, _value(e)), d)

    return SimpleNamespace(
        name=f"dual-{base.name}",
        pi=math.pi,
        e=math.e,
        sin=sin,
        cos=cos,
        tan=tan,
        exp=exp,
        log=log,
        sqrt=sqrt,
        tanh=tanh,
        abs=abs_,
        sign=sign,
        sigmoid=sigmoid,
        maximum=maximum,
        minimum=minimum,
        where=where,
        full_like=full_like,
        fma=fma,
    )


@cache
def _dual_for(name: str) -> SimpleNamespace:
    return _namespace(NUMPY if name == "numpy" else SCALAR)


def dual_namespace(xp: SimpleNamespace) -> SimpleNamespace:
    """The dual-number namespace over `xp` (SCALAR or NUMPY)."""
    return _dual_for("numpy" if xp is NUMPY else "scalar")


def tangent_of(g: Any, like: Any, xp: SimpleNamespace) -> Any:
    """The tangent of a result (0 for a constant one), shaped like `like`."""
    if type(g) is Dual:
        d = g.d
        if xp is NUMPY:
            return np.broadcast_to(np.asarray(d, dtype=np.float64), np.shape(like)).copy()
        return float(d)
    return xp.full_like(like, 0.0)
