"""Pair rules for optimizers that reduce over the whole tensor (layer-wise norms and trust ratios): a surface point
is one 2-element tensor, so each reduction is an expression in its two coordinates (see `PairRule`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    bias_correction,
    copy,
    coupled_decay,
    f32,
    lerp,
    num,
    on,
    power_of,
    second_moment,
    sqrt_num,
    zeros,
)
from optviz.core.optimizers.spec import PairRule, SurfaceProbe


def novograd(hp: Hp) -> PairRule:
    """pytorch_optimizer's `NovoGrad`, its for-loop path (weight_decouple=False, adam_debias=False: defaults)."""
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    grad_averaging = bool(hp["grad_averaging"])

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        return {}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        grad_p2 = gx * gx + gy * gy  # grad.pow(2).sum()
        first = t == 1
        s["grads_ema"] = grad_p2 if first else lerp(s["grads_ema"], grad_p2, one_minus_beta2, xp)
        de_nom = xp.sqrt(s["grads_ema"]) + eps
        gx, gy = gx / de_nom, gy / de_nom
        if weight_decay_on:  # weight_decouple=False: L2 in the gradient
            gx, gy = coupled_decay(gx, x, weight_decay, xp), coupled_decay(gy, y, weight_decay, xp)
        if first:
            mx, my = gx, gy
        else:
            if grad_averaging:
                gx, gy = gx * one_minus_beta1, gy * one_minus_beta1
            mx, my = s["moments"]
            mx, my = mx * beta1 + gx, my * beta1 + gy
        s["moments"] = (mx, my)
        return xp.fma(-lr, mx, x), xp.fma(-lr, my, y)

    return PairRule(init=init, step=step)


def _norm(x: Any, y: Any, xp: Any) -> Any:
    """`torch.linalg.norm` of a 2-element float64 tensor on CPU: sqrt(fma(y, y, x²)), bit for bit."""
    return xp.sqrt(xp.fma(y, y, x * x))


