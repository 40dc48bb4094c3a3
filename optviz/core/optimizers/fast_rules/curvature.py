"""Pair rules for the optimizers that read curvature through Hessian-vector products: AdaHessian and Sophia-H
(pytorch_optimizer), each transcribed from the path the library takes for a 2-element float64 tensor on the CPU
(`_step_foreach`: `foreach=None` picks it there; its per-tensor ops are the for-loop's kernels).

Both estimate the Hessian diagonal as z ⊙ (H z) (Hutchinson) with z drawn by torch: AdaHessian's Rademacher
`randint_like(p, 0, 2) * 2 - 1`, Sophia-H's Gaussian `randn_like(p)`, one draw of two numbers per Hessian update,
from the generator `torch.manual_seed(seed)` left. The library path seeds each start's optimizer alone, so every
start of a run sees the same sequence: `hutchinson_probe` draws it once per seed with torch, two numbers at a
time as the library does (a Gaussian drawn in one long call would come out in another order), and keeps it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optviz.core.optimizers.fast_rules.ops import Hp, State, bias_correction, c_pow, lerp, num, on, second_moment
from optviz.core.optimizers.spec import PairRule, SurfaceProbe

#: (distribution, seed) -> (torch generator, zx draws, zy draws): the probes drawn so far, shared by every run.
_PROBES: dict[tuple[str, int], tuple[Any, list[float], list[float]]] = {}


def hutchinson_probe(distribution: str, seed: int, k: int) -> tuple[float, float]:
    """The k-th (0-based) Hutchinson vector the library draws for one 2-element parameter after
    `torch.manual_seed(seed)`: `randint_like(p, 0, 2) * 2.0 - 1.0` or `randn_like(p)`."""
    entry = _PROBES.get((distribution, seed))
    if entry is None:
        import torch

        entry = (torch.Generator().manual_seed(seed), [], [])
        _PROBES[(distribution, seed)] = entry
    generator, zx, zy = entry
    if k >= len(zx):
        import torch

        # Extend geometrically, so a long race draws a few times, not once per step.
        for _ in range(max(k + 1 - len(zx), len(zx), 64)):
            if distribution == "rademacher":
                z = torch.randint(0, 2, (2,), dtype=torch.float64, generator=generator) * 2.0 - 1.0
            else:
                z = torch.randn((2,), dtype=torch.float64, generator=generator)
            a, b = z.tolist()
            zx.append(a)
            zy.append(b)
    return zx[k], zy[k]


def _hessian_diagonal(x: Any, y: Any, probe: SurfaceProbe, distribution: str, k: int) -> tuple[Any, Any]:
    """`zero_hessian` then `compute_hutchinson_hessian` (one sample): 0 + (H z) ⊙ z, the k-th draw's z."""
    zx, zy = hutchinson_probe(distribution, probe.seed, k)
    hzx, hzy = probe.hvp(x, y, zx, zy)
    return hzx * zx + 0.0, hzy * zy + 0.0  # addcmul_ into zeros: fma(h·z, 1, +0) rounds once, -0 becomes +0


def _pow(a: Any, exponent: Any, xp: Any) -> Any:
    """`tensor.pow_(exponent)` on a 2-element tensor: sqrt for 0.5 (torch's special case), else C `pow` per
    element (torch's scalar loop; numpy's own power differs from it in the last place: `c_pow`). `exponent` may
    be per-run values, one per element of `a`: each row takes its own case."""
    if isinstance(exponent, np.ndarray):
        half = exponent == 0.5
        if half.all():
            return np.sqrt(a)
        return np.where(half, np.sqrt(a), c_pow(a, exponent))
    if exponent == 0.5:
        return xp.sqrt(a)
    if xp.name == "scalar":
        return math.pow(a, exponent)
    return c_pow(a, exponent)


def adahessian(hp: Hp) -> PairRule:
    """pytorch_optimizer's `AdaHessian` (weight_decouple=True, fixed_decay=False, update_period=1, num_samples=1,
    hessian_distribution='rademacher': library defaults, not exposed)."""
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    half_power = num(hp["hessian_power"]) / 2.0
    decay = 1.0 - weight_decay * lr

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        return {"exp_avg": (zero, zero), "exp_hessian_diag_sq": (zero, zero)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        hx, hy = _hessian_diagonal(x, y, probe, "rademacher", t - 1)
        s["hessian"] = (hx, hy)
        bias_correction2 = bias_correction(beta2, t)
        step_size = lr / bias_correction(beta1, t)
        if weight_decay_on:
            x, y = x * decay, y * decay
        mx, my = s["exp_avg"]
        mx, my = lerp(mx, gx, one_minus_beta1, xp), lerp(my, gy, one_minus_beta1, xp)
        vx, vy = s["exp_hessian_diag_sq"]
        vx, vy = second_moment(vx, hx, beta2, one_minus_beta2, xp), second_moment(vy, hy, beta2, one_minus_beta2, xp)
        s["exp_avg"], s["exp_hessian_diag_sq"] = (mx, my), (vx, vy)
        dx = _pow(vx / bias_correction2, half_power, xp) + eps
        dy = _pow(vy / bias_correction2, half_power, xp) + eps
        return x + (-step_size * mx) / dx, y + (-step_size * my) / dy

    return PairRule(init=init, step=step)


def sophiah(hp: Hp) -> PairRule:
    """pytorch_optimizer's `SophiaH` (weight_decouple=True, fixed_decay=False, num_samples=1,
    hessian_distribution='gaussian': library defaults, not exposed)."""
    lr = num(hp["lr"])
    beta1, beta2 = num(hp["beta1"]), num(hp["beta2"])
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    eps = num(hp["eps"])
    weight_decay = num(hp["weight_decay"])
    weight_decay_on = on(weight_decay)
    clip = num(hp["p"])
    update_period = int(hp["update_period"])
    decay = 1.0 - weight_decay * lr

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        return {"momentum": (zero, zero), "hessian_moment": (zero, zero)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        update_hessian = (t - 1) % update_period == 0
        if update_hessian:
            s["hessian"] = _hessian_diagonal(x, y, probe, "gaussian", (t - 1) // update_period)
        if weight_decay_on:
            x, y = x * decay, y * decay
        mx, my = s["momentum"]
        mx, my = lerp(mx, gx, one_minus_beta1, xp), lerp(my, gy, one_minus_beta1, xp)
        s["momentum"] = (mx, my)
        hx, hy = s["hessian_moment"]
        if update_hessian:
            ex, ey = s["hessian"]
            hx, hy = lerp(hx, ex, one_minus_beta2, xp), lerp(hy, ey, one_minus_beta2, xp)
            s["hessian_moment"] = (hx, hy)
        ux = xp.minimum(xp.maximum(mx / xp.maximum(hx, eps), -clip), clip)
        uy = xp.minimum(xp.maximum(my / xp.maximum(hy, eps), -clip), clip)
        return xp.fma(-lr, ux, x), xp.fma(-lr, uy, y)

    return PairRule(init=init, step=step)
