"""Fast elementwise update rules that reproduce library optimizers to float64 round-off.

Each rule is the library's own single-tensor step, transcribed operation by operation from its source
(torch.optim's `_single_tensor_*` functions, pytorch_optimizer's per-parameter loops, schedulefree's step), so
the trajectory we draw is the library's. The same code runs on Python floats (`SCALAR`, one coordinate) and on
numpy arrays (`NUMPY`, a batch of starts): only arithmetic and `xp` functions are used.

How torch's CPU kernels evaluate, mirrored here (t1, t2 tensors, v a Python number; fma(a, b, c) = a*b + c
rounded once, `xp.fma`). Probed on torch 2.13 (AVX2 and scalar paths alike):

- `a.add_(b, alpha=v)` is fma(v, b, a); `a.sub_(b, alpha=v)` is fma(-v, b, a); without alpha, a + b.
- `a.addcmul_(t1, t2, value=v)` is fma(v*t1, t2, a); `a.addcdiv_(t1, t2, value=v)` is a + (v*t1)/t2 (no fusing).
- `a.lerp_(b, w)` is fma(w, b - a, a) when |w| < 0.5, else fma(a - b, 1 - w, b) (see `_lerp`).
- `v / tensor` is `tensor.reciprocal() * v` (RAdam's adaptive learning rate).
- Scalar state that torch keeps in 0-dim tensors of the default dtype (float32 unless changed) is rounded to
  float32 as torch rounds it: NAdam's `mu_product`, ASGD's `eta` (see `_f32`).

With that, rules reproduce the library bit for bit, with one exception we cannot mirror: torch's float64 `sqrt`
on CPU (MKL) is not correctly rounded and is one ulp off in ~1.4% of calls. Rules without a square root (SGD,
ASGD, Rprop, Lion, SignSGD, Adamax, Schedule-Free SGD) matched bit for bit on every test path; the others differ
by a few ulps, which only a chaotic path (Adadelta at lr=1 on Rosenbrock) grows into visible differences, as it
does for the library itself when its start moves by one ulp. tests/core/test_fast_rules.py checks every rule
against its library for 300 steps on three surfaces.

State keys are the library's own state names (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...), so tests can
compare them one to one; constants worked out once in `init` live under `_c`, and group-level counters that
the libraries keep per parameter group (Schedule-Free's weight sum) are plain floats in the state.

Hyperparameters are the registry's flat names (`beta1`, `beta2` for `betas`; see `table.py`), and a rule reads
exactly the names in that optimizer's registry schema, no more and no fewer (that test checks both ways).
Library options the registry does not expose stay at the library's default (AdEMAMix's `t_alpha_beta3`, ASGD's
`t0`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from optviz.core.optimizers.spec import FastRule
from optviz.core.params import Value

State = dict[str, Any]
Hp = Mapping[str, Value]

_F32 = struct.Struct("f")


def _f32(x: float) -> float:
    """`x` rounded to float32, as storing it in a float32 0-dim tensor does (torch's default scalar dtype)."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _lerp(a: Any, b: Any, w: float, xp: SimpleNamespace) -> Any:
    """`torch.lerp(a, b, w)` for a Python-number weight: the formula torch's kernel picks for that weight."""
    if -0.5 < w < 0.5:
        return xp.fma(w, b - a, a)
    return xp.fma(a - b, 1.0 - w, b)


def _zeros(p: Any, xp: SimpleNamespace) -> Any:
    return xp.full_like(p, 0.0)


def _copy(p: Any) -> Any:
    """A copy of p (a new array for numpy; -0.0 kept), so state never aliases the engine's arrays."""
    return p * 1.0


# --- torch.optim ------------------------------------------------------------------------------------------------


def _sgd_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (float(hp["lr"]), float(hp["momentum"]), 1.0 - hp["dampening"], float(hp["weight_decay"]), hp["nesterov"])
    return {"momentum_buffer": _zeros(p, xp), "_c": c}


def _sgd_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, mom, one_minus_dampening, wd, nesterov = s["_c"]
    fma = xp.fma
    if wd != 0:
        g = fma(wd, p, g)
    if mom != 0:
        # torch: the first step's buffer is a clone of the gradient, no dampening.
        buf = _copy(g) if t == 1 else fma(one_minus_dampening, g, s["momentum_buffer"] * mom)
        s["momentum_buffer"] = buf
        g = fma(mom, buf, g) if nesterov else buf
    return fma(-lr, g, p)


def _adagrad_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (float(hp["lr"]), float(hp["lr_decay"]), float(hp["weight_decay"]), float(hp["eps"]))
    return {"sum": xp.full_like(p, float(hp["initial_accumulator_value"])), "_c": c}


def _adagrad_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, lr_decay, wd, eps = s["_c"]
    if wd != 0:
        g = xp.fma(wd, p, g)
    clr = lr / (1 + (t - 1) * lr_decay)
    total = xp.fma(g, g, s["sum"])
    s["sum"] = total
    return p + (-clr) * g / (xp.sqrt(total) + eps)


def _rmsprop_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    alpha = float(hp["alpha"])
    c = (
        float(hp["lr"]),
        alpha,
        1.0 - alpha,
        float(hp["eps"]),
        float(hp["weight_decay"]),
        float(hp["momentum"]),
        bool(hp["centered"]),
    )
    return {"square_avg": _zeros(p, xp), "grad_avg": _zeros(p, xp), "momentum_buffer": _zeros(p, xp), "_c": c}


def _rmsprop_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, alpha, one_minus_alpha, eps, wd, mom, centered = s["_c"]
    fma = xp.fma
    if wd != 0:
        g = fma(wd, p, g)
    sq = fma(one_minus_alpha * g, g, s["square_avg"] * alpha)
    s["square_avg"] = sq
    if centered:
        ga = _lerp(s["grad_avg"], g, one_minus_alpha, xp)
        s["grad_avg"] = ga
        avg = xp.sqrt(fma(-ga, ga, sq)) + eps
    else:
        avg = xp.sqrt(sq) + eps
    if mom > 0:
        buf = s["momentum_buffer"] * mom + g / avg
        s["momentum_buffer"] = buf
        return fma(-lr, buf, p)
    return p + (-lr) * g / avg


def _adadelta_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    rho = float(hp["rho"])
    c = (float(hp["lr"]), rho, 1.0 - rho, float(hp["eps"]), float(hp["weight_decay"]))
    return {"square_avg": _zeros(p, xp), "acc_delta": _zeros(p, xp), "_c": c}


def _adadelta_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, rho, one_minus_rho, eps, wd = s["_c"]
    fma = xp.fma
    if wd != 0:
        g = fma(wd, p, g)
    sq = fma(one_minus_rho * g, g, s["square_avg"] * rho)
    acc = s["acc_delta"]
    delta = xp.sqrt(acc + eps) / xp.sqrt(sq + eps) * g
    s["square_avg"] = sq
    s["acc_delta"] = fma(one_minus_rho * delta, delta, acc * rho)
    return fma(-lr, delta, p)


def _adam_rule(decoupled: bool) -> FastRule:
    """torch's Adam (coupled weight decay, L2 in the gradient) or AdamW (decoupled: the weights shrink)."""

    def init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
        b1, b2 = float(hp["beta1"]), float(hp["beta2"])
        c = (float(hp["lr"]), b1, b2, 1.0 - b1, 1.0 - b2, float(hp["eps"]), float(hp["weight_decay"]), hp["amsgrad"])
        state = {"exp_avg": _zeros(p, xp), "exp_avg_sq": _zeros(p, xp), "_c": c}
        if hp["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros(p, xp)
        return state

    def step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
        lr, b1, b2, w1, w2, eps, wd, amsgrad = s["_c"]
        fma = xp.fma
        if wd != 0:
            if decoupled:
                p = p * (1 - lr * wd)
            else:
                g = fma(wd, p, g)
        m = s["exp_avg"]
        m = fma(w1, g - m, m) if -0.5 < w1 < 0.5 else fma(m - g, 1.0 - w1, g)  # exp_avg.lerp_(grad, 1 - beta1)
        v = fma(w2 * g, g, s["exp_avg_sq"] * b2)
        s["exp_avg"] = m
        s["exp_avg_sq"] = v
        step_size = lr / (1 - b1**t)
        bias_correction2_sqrt = (1 - b2**t) ** 0.5
        if amsgrad:
            v = xp.maximum(s["max_exp_avg_sq"], v)
            s["max_exp_avg_sq"] = v
        return p + (-step_size) * m / (xp.sqrt(v) / bias_correction2_sqrt + eps)

    return FastRule(init=init, step=step)


def _adamax_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1 = float(hp["beta1"])
    c = (float(hp["lr"]), b1, 1.0 - b1, float(hp["beta2"]), float(hp["eps"]), float(hp["weight_decay"]))
    return {"exp_avg": _zeros(p, xp), "exp_inf": _zeros(p, xp), "_c": c}


def _adamax_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, w1, b2, eps, wd = s["_c"]
    if wd != 0:
        g = xp.fma(wd, p, g)
    m = _lerp(s["exp_avg"], g, w1, xp)
    u = xp.maximum(s["exp_inf"] * b2, xp.abs(g) + eps)
    s["exp_avg"] = m
    s["exp_inf"] = u
    clr = lr / (1 - b1**t)
    return p + (-clr) * m / u


def _nadam_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (
        float(hp["lr"]),
        b1,
        b2,
        1.0 - b1,
        1.0 - b2,
        float(hp["eps"]),
        float(hp["weight_decay"]),
        float(hp["momentum_decay"]),
        bool(hp["decoupled_weight_decay"]),
    )
    return {"exp_avg": _zeros(p, xp), "exp_avg_sq": _zeros(p, xp), "mu_product": 1.0, "_c": c}


def _nadam_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, b2, w1, w2, eps, wd, momentum_decay, decoupled = s["_c"]
    bias_correction2 = 1 - b2**t
    if wd != 0:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = xp.fma(wd, p, g)
    mu = b1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
    mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
    # torch keeps mu_product in a 0-dim tensor of the default dtype: float32 arithmetic.
    mu_product = _f32(s["mu_product"] * _f32(mu))
    s["mu_product"] = mu_product
    m = _lerp(s["exp_avg"], g, w1, xp)
    v = xp.fma(w2 * g, g, s["exp_avg_sq"] * b2)
    s["exp_avg"] = m
    s["exp_avg_sq"] = v
    denom = xp.sqrt(v / bias_correction2) + eps
    mu_product_next = mu_product * mu_next
    p = p + (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
    return p + ((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom


def _radam_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (
        float(hp["lr"]),
        b1,
        b2,
        1.0 - b1,
        1.0 - b2,
        float(hp["eps"]),
        float(hp["weight_decay"]),
        bool(hp["decoupled_weight_decay"]),
        2 / (1 - b2) - 1,
    )
    return {"exp_avg": _zeros(p, xp), "exp_avg_sq": _zeros(p, xp), "_c": c}


def _radam_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, b2, w1, w2, eps, wd, decoupled, rho_inf = s["_c"]
    if wd != 0:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = xp.fma(wd, p, g)
    m = _lerp(s["exp_avg"], g, w1, xp)
    v = xp.fma(w2 * g, g, s["exp_avg_sq"] * b2)
    s["exp_avg"] = m
    s["exp_avg_sq"] = v
    bias_correction1 = 1 - b1**t
    bias_correction2 = 1 - b2**t
    corrected = m / bias_correction1
    rho_t = rho_inf - 2 * t * (b2**t) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive_lr = 1.0 / (xp.sqrt(v) + eps) * (bias_correction2**0.5)  # float / tensor = reciprocal * float
        return p - corrected * lr * adaptive_lr * rect
    return p - corrected * lr


def _rprop_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (float(hp["eta_minus"]), float(hp["eta_plus"]), float(hp["step_min"]), float(hp["step_max"]))
    return {"prev": _zeros(p, xp), "step_size": xp.full_like(p, float(hp["lr"])), "_c": c}


def _rprop_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    eta_minus, eta_plus, step_min, step_max = s["_c"]
    sign = xp.sign(g * s["prev"])
    factor = xp.where(sign > 0, eta_plus, xp.where(sign < 0, eta_minus, 1.0))
    step_size = xp.minimum(xp.maximum(s["step_size"] * factor, step_min), step_max)
    g = xp.where(factor == eta_minus, 0.0, g)
    s["step_size"] = step_size
    s["prev"] = g
    return p + (-1.0) * xp.sign(g) * step_size  # addcmul: the product is exact, so no FMA needed


def _asgd_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (float(hp["lr"]), float(hp["lambd"]), float(hp["alpha"]), float(hp["weight_decay"]))
    # eta lives in a float32 0-dim tensor in torch (the default scalar dtype). The average ax (and its
    # weight mu, which t0 controls) never feeds back into the iterate, which is what we draw: not tracked.
    return {"eta": _f32(float(hp["lr"])), "_c": c}


def _asgd_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, lambd, alpha, wd = s["_c"]
    if wd != 0:
        g = xp.fma(wd, p, g)
    eta = s["eta"]
    p = xp.fma(-eta, g, p * (1 - lambd * eta))
    s["eta"] = _f32(lr / ((1 + lambd * lr * t) ** alpha))
    return p


# --- pytorch_optimizer (library defaults for the options we do not expose) --------------------------------------


def _lion_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    return {"exp_avg": _zeros(p, xp), "_c": (float(hp["lr"]), 1.0 - b1, 1.0 - b2, float(hp["weight_decay"]))}


def _lion_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, w1, w2, wd = s["_c"]
    if wd != 0:  # weight_decouple=True, fixed_decay=False
        p = p * (1.0 - wd * lr)
    m = s["exp_avg"]
    update = xp.sign(_lerp(m, g, w1, xp))
    s["exp_avg"] = _lerp(m, g, w2, xp)
    return p + (-lr) * update  # the product lr * sign is exact, so no FMA needed


def _ademamix_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (
        float(hp["lr"]),
        b1,
        b2,
        float(hp["beta3"]),
        1.0 - b1,
        1.0 - b2,
        float(hp["alpha"]),
        float(hp["eps"]),
        float(hp["weight_decay"]),
    )
    return {"exp_avg": _zeros(p, xp), "exp_avg_sq": _zeros(p, xp), "exp_avg_slow": _zeros(p, xp), "_c": c}


def _ademamix_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    # t_alpha_beta3=None (the library default, not exposed): alpha and beta3 are used as given, no warm-up.
    lr, b1, b2, b3, w1, w2, alpha, eps, wd = s["_c"]
    bias_correction1 = 1.0 - math.pow(b1, t)
    bias_correction2_sq = math.sqrt(1.0 - math.pow(b2, t))
    fma = xp.fma
    if wd > 0:  # weight_decouple=False: L2 in the gradient
        g = fma(wd, p, g)
    m = _lerp(s["exp_avg"], g, w1, xp)
    v = fma(w2 * g, g, s["exp_avg_sq"] * b2)
    slow = _lerp(s["exp_avg_slow"], g, 1.0 - b3, xp)
    s["exp_avg"] = m
    s["exp_avg_sq"] = v
    s["exp_avg_slow"] = slow
    denom = xp.sqrt(v) / bias_correction2_sq + eps
    update = fma(alpha, slow, m / bias_correction1)
    return p + (-lr) * update / denom


def _adopt_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (float(hp["lr"]), 1.0 - b1, b2, 1.0 - b2, float(hp["eps"]), float(hp["weight_decay"]))
    return {"exp_avg": _zeros(p, xp), "exp_avg_sq": _zeros(p, xp), "_c": c}


def _adopt_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, w1, b2, w2, eps, wd = s["_c"]
    fma = xp.fma
    if wd > 0:  # weight_decouple=False: L2 in the gradient
        g = fma(wd, p, g)
    v = s["exp_avg_sq"]
    if t == 1:  # the first step only initialises v
        s["exp_avg_sq"] = fma(g, g, v)
        return _copy(p)
    normed = g / xp.maximum(xp.sqrt(v), eps)
    clip = math.pow(t, 0.25)  # clip_lambda's default
    normed = xp.minimum(xp.maximum(normed, -clip), clip)
    m = _lerp(s["exp_avg"], normed, w1, xp)
    s["exp_avg"] = m
    s["exp_avg_sq"] = fma(w2 * g, g, v * b2)
    return fma(-lr, m, p)


def _signsgd_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (float(hp["lr"]), float(hp["momentum"]), float(hp["weight_decay"]))
    return {"momentum_buffer": _zeros(p, xp), "_c": c}


def _signsgd_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, mom, wd = s["_c"]
    if wd != 0:  # weight_decouple=True
        p = p * (1.0 - wd * lr)
    if mom > 0:
        g = _lerp(s["momentum_buffer"], g, 1.0 - mom, xp)
        s["momentum_buffer"] = g
    return p + (-lr) * xp.sign(g)  # the product lr * sign is exact, so no FMA needed


def _adabelief_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (float(hp["lr"]), b1, b2, 1.0 - b1, 1.0 - b2, float(hp["eps"]), float(hp["weight_decay"]))
    return {"exp_avg": _zeros(p, xp), "exp_avg_var": _zeros(p, xp), "_c": c}


def _adabelief_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, b2, w1, w2, eps, wd = s["_c"]
    if wd != 0:  # weight_decouple=True, fixed_decay=False
        p = p * (1.0 - wd * lr)
    step_size = lr / (1.0 - math.pow(b1, t))
    bias_correction2_sq = math.sqrt(1.0 - math.pow(b2, t))
    m = _lerp(s["exp_avg"], g, w1, xp)
    residual = g - m
    var = xp.fma(w2 * residual, residual, s["exp_avg_var"] * b2) + eps
    s["exp_avg"] = m
    s["exp_avg_var"] = var
    return p + (-step_size) * m / (xp.sqrt(var) / bias_correction2_sq + eps)


def _yogi_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (float(hp["lr"]), b1, b2, 1.0 - b1, -(1.0 - b2), float(hp["eps"]), float(hp["weight_decay"]))
    init = float(hp["initial_accumulator"])
    return {"exp_avg": xp.full_like(p, init), "exp_avg_sq": xp.full_like(p, init), "_c": c}


def _yogi_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, b2, w1, neg_w2, eps, wd = s["_c"]
    if wd != 0:  # weight_decouple=True, fixed_decay=False
        p = p * (1.0 - wd * lr)
    step_size = lr / (1.0 - math.pow(b1, t))
    bias_correction2_sq = math.sqrt(1.0 - math.pow(b2, t))
    g2 = g * g
    m = _lerp(s["exp_avg"], g, w1, xp)
    v = s["exp_avg_sq"]
    v = xp.fma(neg_w2 * xp.sign(v - g2), g2, v)
    s["exp_avg"] = m
    s["exp_avg_sq"] = v
    return p + (-step_size) * m / (xp.sqrt(v) / bias_correction2_sq + eps)


def _adan_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2, b3 = float(hp["beta1"]), float(hp["beta2"]), float(hp["beta3"])
    c = (float(hp["lr"]), b1, b2, b3, 1.0 - b1, 1.0 - b2, 1.0 - b3, float(hp["eps"]), float(hp["weight_decay"]))
    zeros = _zeros(p, xp)
    return {"exp_avg": zeros, "exp_avg_sq": zeros, "exp_avg_diff": zeros, "previous_grad": zeros, "_c": c}


def _adan_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr, b1, b2, b3, w1, w2, w3, eps, wd = s["_c"]
    bias_correction1 = 1.0 - math.pow(b1, t)
    bias_correction2 = 1.0 - math.pow(b2, t)
    bias_correction3_sq = math.sqrt(1.0 - math.pow(b3, t))
    # The library starts previous_grad at -g (max_grad_norm=0: no clipping), so the first difference is 0.
    diff = (-g if t == 1 else s["previous_grad"]) + g
    m = _lerp(s["exp_avg"], g, w1, xp)
    m_diff = _lerp(s["exp_avg_diff"], diff, w2, xp)
    diff = diff * b2 + g
    v = xp.fma(w3 * diff, diff, s["exp_avg_sq"] * b3)
    s["exp_avg"] = m
    s["exp_avg_diff"] = m_diff
    s["exp_avg_sq"] = v
    s["previous_grad"] = -g
    denom = xp.sqrt(v) / bias_correction3_sq + eps
    p = p + (-lr / bias_correction1) * m / denom
    p = p + (-lr * b2 / bias_correction2) * m_diff / denom
    if wd != 0:  # weight_decouple=False: proximal decay after the step
        p = p / (1.0 + lr * wd)
    return p


# --- schedulefree ------------------------------------------------------------------------------------------------


def _schedule_free_weights(s: State, t: int, lr0: float, warmup: Value, r: float, power: float) -> tuple[float, float]:
    """The group-level schedule of `schedulefree` (k = t - 1): (scheduled lr, averaging weight ckp1)."""
    k = t - 1
    sched = (k + 1) / warmup if k < warmup else 1.0
    lr = lr0 * sched
    lr_max = s["lr_max"] = max(lr, s["lr_max"])
    weight = ((k + 1) ** r) * (lr_max**power)
    weight_sum = s["weight_sum"] = s["weight_sum"] + weight
    try:
        ckp1 = weight / weight_sum
    except ZeroDivisionError:
        ckp1 = 0
    return lr, ckp1


def _sf_adamw_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    b1, b2 = float(hp["beta1"]), float(hp["beta2"])
    c = (
        float(hp["lr"]),
        b1,
        b2,
        1.0 - b2,
        float(hp["eps"]),
        float(hp["weight_decay"]),
        hp["warmup_steps"],
        float(hp["r"]),
        float(hp["weight_lr_power"]),
    )
    return {"z": _copy(p), "exp_avg_sq": _zeros(p, xp), "lr_max": -1.0, "weight_sum": 0.0, "_c": c}


def _sf_adamw_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr0, b1, b2, w2, eps, decay, warmup, r, power = s["_c"]
    lr, ckp1 = _schedule_free_weights(s, t, lr0, warmup, r, power)
    bias_correction2 = 1 - b2**t
    fma = xp.fma
    v = fma(w2 * g, g, s["exp_avg_sq"] * b2)
    s["exp_avg_sq"] = v
    g = g / (xp.sqrt(v / bias_correction2) + eps)
    if decay != 0:
        g = fma(decay, p, g)
    z = s["z"]
    y = fma(lr * (b1 * (1 - ckp1) - 1), g, _lerp(p, z, ckp1, xp))
    s["z"] = fma(-lr, g, z)
    return y


def _sf_adamw_display(p: Any, s: State, hp: Hp, xp: SimpleNamespace) -> Any:
    """x, the averaged point: what `.eval()` writes into the parameter (`p.lerp_(z, 1 - 1/beta1)`)."""
    return _lerp(p, s["z"], 1 - 1 / s["_c"][1], xp)


def _sf_sgd_init(p: Any, hp: Hp, xp: SimpleNamespace) -> State:
    c = (
        float(hp["lr"]),
        float(hp["momentum"]),
        float(hp["weight_decay"]),
        hp["warmup_steps"],
        float(hp["r"]),
        float(hp["weight_lr_power"]),
    )
    return {"z": _copy(p), "lr_max": -1.0, "weight_sum": 0.0, "_c": c}


def _sf_sgd_step(p: Any, g: Any, s: State, t: int, hp: Hp, xp: SimpleNamespace) -> Any:
    lr0, mom, decay, warmup, r, power = s["_c"]
    lr, ckp1 = _schedule_free_weights(s, t, lr0, warmup, r, power)
    fma = xp.fma
    if decay != 0:
        g = fma(decay, p, g)
    z = s["z"]
    y = fma(lr * (mom * (1 - ckp1) - 1), g, _lerp(p, z, ckp1, xp))
    s["z"] = fma(-lr, g, z)
    return y


def _sf_sgd_display(p: Any, s: State, hp: Hp, xp: SimpleNamespace) -> Any:
    return _lerp(p, s["z"], 1 - 1 / s["_c"][1], xp)


def _rule(init: Callable, step: Callable, display: Callable | None = None) -> FastRule:
    return FastRule(init=init, step=step, display=display)


#: Registry name -> rule. Presets (momentum, nesterov, amsgrad, signum) use their base optimizer's rule.
FAST_RULES: dict[str, FastRule] = {
    "sgd": _rule(_sgd_init, _sgd_step),
    "adagrad": _rule(_adagrad_init, _adagrad_step),
    "rmsprop": _rule(_rmsprop_init, _rmsprop_step),
    "adadelta": _rule(_adadelta_init, _adadelta_step),
    "adam": _adam_rule(decoupled=False),
    "adamw": _adam_rule(decoupled=True),
    "adamax": _rule(_adamax_init, _adamax_step),
    "nadam": _rule(_nadam_init, _nadam_step),
    "radam": _rule(_radam_init, _radam_step),
    "rprop": _rule(_rprop_init, _rprop_step),
    "asgd": _rule(_asgd_init, _asgd_step),
    "lion": _rule(_lion_init, _lion_step),
    "ademamix": _rule(_ademamix_init, _ademamix_step),
    "adopt": _rule(_adopt_init, _adopt_step),
    "signsgd": _rule(_signsgd_init, _signsgd_step),
    "adabelief": _rule(_adabelief_init, _adabelief_step),
    "yogi": _rule(_yogi_init, _yogi_step),
    "adan": _rule(_adan_init, _adan_step),
    "schedulefree_adamw": _rule(_sf_adamw_init, _sf_adamw_step, _sf_adamw_display),
    "schedulefree_sgd": _rule(_sf_sgd_init, _sf_sgd_step, _sf_sgd_display),
}