def lamb(hp: Hp) -> PairRule:
    """pytorch_optimizer's `Lamb`, its for-loop path (`update`; the defaults: weight_decouple=True,
    fixed_decay=False, rectify=False, grad_averaging=True, adam=False, pre_norm=False, adam_debias=False).

    The step size is lr / (1 − β₁ᵗ) outside the trust ratio ‖θ‖/(‖u‖ + ε) (‖θ‖ clamped to 10), u = m/(√v + ε)
    with neither moment bias-corrected inside it; weight decay is decoupled (θ shrinks before the norms).
    """
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    beta3 = 1.0 - beta1  # grad_averaging=True
    one_minus_beta2 = 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    decay = 1.0 - weight_decay * lr * 1.0  # apply_weight_decay: 1 - wd * lr * ratio(1.0)

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        xp = probe.xp
        zx, zy = zeros(x, xp), zeros(y, xp)
        return {"exp_avg": (zx, zy), "exp_avg_sq": (zx, zy)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        step_size = lr / bias_correction(beta1, t)
        mx, my = s["exp_avg"]
        vx, vy = s["exp_avg_sq"]
        mx, my = xp.fma(beta3, gx, mx * beta1), xp.fma(beta3, gy, my * beta1)
        vx = second_moment(vx, gx, beta2, one_minus_beta2, xp)
        vy = second_moment(vy, gy, beta2, one_minus_beta2, xp)
        s["exp_avg"], s["exp_avg_sq"] = (mx, my), (vx, vy)
        if weight_decay_on:
            x, y = x * decay, y * decay
        ux, uy = mx / (xp.sqrt(vx) + eps), my / (xp.sqrt(vy) + eps)
        weight_norm = xp.minimum(xp.maximum(_norm(x, y, xp), 0.0), LAMB_CLAMP)
        p_norm = _norm(ux, uy, xp)
        trust_ratio = xp.where((weight_norm == 0.0) | (p_norm == 0.0), 1.0, weight_norm / (p_norm + eps))
        s["weight_norm"], s["adam_norm"], s["trust_ratio"] = weight_norm, p_norm, trust_ratio
        alpha = -step_size * trust_ratio
        return xp.fma(alpha, ux, x), xp.fma(alpha, uy, y)

    return PairRule(init=init, step=step)


#: `Lamb.clamp`: the largest weight norm the trust ratio uses.
LAMB_CLAMP = 10.0


def adafactor(hp: Hp) -> PairRule:
    """torch.optim's `Adafactor`, its for-loop path, on a vector: a 2-element parameter is not factored, so it
    keeps a full second-moment `variance`; the step's scale max(ε₂, RMS(θ))·min(lr, 1/√t) and the clipping of
    the update's RMS at d are the tensor-wide reductions."""
    lr = num(hp["lr"])
    beta2_decay = num(hp["beta2_decay"])
    one_minus_beta2 = power_of(beta2_decay)  # step ** beta2_decay
    eps1 = 2.220446049250313e-16  # eps=(None, eps2): torch.finfo(float64).eps
    eps1_sq = eps1 * eps1
    eps2 = num(hp["eps2"])
    d = num(hp["d"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    decay = 1 - lr * weight_decay
    root_numel = 2**0.5
    # min(lr, 1/√t) per run: Python's min keeps lr unless 1/√t is smaller, as np.minimum does (lr is never NaN)
    smaller = np.minimum if isinstance(lr, np.ndarray) else min

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        xp = probe.xp
        return {"step": 0.0, "variance": (zeros(x, xp), zeros(y, xp))}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        step_float = float(t)
        s["step"] = step_float
        one_minus_beta2_t = one_minus_beta2(step_float)
        rho_t = smaller(lr, 1 / (step_float**0.5))
        alpha = xp.maximum(eps2, _norm(x, y, xp) / root_numel) * rho_t
        if weight_decay_on:
            x, y = x * decay, y * decay
        vx, vy = s["variance"]
        vx, vy = lerp(vx, gx * gx, one_minus_beta2_t, xp), lerp(vy, gy * gy, one_minus_beta2_t, xp)
        s["variance"] = (vx, vy)
        ux = 1.0 / xp.sqrt(xp.maximum(vx, eps1_sq)) * gx
        uy = 1.0 / xp.sqrt(xp.maximum(vy, eps1_sq)) * gy
        denom = xp.maximum(1.0, _norm(ux, uy, xp) / (root_numel * d))
        scale = -alpha / denom
        return xp.fma(scale, ux, x), xp.fma(scale, uy, y)

    return PairRule(init=init, step=step)


def _f32(v: Any, xp: Any) -> Any:
    """`v` rounded to float32 (a number, or each element of an (M,) array): what a float32 tensor stores."""
    if xp.name == "numpy":
        with np.errstate(over="ignore"):
            return np.asarray(v, dtype=np.float32).astype(np.float64)
    return f32(v)


def prodigy(hp: Hp) -> PairRule:
    """pytorch_optimizer's `Prodigy`, its for-loop path (beta3 = √β₂, growth_rate = ∞, eps = 1e-8,
    weight_decouple=True, fixed_decay=False: defaults).

    The distance estimate is a reduction over every parameter of the group; a race steps one optimizer per start
    (batching="separate"), so it is a reduction over the start's two coordinates. The group-level values
    (`d`, `d_max`, `d_hat`, and the float32 tensors `d_numerator`, `d_de_nom`, which the library makes with
    torch's default dtype) are kept in the rule's state under the library's names. The float32 arithmetic is
    mirrored: a Python number meeting a float32 tensor is rounded to float32 first, `add_(alpha=)` is one fma.
    """
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    beta3 = sqrt_num(beta2)
    beta3_f32 = f32(beta3)
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    d0 = num(hp["d0"])
    d_coef_f32 = f32(num(hp["d_coef"]))
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    safeguard_warmup = bool(hp["safeguard_warmup"])
    use_bias_correction = bool(hp["bias_correction"])
    eps = 1e-8

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        xp = probe.xp
        zx, zy = zeros(x, xp), zeros(y, xp)
        return {
            "s": (zx, zy),
            "p0": (copy(x), copy(y)),
            "exp_avg": (zx, zy),
            "exp_avg_sq": (zx, zy),
            "d": xp.full_like(x, d0),
            "d_max": xp.full_like(x, d0),
            "d_numerator": zx,
        }

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        bc = bias_correction(beta1, t) / sqrt_num(bias_correction(beta2, t)) if use_bias_correction else 1.0
        d = s["d"]
        d_lr = d * lr / bc

        p0x, p0y = s["p0"]
        dot = gx * (p0x - x) + gy * (p0y - y)  # torch.dot of two 2-vectors
        d_numerator = _f32(s["d_numerator"] * beta3_f32, xp)
        d_numerator = _f32(xp.fma(_f32(d / d0 * d_lr, xp), _f32(dot, xp), d_numerator), xp)
        s["d_numerator"] = d_numerator

        mx, my = s["exp_avg"]
        m_alpha = d * one_minus_beta1
        mx, my = xp.fma(m_alpha, gx, mx * beta1), xp.fma(m_alpha, gy, my * beta1)
        vx, vy = s["exp_avg_sq"]
        v_value = d * d * one_minus_beta2
        vx, vy = xp.fma(v_value * gx, gx, vx * beta2), xp.fma(v_value * gy, gy, vy * beta2)
        sx, sy = s["s"]
        s_alpha = (d / d0) * (d if safeguard_warmup else d_lr)
        sx, sy = xp.fma(s_alpha, gx, sx * beta3), xp.fma(s_alpha, gy, sy * beta3)
        s["exp_avg"], s["exp_avg_sq"], s["s"] = (mx, my), (vx, vy), (sx, sy)
        d_de_nom = _f32(xp.abs(sx) + xp.abs(sy), xp)

        # d_de_nom == 0: the library returns before touching d or the parameters.
        still = d_de_nom == 0.0
        safe_de_nom = xp.where(still, 1.0, d_de_nom)
        d_hat = _f32(_f32(d_coef_f32 * d_numerator, xp) / safe_de_nom, xp)
        d_max = s["d_max"]
        d_max_new = xp.where(d_hat > d_max, d_hat, d_max)  # max(d_max, d_hat)
        d_new = d_max_new  # min(d_max, d · growth_rate) with growth_rate = ∞

        if weight_decay_on:
            decay = 1.0 - weight_decay * d_lr * 1.0
            x_new, y_new = x * decay, y * decay
        else:
            x_new, y_new = x, y
        neg_d_lr = -d_lr
        de_eps = d_new * eps
        x_new = x_new + (neg_d_lr * mx) / (xp.sqrt(vx) + de_eps)  # addcdiv_: a + (v·t1)/t2
        y_new = y_new + (neg_d_lr * my) / (xp.sqrt(vy) + de_eps)

        s["d"] = xp.where(still, d, d_new)
        s["d_max"] = xp.where(still, d_max, d_max_new)
        s["d_hat"] = xp.where(still, s.get("d_hat", d_hat), d_hat)
        s["d_de_nom"] = xp.where(still, s.get("d_de_nom", d_de_nom), d_de_nom)
        return xp.where(still, x, x_new), xp.where(still, y, y_new)

    return PairRule(init=init, step=step)
