"""Pair rules for optimizers that reduce over the whole tensor (layer-wise norms and trust ratios): a surface point
is one 2-element tensor, so each reduction is an expression in its two coordinates (see `PairRule`)."""

from __future__ import annotations

from typing import Any

from optviz.core.optimizers.fast_rules.ops import Hp, State, coupled_decay, lerp, num, on
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
