"""Pair rules for optimizers that reduce over the whole tensor (layer-wise norms and trust ratios): a surface point
is one 2-element tensor, so each reduction is an expression in its two coordinates (see `PairRule`)."""

from __future__ import annotations

from typing import Any

from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    bias_correction,
    coupled_decay,
    lerp,
    second_moment,
    zeros,
)
from optviz.core.optimizers.spec import PairRule, SurfaceProbe


def novograd(hp: Hp) -> PairRule:
    """pytorch_optimizer's `NovoGrad`, its for-loop path (weight_decouple=False, adam_debias=False: defaults)."""
    lr = float(hp["lr"])
    beta1, beta2 = float(hp["beta1"]), float(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = float(hp["eps"])
    weight_decay = float(hp["weight_decay"])
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
        if weight_decay > 0.0:  # weight_decouple=False: L2 in the gradient
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
    lr = float(hp["lr"])
    beta1, beta2 = float(hp["beta1"]), float(hp["beta2"])
    beta3 = 1.0 - beta1  # grad_averaging=True
    one_minus_beta2 = 1.0 - beta2
    eps = float(hp["eps"])
    weight_decay = float(hp["weight_decay"])
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
        if weight_decay != 0.0:
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
    lr = float(hp["lr"])
    beta2_decay = float(hp["beta2_decay"])
    eps1 = 2.220446049250313e-16  # eps=(None, eps2): torch.finfo(float64).eps
    eps1_sq = eps1 * eps1
    eps2 = float(hp["eps2"])
    d = float(hp["d"])
    weight_decay = float(hp["weight_decay"])
    decay = 1 - lr * weight_decay
    root_numel = 2**0.5

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        xp = probe.xp
        return {"step": 0.0, "variance": (zeros(x, xp), zeros(y, xp))}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        step_float = float(t)
        s["step"] = step_float
        one_minus_beta2_t = step_float**beta2_decay
        rho_t = min(lr, 1 / (step_float**0.5))
        alpha = xp.maximum(eps2, _norm(x, y, xp) / root_numel) * rho_t
        if weight_decay != 0:
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
