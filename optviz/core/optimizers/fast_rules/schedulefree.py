"""Fast rules for schedulefree's AdamW and SGD, transcribed from their `step` (the drawn point is x, as `.eval()`
gives)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    bias_correction,
    copy,
    coupled_decay,
    lerp,
    num,
    on,
    second_moment,
    zeros,
)
from optviz.core.optimizers.spec import FastRule
from optviz.core.params import Value


def _schedule_weights(s: State, t: int, lr0: Any, warmup: Value, r: Any, power: Any) -> tuple[Any, Any]:
    """The group-level schedule of `schedulefree` (k = t - 1): (scheduled lr, averaging weight ckp1)."""
    k = t - 1
    sched = (k + 1) / warmup if k < warmup else 1.0
    lr = lr0 * sched
    lr_max = s["lr_max"] = np.maximum(lr, s["lr_max"]) if isinstance(lr, np.ndarray) else max(lr, s["lr_max"])
    weight = ((k + 1) ** r) * (lr_max**power)
    weight_sum = s["weight_sum"] = s["weight_sum"] + weight
    if isinstance(weight_sum, np.ndarray):  # per-run values; lr > 0 keeps every weight sum positive
        return lr, weight / weight_sum
    try:
        ckp1 = weight / weight_sum
    except ZeroDivisionError:
        ckp1 = 0
    return lr, ckp1


def _averaged_point(beta: float) -> Callable[[Any, State, SimpleNamespace], Any]:
    """The `display` of both rules: x, what `.eval()` writes into the parameter (`p.lerp_(z, 1 - 1/beta)`)."""
    weight = 1 - 1 / beta

    def display(p: Any, s: State, xp: SimpleNamespace) -> Any:
        return lerp(p, s["z"], weight, xp)

    return display


def schedulefree_adamw(hp: Hp) -> FastRule:
    lr0 = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta2 = 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    warmup_steps = hp["warmup_steps"]
    r = num(hp["r"])
    weight_lr_power = num(hp["weight_lr_power"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"z": copy(p), "exp_avg_sq": zeros(p, xp), "lr_max": -1.0, "weight_sum": 0.0}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        lr, ckp1 = _schedule_weights(s, t, lr0, warmup_steps, r, weight_lr_power)
        bias_correction2 = bias_correction(beta2, t)
        fma = xp.fma
        v = second_moment(s["exp_avg_sq"], g, beta2, one_minus_beta2, xp)
        s["exp_avg_sq"] = v
        g = g / (xp.sqrt(v / bias_correction2) + eps)
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        z = s["z"]
        y = fma(lr * (beta1 * (1 - ckp1) - 1), g, lerp(p, z, ckp1, xp))
        s["z"] = fma(-lr, g, z)
        return y

    return FastRule(init=init, step=step, display=_averaged_point(beta1))


def schedulefree_sgd(hp: Hp) -> FastRule:
    lr0 = num(hp["lr"])
    momentum = num(hp["momentum"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    warmup_steps = hp["warmup_steps"]
    r = num(hp["r"])
    weight_lr_power = num(hp["weight_lr_power"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"z": copy(p), "lr_max": -1.0, "weight_sum": 0.0}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        lr, ckp1 = _schedule_weights(s, t, lr0, warmup_steps, r, weight_lr_power)
        fma = xp.fma
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        z = s["z"]
        y = fma(lr * (momentum * (1 - ckp1) - 1), g, lerp(p, z, ckp1, xp))
        s["z"] = fma(-lr, g, z)
        return y

    return FastRule(init=init, step=step, display=_averaged_point(momentum))
