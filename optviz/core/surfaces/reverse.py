"""Hessian-vector products as torch computes them: reverse mode through a surface's own `grad`, on floats or numpy.

The library optimizers that read curvature (AdaHessian, Sophia-H) get H·z from
`torch.autograd.grad(grads, params, grad_outputs=z)`, where `grads` is the surface's analytic gradient evaluated in
torch with its graph. To give the same numbers to the last bit, `grad` is run here on `Var`s that record a tape
of the operations torch would record (the same nodes: `c / x` is a reciprocal then a product, as torch spells
it), and the tape is walked backwards as torch's engine walks its graph: nodes in reverse creation order (its
sequence numbers), each node's backward formula as in torch's derivatives.yaml, and the gradients reaching one
node summed in the order they arrive.

Conventions at kinks are torch's: abs'(0) = 0, sign' = 0, sqrt'(0) = inf, `where` passes the gradient to the
branch it picked only, maximum/minimum split a tie half and half, and the result is Jᵀ·z for the Jacobian J of
`grad` (the Hessian, symmetric wherever the surface is twice differentiable).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.mathlib import NUMPY, SCALAR

_Backward = Callable[[Any], tuple[Any, ...]]


class Var:
    """A value on a tape: `v` is a float or numpy array, `i` its node's index in `tape`."""

    __slots__ = ("i", "tape", "v")

    def __init__(self, v: Any, tape: list, i: int) -> None:
        self.v = v
        self.tape = tape
        self.i = i

    def __add__(self, o: Any) -> Var:
        if type(o) is Var:
            return _node(self.v + o.v, (self, o), _bw_add)
        return _node(self.v + o, (self,), _bw_one)

    def __radd__(self, o: Any) -> Var:
        return _node(o + self.v, (self,), _bw_one)

    def __sub__(self, o: Any) -> Var:
        if type(o) is Var:
            return _node(self.v - o.v, (self, o), _bw_sub)
        return _node(self.v - o, (self,), _bw_one)

    def __rsub__(self, o: Any) -> Var:
        return _node(o - self.v, (self,), _bw_neg)

    def __mul__(self, o: Any) -> Var:
        if type(o) is Var:
            a, b = self.v, o.v
            return _node(a * b, (self, o), lambda g: (g * b, g * a))
        return _node(self.v * o, (self,), lambda g: (g * o,))

    def __rmul__(self, o: Any) -> Var:
        return _node(o * self.v, (self,), lambda g: (g * o,))

    def __truediv__(self, o: Any) -> Var:
        if type(o) is Var:
            a, b = self.v, o.v
            return _node(a / b, (self, o), lambda g: (g / b, -g * ((a / b) / b)))
        return _node(self.v / o, (self,), lambda g: (g / o,))

    def __rtruediv__(self, o: Any) -> Var:
        # torch: `c / x` is `x.reciprocal() * c`.
        return _reciprocal(self) * o

    def __neg__(self) -> Var:
        return _node(-self.v, (self,), _bw_neg)

    def __pos__(self) -> Var:
        return self

    def __abs__(self) -> Var:
        v = self.v
        return _node(abs(v), (self,), lambda g: (g * _sign(v),))

    def __pow__(self, o: Any) -> Var:
        return _pow(self, o)

    def __rpow__(self, o: Any) -> Var:
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


def _node(value: Any, parents: tuple[Any, ...], backward: _Backward) -> Var:
    first = parents[0]
    tape = first.tape if type(first) is Var else next(p.tape for p in parents if type(p) is Var)
    tape.append((backward, parents))
    return Var(value, tape, len(tape) - 1)


def _bw_one(g: Any) -> tuple[Any, ...]:
    return (g,)


def _bw_neg(g: Any) -> tuple[Any, ...]:
    return (-g,)


def _bw_add(g: Any) -> tuple[Any, ...]:
    return (g, g)


def _bw_sub(g: Any) -> tuple[Any, ...]:
    return (g, -g)


def _value(a: Any) -> Any:
    return a.v if type(a) is Var else a


def _is_array(*values: Any) -> bool:
    return any(isinstance(v, np.ndarray) for v in values)


