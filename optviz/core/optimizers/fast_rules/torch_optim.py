"""Fast rules for torch.optim, transcribed from its `_single_tensor_*` functions (the for-loop path)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    adam_denominator,
    bias_correction,
    copy,
    coupled_decay,
    decoupled_decay,
    f32,
    lerp,
    num,
    on,
    second_moment,
    zeros,
)
from optviz.core.optimizers.spec import FastRule


def sgd(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    momentum = num(hp["momentum"])
    momentum_on = on(momentum)
    one_minus_dampening = 1.0 - hp["dampening"]
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    nesterov = hp["nesterov"]

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"momentum_buffer": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        fma = xp.fma
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        if momentum_on:
            # torch: the first step's buffer is a clone of the gradient, no dampening.
            buf = copy(g) if t == 1 else fma(one_minus_dampening, g, s["momentum_buffer"] * momentum)
            s["momentum_buffer"] = buf
            g = fma(momentum, buf, g) if nesterov else buf
        return fma(-lr, g, p)

    return FastRule(init=init, step=step)


def adagrad(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    lr_decay = num(hp["lr_decay"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    eps = num(hp["eps"])
    initial_accumulator_value = num(hp["initial_accumulator_value"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"sum": xp.full_like(p, initial_accumulator_value)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        clr = lr / (1 + (t - 1) * lr_decay)
        total = xp.fma(g, g, s["sum"])
        s["sum"] = total
        return p + (-clr) * g / (xp.sqrt(total) + eps)

    return FastRule(init=init, step=step)


def rmsprop(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    alpha = num(hp["alpha"])
    one_minus_alpha = 1.0 - alpha
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    momentum = num(hp["momentum"])
    momentum_on = on(momentum)
    centered = bool(hp["centered"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"square_avg": zeros(p, xp), "grad_avg": zeros(p, xp), "momentum_buffer": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        sq = second_moment(s["square_avg"], g, alpha, one_minus_alpha, xp)
        s["square_avg"] = sq
        if centered:
            ga = lerp(s["grad_avg"], g, one_minus_alpha, xp)
            s["grad_avg"] = ga
            avg = xp.sqrt(xp.fma(-ga, ga, sq)) + eps
        else:
            avg = xp.sqrt(sq) + eps
        if momentum_on:
            buf = s["momentum_buffer"] * momentum + g / avg
            s["momentum_buffer"] = buf
            return xp.fma(-lr, buf, p)
        return p + (-lr) * g / avg

    return FastRule(init=init, step=step)


def adadelta(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    rho = num(hp["rho"])
    one_minus_rho = 1.0 - rho
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"square_avg": zeros(p, xp), "acc_delta": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        sq = second_moment(s["square_avg"], g, rho, one_minus_rho, xp)
        acc = s["acc_delta"]
        delta = xp.sqrt(acc + eps) / xp.sqrt(sq + eps) * g
        s["square_avg"] = sq
        s["acc_delta"] = second_moment(acc, delta, rho, one_minus_rho, xp)
        return xp.fma(-lr, delta, p)

    return FastRule(init=init, step=step)


def _adam(hp: Hp, decoupled: bool) -> FastRule:
    """torch's Adam (coupled weight decay, L2 in the gradient) or AdamW (decoupled: the weights shrink)."""
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    amsgrad = hp["amsgrad"]

    def init(p: Any, xp: SimpleNamespace) -> State:
        state = {"exp_avg": zeros(p, xp), "exp_avg_sq": zeros(p, xp)}
        if amsgrad:
            state["max_exp_avg_sq"] = zeros(p, xp)
        return state

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            if decoupled:
                p = decoupled_decay(p, lr, weight_decay)
            else:
                g = coupled_decay(g, p, weight_decay, xp)
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        v = second_moment(s["exp_avg_sq"], g, beta2, one_minus_beta2, xp)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        step_size = lr / bias_correction(beta1, t)
        bias_correction2_sqrt = bias_correction(beta2, t) ** 0.5
        if amsgrad:
            v = xp.maximum(s["max_exp_avg_sq"], v)
            s["max_exp_avg_sq"] = v
        return p + (-step_size) * m / adam_denominator(v, bias_correction2_sqrt, eps, xp)

    return FastRule(init=init, step=step)


def adam(hp: Hp) -> FastRule:
    return _adam(hp, decoupled=False)


def adamw(hp: Hp) -> FastRule:
    return _adam(hp, decoupled=True)


