"""Fast rules for pytorch_optimizer, transcribed from its per-parameter loops (library defaults for the options we
do not expose)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    adam_denominator,
    bias_correction,
    copy,
    coupled_decay,
    decoupled_decay,
    lerp,
    num,
    on,
    second_moment,
    sqrt_num,
    zeros,
)
from optviz.core.optimizers.spec import FastRule


def lion(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:  # weight_decouple=True, fixed_decay=False
            p = decoupled_decay(p, lr, weight_decay)
        m = s["exp_avg"]
        update = xp.sign(lerp(m, g, one_minus_beta1, xp))
        s["exp_avg"] = lerp(m, g, one_minus_beta2, xp)
        return p + (-lr) * update  # the product lr * sign is exact, so no FMA needed

    return FastRule(init=init, step=step)


def ademamix(hp: Hp) -> FastRule:
    # t_alpha_beta3=None (the library default, not exposed): alpha and beta3 are used as given, no warm-up.
    lr = num(hp["lr"])
    beta1, beta2, beta3 = num(hp["beta1"]), num(hp["beta2"]), num(hp["beta3"])
    one_minus_beta1, one_minus_beta2, one_minus_beta3 = 1.0 - beta1, 1.0 - beta2, 1.0 - beta3
    alpha = num(hp["alpha"])
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_avg_sq": zeros(p, xp), "exp_avg_slow": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        bias_correction1 = bias_correction(beta1, t)
        bias_correction2_sq = sqrt_num(bias_correction(beta2, t))
        if weight_decay_on:  # weight_decouple=False: L2 in the gradient
            g = coupled_decay(g, p, weight_decay, xp)
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        v = second_moment(s["exp_avg_sq"], g, beta2, one_minus_beta2, xp)
        slow = lerp(s["exp_avg_slow"], g, one_minus_beta3, xp)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        s["exp_avg_slow"] = slow
        denom = adam_denominator(v, bias_correction2_sq, eps, xp)
        update = xp.fma(alpha, slow, m / bias_correction1)
        return p + (-lr) * update / denom

    return FastRule(init=init, step=step)


def adopt(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_avg_sq": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:  # weight_decouple=False: L2 in the gradient
            g = coupled_decay(g, p, weight_decay, xp)
        v = s["exp_avg_sq"]
        if t == 1:  # the first step only initialises v
            s["exp_avg_sq"] = xp.fma(g, g, v)
            return copy(p)
        normed = g / xp.maximum(xp.sqrt(v), eps)
        clip = math.pow(t, 0.25)  # clip_lambda's default
        normed = xp.minimum(xp.maximum(normed, -clip), clip)
        m = lerp(s["exp_avg"], normed, one_minus_beta1, xp)
        s["exp_avg"] = m
        s["exp_avg_sq"] = second_moment(v, g, beta2, one_minus_beta2, xp)
        return xp.fma(-lr, m, p)

    return FastRule(init=init, step=step)


def signsgd(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    momentum = num(hp["momentum"])
    momentum_on = on(momentum)
    one_minus_momentum = 1.0 - momentum
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"momentum_buffer": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:  # weight_decouple=True
            p = decoupled_decay(p, lr, weight_decay)
        if momentum_on:
            g = lerp(s["momentum_buffer"], g, one_minus_momentum, xp)
            s["momentum_buffer"] = g
        return p + (-lr) * xp.sign(g)  # the product lr * sign is exact, so no FMA needed

    return FastRule(init=init, step=step)


def adabelief(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_avg_var": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:  # weight_decouple=True, fixed_decay=False
            p = decoupled_decay(p, lr, weight_decay)
        step_size = lr / bias_correction(beta1, t)
        bias_correction2_sq = sqrt_num(bias_correction(beta2, t))
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        residual = g - m
        var = second_moment(s["exp_avg_var"], residual, beta2, one_minus_beta2, xp) + eps
        s["exp_avg"] = m
        s["exp_avg_var"] = var
        return p + (-step_size) * m / adam_denominator(var, bias_correction2_sq, eps, xp)

    return FastRule(init=init, step=step)


def yogi(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, minus_one_minus_beta2 = 1.0 - beta1, -(1.0 - beta2)
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    initial_accumulator = num(hp["initial_accumulator"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": xp.full_like(p, initial_accumulator), "exp_avg_sq": xp.full_like(p, initial_accumulator)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:  # weight_decouple=True, fixed_decay=False
            p = decoupled_decay(p, lr, weight_decay)
        step_size = lr / bias_correction(beta1, t)
        bias_correction2_sq = sqrt_num(bias_correction(beta2, t))
        g2 = g * g
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        v = s["exp_avg_sq"]
        # Yogi's additive second moment: v - (1 - beta2) * sign(v - g²) * g²
        v = xp.fma(minus_one_minus_beta2 * xp.sign(v - g2), g2, v)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        return p + (-step_size) * m / adam_denominator(v, bias_correction2_sq, eps, xp)

    return FastRule(init=init, step=step)


def adan(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2, beta3 = num(hp["beta1"]), num(hp["beta2"]), num(hp["beta3"])
    one_minus_beta1, one_minus_beta2, one_minus_beta3 = 1.0 - beta1, 1.0 - beta2, 1.0 - beta3
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        zero = zeros(p, xp)  # shared: steps replace state entries, never write into them
        return {"exp_avg": zero, "exp_avg_sq": zero, "exp_avg_diff": zero, "previous_grad": zero}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        bias_correction1 = bias_correction(beta1, t)
        bias_correction2 = bias_correction(beta2, t)
        bias_correction3_sq = sqrt_num(bias_correction(beta3, t))
        # The library starts previous_grad at -g (max_grad_norm=0: no clipping), so the first difference is 0.
        diff = (-g if t == 1 else s["previous_grad"]) + g
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        m_diff = lerp(s["exp_avg_diff"], diff, one_minus_beta2, xp)
        diff = diff * beta2 + g
        v = second_moment(s["exp_avg_sq"], diff, beta3, one_minus_beta3, xp)
        s["exp_avg"] = m
        s["exp_avg_diff"] = m_diff
        s["exp_avg_sq"] = v
        s["previous_grad"] = -g
        denom = adam_denominator(v, bias_correction3_sq, eps, xp)
        p = p + (-lr / bias_correction1) * m / denom
        p = p + (-lr * beta2 / bias_correction2) * m_diff / denom
        if weight_decay_on:  # weight_decouple=False: proximal decay after the step
            p = p / (1.0 + lr * weight_decay)
        return p

    return FastRule(init=init, step=step)
