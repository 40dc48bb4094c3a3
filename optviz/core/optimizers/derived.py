"""What a step inspector shows beside an optimizer's raw state: the quantities its update is made of.

Each function is a registry row's `derived` rule (`spec.DerivedRule`): it reads the library's state after step t
(by torch's names), the gradient the optimizer was given and the parameter it stepped from, and returns the
pieces of the step (Adam: m̂, v̂, the denominator, the step per coordinate) in the library's order of operations,
so the step it reports is the update the library applied (tests/core/test_inspect.py holds it to that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optviz.core.mathlib import NUMPY
from optviz.core.optimizers.fast_rules.ops import adam_denominator, bias_correction
from optviz.core.params import Value

Derived = dict[str, np.ndarray]


def _coupled_gradient(hp: Mapping[str, Value], g: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The gradient the update used: with L2 weight decay λθ added (torch's `grad.add(param, alpha=λ)`)."""
    wd = float(hp["weight_decay"])
    return g + wd * p if wd else g


def adam(hp: Mapping[str, Value], state: Mapping[str, Any], g: np.ndarray, p: np.ndarray, t: int) -> Derived:
    """Adam and AMSGrad (L2 weight decay is already inside m and v)."""
    return _adam_parts(hp, state, t)


def adamw(hp: Mapping[str, Value], state: Mapping[str, Any], g: np.ndarray, p: np.ndarray, t: int) -> Derived:
    """AdamW: Adam's parts plus the decoupled decay, the shrink −lr·λ·θ applied before the Adam step."""
    parts = _adam_parts(hp, state, t)
    parts["decay"] = p * (1.0 - float(hp["lr"]) * float(hp["weight_decay"])) - p
    return parts


def _adam_parts(hp: Mapping[str, Value], state: Mapping[str, Any], t: int) -> Derived:
    lr, beta1, beta2, eps = (float(hp[k]) for k in ("lr", "beta1", "beta2", "eps"))
    m = np.asarray(state["exp_avg"], dtype=np.float64)
    v = np.asarray(state["max_exp_avg_sq" if hp["amsgrad"] else "exp_avg_sq"], dtype=np.float64)
    bc1, bc2 = bias_correction(beta1, t), bias_correction(beta2, t)
    denominator = adam_denominator(v, bc2**0.5, eps, NUMPY)
    return {
        "m_hat": m / bc1,
        "v_hat": v / bc2,
        "denominator": denominator,
        # torch: param.addcdiv_(exp_avg, denom, value=-lr / bc1): close to ±lr per coordinate once m ≈ ±√v.
        "step": (-(lr / bc1)) * m / denominator,
    }


def sgd(hp: Mapping[str, Value], state: Mapping[str, Any], g: np.ndarray, p: np.ndarray, t: int) -> Derived:
    """SGD, with heavy-ball or Nesterov momentum: the direction d the step follows, and −lr·d."""
    lr, momentum = float(hp["lr"]), float(hp["momentum"])
    d = _coupled_gradient(hp, g, p)
    if momentum:
        buf = np.asarray(state["momentum_buffer"], dtype=np.float64)
        d = NUMPY.fma(momentum, buf, d) if hp["nesterov"] else buf
    return {"direction": d, "step": -lr * d}


def rmsprop(hp: Mapping[str, Value], state: Mapping[str, Any], g: np.ndarray, p: np.ndarray, t: int) -> Derived:
    """RMSprop: the RMS denominator (centred: of the gradient's deviation from its mean) and the step."""
    lr, eps = float(hp["lr"]), float(hp["eps"])
    sq = np.asarray(state["square_avg"], dtype=np.float64)
    if hp["centered"]:
        ga = np.asarray(state["grad_avg"], dtype=np.float64)
        denominator = np.sqrt(NUMPY.fma(-ga, ga, sq)) + eps
    else:
        denominator = np.sqrt(sq) + eps
    if float(hp["momentum"]):
        step = -lr * np.asarray(state["momentum_buffer"], dtype=np.float64)
    else:
        step = (-lr) * _coupled_gradient(hp, g, p) / denominator
    return {"denominator": denominator, "step": step}


def adagrad(hp: Mapping[str, Value], state: Mapping[str, Any], g: np.ndarray, p: np.ndarray, t: int) -> Derived:
    """Adagrad: the decayed learning rate, the denominator √(Σg²) + ε that only grows, and the step."""
    lr, lr_decay, eps = float(hp["lr"]), float(hp["lr_decay"]), float(hp["eps"])
    clr = lr / (1 + (t - 1) * lr_decay)
    denominator = np.sqrt(np.asarray(state["sum"], dtype=np.float64)) + eps
    return {
        "lr_t": np.array(clr),
        "denominator": denominator,
        "step": (-clr) * _coupled_gradient(hp, g, p) / denominator,
    }