def adamax(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1 = num(hp["beta1"])
    one_minus_beta1 = 1.0 - beta1
    beta2 = num(hp["beta2"])
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_inf": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        u = xp.maximum(s["exp_inf"] * beta2, xp.abs(g) + eps)
        s["exp_avg"] = m
        s["exp_inf"] = u
        clr = lr / bias_correction(beta1, t)
        return p + (-clr) * m / u

    return FastRule(init=init, step=step)


def nadam(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    momentum_decay = num(hp["momentum_decay"])
    decoupled = bool(hp["decoupled_weight_decay"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_avg_sq": zeros(p, xp), "mu_product": 1.0}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        bias_correction2 = bias_correction(beta2, t)
        if weight_decay_on:
            if decoupled:
                p = decoupled_decay(p, lr, weight_decay)
            else:
                g = coupled_decay(g, p, weight_decay, xp)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        # torch keeps mu_product in a 0-dim tensor of the default dtype: float32 arithmetic.
        mu_product = f32(s["mu_product"] * f32(mu))
        s["mu_product"] = mu_product
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        v = second_moment(s["exp_avg_sq"], g, beta2, one_minus_beta2, xp)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        denom = xp.sqrt(v / bias_correction2) + eps
        mu_product_next = mu_product * mu_next
        p = p + (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        return p + ((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom

    return FastRule(init=init, step=step)


def radam(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    decoupled = bool(hp["decoupled_weight_decay"])
    rho_inf = 2 / (1 - beta2) - 1  # the length of the approximated simple moving average, at t -> infinity

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"exp_avg": zeros(p, xp), "exp_avg_sq": zeros(p, xp)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            if decoupled:
                p = decoupled_decay(p, lr, weight_decay)
            else:
                g = coupled_decay(g, p, weight_decay, xp)
        m = lerp(s["exp_avg"], g, one_minus_beta1, xp)
        v = second_moment(s["exp_avg_sq"], g, beta2, one_minus_beta2, xp)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        bias_correction1 = bias_correction(beta1, t)
        bias_correction2 = bias_correction(beta2, t)
        corrected = m / bias_correction1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2

        def rectified() -> Any:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = 1.0 / (xp.sqrt(v) + eps) * (bias_correction2**0.5)  # float / tensor = reciprocal * float
            return p - corrected * lr * adaptive_lr * rect

        if isinstance(rho_t, np.ndarray):  # per-run beta2: each run takes its own branch
            return np.where(rho_t > 5.0, rectified(), p - corrected * lr)
        if rho_t > 5.0:
            return rectified()
        return p - corrected * lr

    return FastRule(init=init, step=step)


def rprop(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    eta_minus, eta_plus = num(hp["eta_minus"]), num(hp["eta_plus"])
    step_min, step_max = num(hp["step_min"]), num(hp["step_max"])

    def init(p: Any, xp: SimpleNamespace) -> State:
        return {"prev": zeros(p, xp), "step_size": xp.full_like(p, lr)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        sign = xp.sign(g * s["prev"])
        factor = xp.where(sign > 0, eta_plus, xp.where(sign < 0, eta_minus, 1.0))
        step_size = xp.minimum(xp.maximum(s["step_size"] * factor, step_min), step_max)
        g = xp.where(factor == eta_minus, 0.0, g)
        s["step_size"] = step_size
        s["prev"] = g
        return p + (-1.0) * xp.sign(g) * step_size  # addcmul: the product is exact, so no FMA needed

    return FastRule(init=init, step=step)


def asgd(hp: Hp) -> FastRule:
    lr = num(hp["lr"])
    lambd = num(hp["lambd"])
    alpha = num(hp["alpha"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)

    def init(p: Any, xp: SimpleNamespace) -> State:
        # eta lives in a float32 0-dim tensor in torch (the default scalar dtype). The average ax (and its
        # weight mu, which t0 controls) never feeds back into the iterate, which is what we draw: not tracked.
        return {"eta": f32(lr)}

    def step(p: Any, g: Any, s: State, t: int, xp: SimpleNamespace) -> Any:
        if weight_decay_on:
            g = coupled_decay(g, p, weight_decay, xp)
        eta = s["eta"]
        p = xp.fma(-eta, g, p * (1 - lambd * eta))
        s["eta"] = f32(lr / ((1 + lambd * lr * t) ** alpha))
        return p

    return FastRule(init=init, step=step)