def _sign(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return np.sign(v)
    return float((v > 0) - (v < 0))


def _where(cond: Any, a: Any, b: Any) -> Any:
    if _is_array(cond, a, b):
        return np.where(cond, a, b)
    return a if cond else b


def _reciprocal(a: Var) -> Var:
    out = 1.0 / a.v if _is_array(a.v) else _div(1.0, a.v)
    return _node(out, (a,), lambda g: (-g * (out * out),))


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return math.nan if (a == 0 or a != a) else math.copysign(math.inf, a) * math.copysign(1.0, b)


def _scalar_pow(u: Any, e: Any) -> Any:
    """torch's `tensor.pow(exponent)` for a number exponent: its special cases, else C `pow`."""
    if e == 0.0:
        return u * 0.0 + 1.0
    if e == 1.0:
        return u * 1.0
    if e == 2.0:
        return u * u
    if e == 3.0:
        return u * u * u
    if _is_array(u):
        with np.errstate(all="ignore"):
            if e == 0.5:
                return np.sqrt(u)
            if e == -0.5:
                return 1.0 / np.sqrt(u)
            if e == -1.0:
                return 1.0 / u
            if e == -2.0:
                return 1.0 / (u * u)
            flat = np.asarray(u, dtype=np.float64).reshape(-1).tolist()
            return np.array([_c_pow(a, e) for a in flat]).reshape(np.shape(u))
    return _c_pow(u, e)


def _c_pow(u: float, e: float) -> float:
    try:
        return math.pow(u, e)
    except OverflowError:
        return -math.inf if (u < 0 and float(e).is_integer() and int(e) % 2 == 1) else math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a fractional power
        if u == 0:
            return -math.inf if (math.copysign(1.0, u) < 0 and float(e).is_integer() and int(e) % 2 == 1) else math.inf
        return math.nan


def _pow_values(u: Any, w: Any) -> Any:
    if not _is_array(w):
        return _scalar_pow(u, w)
    with np.errstate(all="ignore"):
        return np.power(u, w)


def _log(u: Any) -> Any:
    if _is_array(u):
        with np.errstate(all="ignore"):
            return np.log(u)
    if u > 0:
        return math.log(u)
    return -math.inf if u == 0 else math.nan


def _pow(u: Any, w: Any) -> Var:
    """u ** w with torch's backward formulas (`pow_backward`, `pow_backward_self`, `pow_backward_exponent`)."""
    uv, wv = _value(u), _value(w)
    out = _pow_values(uv, wv)
    if type(w) is not Var:  # pow(Tensor, Scalar)
        if wv == 0.0:
            return _node(out, (u,), lambda g: (g * 0.0,))
        return _node(out, (u,), lambda g: (g * (wv * _scalar_pow(uv, wv - 1.0)),))
    if type(u) is not Var:  # pow(Scalar, Tensor)
        log_base = _log(uv)
        if uv == 0.0:
            return _node(out, (w,), lambda g: (g * _where(wv >= 0.0, 0.0, out * log_base),))
        return _node(out, (w,), lambda g: (g * (out * log_base),))

    def backward(g: Any) -> tuple[Any, Any]:
        with np.errstate(all="ignore"):
            gu = _where(wv == 0.0, 0.0, g * (wv * _pow_values(uv, wv - 1.0)))
            gw = g * _where((uv == 0.0) & (wv >= 0.0), 0.0, out * _log(uv))
        return gu, gw

    return _node(out, (u, w), backward)


def _namespace(base: SimpleNamespace) -> SimpleNamespace:
    """`base` (SCALAR or NUMPY) on `Var`s: each function records its torch node; plain values pass through."""

    def unary(fn: Callable[[Any], Any], backward: Callable[[Any, Any, Any], Any]) -> Callable[[Any], Any]:
        def apply(a: Any) -> Any:
            if type(a) is not Var:
                return fn(a)
            v = a.v
            out = fn(v)
            return _node(out, (a,), lambda g: (backward(g, v, out),))

        return apply

    b_sin, b_cos = base.sin, base.cos

    def where(cond: Any, a: Any, b: Any) -> Any:
        cond = _value(cond)
        out = base.where(cond, _value(a), _value(b))
        if type(a) is not Var and type(b) is not Var:
            return out
        return _node(out, (a, b), lambda g: (base.where(cond, g, 0.0), base.where(cond, 0.0, g)))

    def extremum(fn: Callable[[Any, Any], Any], sign: float) -> Callable[[Any, Any], Any]:
        # torch: where(a == b, g / 2, g), masked to 0 for the operand that lost (a < b for maximum's a).
        def apply(a: Any, b: Any) -> Any:
            av, bv = _value(a), _value(b)
            out = fn(av, bv)
            if type(a) is not Var and type(b) is not Var:
                return out

            def backward(g: Any) -> tuple[Any, Any]:
                half = base.where(av == bv, g / 2.0, g)
                a_lost, b_lost = (av < bv, av > bv) if sign > 0 else (av > bv, av < bv)
                return base.where(a_lost, 0.0, half), base.where(b_lost, 0.0, half)

            return _node(out, (a, b), backward)

        return apply

    def fma(a: Any, b: Any, c: Any) -> Any:
        # torch_math's fma is addcmul(c, a, b): c gets g, a gets g·(b·1), b gets g·(a·1).
        av, bv, cv = _value(a), _value(b), _value(c)
        out = base.fma(av, bv, cv)
        if type(a) is not Var and type(b) is not Var and type(c) is not Var:
            return out
        return _node(out, (c, a, b), lambda g: (g, g * bv, g * av))

    def full_like(like: Any, value: float) -> Any:
        return base.full_like(_value(like), value)

    return SimpleNamespace(
        name=f"tape-{base.name}",
        pi=math.pi,
        e=math.e,
        sin=unary(base.sin, lambda g, v, out: g * b_cos(v)),
        cos=unary(base.cos, lambda g, v, out: g * -b_sin(v)),
        tan=unary(base.tan, lambda g, v, out: g * (1.0 + out * out)),
        exp=unary(base.exp, lambda g, v, out: g * out),
        log=unary(base.log, lambda g, v, out: g / v),
        sqrt=unary(base.sqrt, lambda g, v, out: g / (2.0 * out)),
        tanh=unary(base.tanh, lambda g, v, out: g * (1.0 - out * out)),
        abs=unary(base.abs, lambda g, v, out: g * _sign(v)),
        sign=unary(base.sign, lambda g, v, out: g * 0.0),
        sigmoid=unary(base.sigmoid, lambda g, v, out: g * (1.0 - out) * out),
        maximum=extremum(base.maximum, 1.0),
        minimum=extremum(base.minimum, -1.0),
        where=where,
        full_like=full_like,
        fma=fma,
    )


@cache
def _tape_for(name: str) -> SimpleNamespace:
    return _namespace(NUMPY if name == "numpy" else SCALAR)


def tape_namespace(xp: SimpleNamespace) -> SimpleNamespace:
    """The recording namespace over `xp` (SCALAR or NUMPY)."""
    return _tape_for("numpy" if xp is NUMPY else "scalar")


def hvp(grad: Callable[..., tuple[Any, Any]], x: Any, y: Any, vx: Any, vy: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
    """Jᵀ·v for the Jacobian J of `grad(x, y, xp)` at (x, y), by torch's reverse mode (see the module's docstring)."""
    tape: list = [(None, ()), (None, ())]
    gx, gy = grad(Var(x, tape, 0), Var(y, tape, 1), tape_namespace(xp))
    grads: list[Any] = [None] * len(tape)
    for out, seed in ((gx, vx), (gy, vy)):
        if type(out) is Var:
            j = out.i
            grads[j] = seed if grads[j] is None else grads[j] + seed
    for i in range(len(tape) - 1, 1, -1):
        g = grads[i]
        if g is None:
            continue
        backward, parents = tape[i]
        for parent, contribution in zip(parents, backward(g), strict=True):
            if type(parent) is Var:
                j = parent.i
                grads[j] = contribution if grads[j] is None else grads[j] + contribution
    hx = grads[0] if grads[0] is not None else xp.full_like(x, 0.0)
    hy = grads[1] if grads[1] is not None else xp.full_like(x, 0.0)
    if xp is NUMPY:
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        return np.broadcast_to(hx, shape).astype(np.float64), np.broadcast_to(hy, shape).astype(np.float64)
    return float(hx), float(hy)
