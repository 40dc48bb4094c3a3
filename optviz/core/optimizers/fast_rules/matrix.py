"""Pair rules for optimizers that precondition or orthogonalise with small matrices: a surface point is one
2-vector (Shampoo, SOAP: 2 x 2 preconditioners) or a 1 x 2 matrix (Muon: Newton-Schulz), so every matrix
function is written out on its few entries, each an expression in floats or (M,) columns (see `PairRule`).

Some of these libraries compute in lower precision than the float64 parameters (Muon's Newton-Schulz runs in
bfloat16); the rules round where the library rounds (`_f32`, `_bf16`), so they match it to float64 round-off.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from optviz.core.mathlib import SCALAR
from optviz.core.optimizers.fast_rules.ops import (
    Hp,
    State,
    bias_correction,
    decoupled_decay,
    f32,
    lerp,
    num,
    on,
    sqrt_num,
)
from optviz.core.optimizers.spec import PairRule, SurfaceProbe

# --- Rounding to float32 and bfloat16, on floats and numpy arrays alike -------------------------------------

_F32_BITS = struct.Struct("<f")
_U32_BITS = struct.Struct("<I")
#: Veltkamp's splitters: c = S·v; c - (c - v) is v rounded to nearest (ties to even) on 24 or 8 bits.
_SPLIT_F32 = 2.0**29 + 1.0
_SPLIT_BF16 = 2.0**45 + 1.0
#: Where the splitters round as float32 does: float32's normal range, below where it rounds up to inf.
_NORMAL_LOW, _NORMAL_HIGH = 2.0**-126, 2.0**127


def _f32_scalar(v: float) -> float:
    """A float rounded to float32 (round to nearest even), kept as a float."""
    if _NORMAL_LOW <= abs(v) < _NORMAL_HIGH:
        c = v * _SPLIT_F32
        return c - (c - v)
    return f32(v)  # zero, subnormal, overflow, NaN: the exact conversion


def _bf16_bits(v: float) -> float:
    (u,) = _U32_BITS.unpack(_F32_BITS.pack(f32(v)))
    if (u & 0x7F800000) != 0x7F800000:  # NaN and inf are left alone
        u = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000) & 0xFFFFFFFF
    return _F32_BITS.unpack(_U32_BITS.pack(u))[0]


def _bf16_scalar(v: float) -> float:
    """A float rounded to float32, then to bfloat16 (both round to nearest even), as torch's `.bfloat16()` and
    its bfloat16 kernels (which compute in float32 and round the result) round."""
    if _NORMAL_LOW <= abs(v) < _NORMAL_HIGH:
        c = v * _SPLIT_F32
        v = c - (c - v)
        c = v * _SPLIT_BF16
        return c - (c - v)
    return _bf16_bits(v)


def _f32(v: Any, xp: SimpleNamespace) -> Any:
    """v rounded to float32 (round to nearest even), kept as float64."""
    if xp.name == "numpy":
        with np.errstate(over="ignore"):
            return np.asarray(v, dtype=np.float64).astype(np.float32).astype(np.float64)
    return _f32_scalar(v)


def _bf16(v: Any, xp: SimpleNamespace) -> Any:
    """v rounded to float32, then to bfloat16 (see `_bf16_scalar`), kept as float64."""
    if xp.name != "numpy":
        return _bf16_scalar(v)
    v = np.asarray(v, dtype=np.float64)
    magnitude = np.abs(v)
    if ((magnitude >= _NORMAL_LOW) & (magnitude < _NORMAL_HIGH)).all():
        c = v * _SPLIT_F32
        v = c - (c - v)
        c = v * _SPLIT_BF16
        return c - (c - v)
    with np.errstate(over="ignore"):
        u = v.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return np.where((u & 0x7F800000) != 0x7F800000, rounded, u).astype(np.uint32).view(np.float32).astype(np.float64)


# --- Muon -----------------------------------------------------------------------------------------------------

#: torch.optim.Muon's defaults that the registry does not expose.
_MUON_NS = (3.4445, -4.7750, 2.0315)
_MUON_EPS = 1e-7


def _muon_normalize(x0: Any, x1: Any, xp: SimpleNamespace) -> tuple[Any, Any]:
    """The start of `torch.optim._muon._zeropower_via_newtonschulz` on a 1 x 2 matrix [x0, x1]: to bfloat16, then
    divided by its norm clamped at eps. The library works in bfloat16: each op computes in float32 and rounds
    its result to bfloat16."""
    x0, x1 = _bf16(x0, xp), _bf16(x1, xp)
    norm = _bf16(xp.sqrt(_f32(x0 * x0 + x1 * x1, xp)), xp)  # .norm(): float32 sum of exact squares, sqrt
    norm = xp.maximum(norm, _bf16(_MUON_EPS, xp))  # .clamp(min=eps): eps as a bfloat16
    return _bf16(x0 / norm, xp), _bf16(x1 / norm, xp)


def _muon_iterate(x0: Any, x1: Any, steps: int, xp: SimpleNamespace) -> tuple[Any, Any]:
    """The Newton-Schulz iterations of `_zeropower_via_newtonschulz` on a normalised 1 x 2 bfloat16 matrix.

    With one row, X Xᵀ is the 1 x 1 matrix s = x0² + x1², so each iteration is X ← a·X + (b·s + c·s²)·X.
    """
    a, b, c = (f32(v) for v in _MUON_NS)  # addmm's alpha and beta, as float32 (the kernels' compute type)
    for _ in range(steps):
        s = _bf16(x0 * x0 + x1 * x1, xp)  # X @ X.T: float32 sum of exact products
        # addmm(s, s, s, beta=b, alpha=c) = b·s + c·(s·s); s·s and gu·x are exact in float32
        gu = _bf16(_f32(b * s, xp) + _f32(c * (s * s), xp), xp)
        # addmm(X, gu, X, beta=a) = a·X + gu·X
        x0 = _bf16(_f32(a * x0, xp) + gu * x0, xp)
        x1 = _bf16(_f32(a * x1, xp) + gu * x1, xp)
    return x0, x1


def _muon_iterate_scalar(x0: float, x1: float, steps: int) -> tuple[float, float]:
    """`_muon_iterate` on floats with the roundings written out (each a Veltkamp split: `_SPLIT_F32` rounds to
    float32, `_SPLIT_BF16` a float32 on to bfloat16), where every value stays in float32's normal range: zero or
    at least 2⁻⁴⁰ in, so squares and products stay far above 2⁻¹²⁶; s stays near 1."""
    if not all(v == 0.0 or 2.0**-40 <= abs(v) <= 2.0 for v in (x0, x1)):
        return _muon_iterate(x0, x1, steps, SCALAR)
    a, b, c = (f32(v) for v in _MUON_NS)
    sf, sb = _SPLIT_F32, _SPLIT_BF16
    for _ in range(steps):
        v = x0 * x0 + x1 * x1
        h = v * sf
        v = h - (h - v)
        h = v * sb
        s = h - (h - v)
        u = b * s
        h = u * sf
        u = h - (h - u)
        w = c * (s * s)
        h = w * sf
        w = h - (h - w)
        v = u + w
        h = v * sf
        v = h - (h - v)
        h = v * sb
        gu = h - (h - v)
        u = a * x0
        h = u * sf
        u = h - (h - u)
        v = u + gu * x0
        h = v * sf
        v = h - (h - v)
        h = v * sb
        n0 = h - (h - v)
        u = a * x1
        h = u * sf
        u = h - (h - u)
        v = u + gu * x1
        h = v * sf
        v = h - (h - v)
        h = v * sb
        x0, x1 = n0, h - (h - v)
    return x0, x1


def muon(hp: Hp) -> PairRule:
    """torch.optim's `Muon` on a 1 x 2 parameter (default ns_coefficients, eps and adjust_lr_fn).

    The update B̃ goes through Newton-Schulz in bfloat16 (`_muon_normalize`, `_muon_iterate`); the learning rate's shape
    adjustment sqrt(max(1, rows/cols)) is 1 for one row.
    """
    lr = num(hp["lr"])  # each a number, or an array of per-run values (no branch depends on them)
    weight_decay = num(hp["weight_decay"])
    momentum = num(hp["momentum"])
    nesterov = bool(hp["nesterov"])
    ns_steps = int(hp["ns_steps"])
    adjusted_lr = lr * math.sqrt(max(1, 1 / 2))
    decay = 1 - lr * weight_decay

    @functools.lru_cache(maxsize=1 << 16)
    def iterate(x0: float, x1: float) -> tuple[float, float]:
        # On floats the iterations are a pure function of two bfloat16 numbers near the unit circle: remember it.
        return _muon_iterate_scalar(x0, x1, ns_steps)

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        return {"momentum_buffer": (zero, zero)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        bx, by = s["momentum_buffer"]
        bx, by = lerp(bx, gx, 1 - momentum, xp), lerp(by, gy, 1 - momentum, xp)
        s["momentum_buffer"] = (bx, by)
        ux, uy = (lerp(gx, bx, momentum, xp), lerp(gy, by, momentum, xp)) if nesterov else (bx, by)
        nx, ny = _muon_normalize(ux, uy, xp)
        ox, oy = _muon_iterate(nx, ny, ns_steps, xp) if xp.name == "numpy" else iterate(nx, ny)
        return xp.fma(-adjusted_lr, ox, x * decay), xp.fma(-adjusted_lr, oy, y * decay)

    return PairRule(init=init, step=step)


# --- 2 x 2 decompositions as the library computes them -----------------------------------------------------
#
# Shampoo's SVD and SOAP's eigh and QR are LAPACK calls (gesdd, syevd, geqrf/orgqr in torch's CPU build), whose
# rounding no closed form reproduces: on the near-rank-one matrices these optimizers accumulate, the library's
# own SVD differs from the exact one by far more than the test's 1e-9. So the rules call the same torch
# function on a batch of 2 x 2 matrices (torch loops over the batch calling LAPACK on each, bit for bit what
# one call on that matrix gives) and do everything around it, the small matrix products included, in our
# arithmetic, rounded as torch's CPU kernels round (`_mm_entry`).


def _mm_entry(a0: Any, b0: Any, a1: Any, b1: Any, xp: SimpleNamespace) -> Any:
    """One entry a0·b0 + a1·b1 of a small matrix product with the second product fused onto the rounded first
    (SOAP's float32 products; tested on 2 x 2 and 1 x 2 products of random matrices)."""
    return xp.fma(a1, b1, a0 * b0)


@functools.cache
def torch_fuses() -> dict[str, bool]:
    """Whether torch's CPU kernels fuse the last product of Shampoo's small float64 products, by operation:
    `addmm` (C + a·b, inner size 1), `mm` (2 x 2 @ 2 x 2) and `vm` (1 x 2 @ 2 x 2). MKL picks its kernel by
    CPU: fused on some (Intel's), both products rounded on others (AMD's), so it is probed here once, on random
    values, instead of assumed. An operation that matches neither form keeps the fused one (the truth tests
    then say so)."""
    import torch

    rng = np.random.default_rng(0)
    fused = {"addmm": True, "mm": True, "vm": True}
    plain = dict(fused)
    for _ in range(64):
        c, a, b = (torch.from_numpy(rng.standard_normal(shape)) for shape in ((2, 2), (2, 2), (2, 2)))
        col = a[:, :1]
        cases = {
            "addmm": (
                c.clone().addmm_(col, col.t())[0, 1].item(),
                (c[0, 1].item(), col[0, 0].item(), col[1, 0].item()),
            ),
            "mm": ((a @ b)[1, 0].item(), (a[1, 0].item(), b[0, 0].item(), a[1, 1].item(), b[1, 0].item())),
            "vm": ((a[:1] @ b)[0, 1].item(), (a[0, 0].item(), b[0, 1].item(), a[0, 1].item(), b[1, 1].item())),
        }
        for op, (got, args) in cases.items():
            if op == "addmm":
                c0, x, y = args
                fused[op] &= got == SCALAR.fma(x, y, c0)
                plain[op] &= got == c0 + x * y
            else:
                a0, b0, a1, b1 = args
                fused[op] &= got == SCALAR.fma(a1, b1, a0 * b0)
                plain[op] &= got == a0 * b0 + a1 * b1
    return {op: fused[op] or not plain[op] for op in fused}


def _torch_mm(a0: Any, b0: Any, a1: Any, b1: Any, xp: SimpleNamespace, fuse: bool) -> Any:
    """One entry a0·b0 + a1·b1 of a small float64 product, as `torch_fuses` found torch computes it here."""
    return xp.fma(a1, b1, a0 * b0) if fuse else a0 * b0 + a1 * b1


class _Decomposition:
    """torch.linalg's `name` (svd without full matrices, eigh, qr) of 2 x 2 matrices, computed in float32 where
    `float32`: `self(matrix, xp)` takes the four entries (floats for one matrix, (M,) columns for M) and gives
    each output as a tuple of entries in the same form.

    A matrix with a non-finite entry makes LAPACK fail: on floats that raises, as the library raises; in a batch
    that row's outputs are NaN. One per rule (it keeps scratch tensors for the single-start path, where the
    call is most of a step's cost: buffers shared with numpy instead of a tensor made and read each step).
    """

    def __init__(self, name: str, float32: bool = False) -> None:
        import torch  # here: the race imports torch only for the rules that decompose

        self.name = name
        self.torch = torch
        self.function = (
            functools.partial(torch.linalg.svd, full_matrices=False) if name == "svd" else getattr(torch.linalg, name)
        )
        self.dtype = torch.float32 if float32 else torch.float64
        self.buffer = np.zeros((2, 2), dtype=np.float32 if float32 else np.float64)
        self.tensor: Any = None
        self.outputs: tuple[Any, ...] | None = None
        self.views: tuple[np.ndarray, ...] = ()

    def __call__(self, matrix: tuple[Any, ...], xp: SimpleNamespace) -> Sequence[Sequence[Any]]:
        if xp.name != "numpy":
            return self._one(matrix)
        rows = len(np.broadcast_arrays(*matrix)[0])
        batch = np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (rows,)) for v in matrix], -1)
        batch = batch.reshape(rows, 2, 2)
        finite = np.isfinite(batch).all(axis=(1, 2))
        if not finite.all():
            batch[~finite] = np.eye(2)
        outputs = self.function(self.torch.from_numpy(batch).to(self.dtype))
        result = []
        for out in outputs:
            values = out.to(self.torch.float64).numpy().reshape(rows, -1).copy()
            values[~finite] = np.nan
            result.append(tuple(values.T))
        return tuple(result)

    def _one(self, matrix: tuple[float, ...]) -> list[list[float]]:
        buffer = self.buffer
        buffer[0, 0], buffer[0, 1], buffer[1, 0], buffer[1, 1] = matrix
        try:
            if self.outputs is None:
                self.tensor = self.torch.from_numpy(buffer)
                self.outputs = tuple(out.contiguous() for out in self.function(self.tensor))
                self.views = tuple(out.numpy().reshape(-1) for out in self.outputs)
            else:
                self.function(self.tensor, out=self.outputs)  # rewritten in place: `views` see the result
        except RuntimeError as exc:  # torch's LinAlgError: a non-finite entry, as the library meets it
            raise FloatingPointError(str(exc)) from None
        return [view.tolist() for view in self.views]


# --- Shampoo --------------------------------------------------------------------------------------------------


def _inverse_square_root(matrix: tuple[Any, ...], svd: _Decomposition, xp: SimpleNamespace) -> tuple[Any, ...]:
    """pytorch_optimizer's `compute_power_svd(matrix, 2)`: U·diag(s^(-1/2))·Vᴴ from torch's SVD. torch's
    `pow(-0.5)` is 1/sqrt (tested)."""
    (u00, u01, u10, u11), (s0, s1), (v00, v01, v10, v11) = svd(matrix, xp)
    r0, r1 = 1.0 / xp.sqrt(s0), 1.0 / xp.sqrt(s1)
    a00, a01, a10, a11 = u00 * r0, u01 * r1, u10 * r0, u11 * r1  # u * s.unsqueeze(-2)
    fuse = torch_fuses()["mm"]
    return (
        _torch_mm(a00, v00, a01, v10, xp, fuse),
        _torch_mm(a00, v01, a01, v11, xp, fuse),
        _torch_mm(a10, v00, a11, v10, xp, fuse),
        _torch_mm(a10, v01, a11, v11, xp, fuse),
    )


def shampoo(hp: Hp) -> PairRule:
    """pytorch_optimizer's `Shampoo` on one 2-vector (coupled weight decay, a preconditioner every step): one
    2 x 2 statistic L ← L + ggᵀ, and the step is lr · gᵀ L^(-1/2)."""
    lr, momentum = num(hp["lr"]), num(hp["momentum"])  # each a number, or an array of per-run values
    weight_decay, matrix_eps = num(hp["weight_decay"]), num(hp["matrix_eps"])
    with_momentum, with_decay = on(momentum), on(weight_decay)  # every run of a batch agrees (per_run.py)
    svd = _Decomposition("svd")
    fuse = torch_fuses()

    def addmm(c: Any, a: Any, b: Any, xp: SimpleNamespace) -> Any:
        return xp.fma(a, b, c) if fuse["addmm"] else c + a * b

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        eps = zero + matrix_eps  # torch.eye(2).mul_(matrix_eps)
        return {"pre_cond_0": (eps, zero, zero, eps), "inv_pre_cond_0": (zero, zero, zero, zero)}

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        if with_momentum and t > 1:  # at t = 1 the buffer is a copy of the gradient: lerp leaves it as it is
            bx, by = s["momentum_buffer"]
            gx, gy = lerp(gx, bx, momentum, xp), lerp(gy, by, momentum, xp)
        if with_decay:
            gx, gy = xp.fma(weight_decay, x, gx), xp.fma(weight_decay, y, gy)
        l00, l01, _, l11 = s["pre_cond_0"]
        off = addmm(l01, gx, gy, xp)  # addmm_: L stays symmetric, l01 = l10 and gx·gy = gy·gx
        pre = (addmm(l00, gx, gx, xp), off, off, addmm(l11, gy, gy, xp))
        inv = _inverse_square_root(pre, svd, xp)
        vm = fuse["vm"]
        ux, uy = _torch_mm(gx, inv[0], gy, inv[2], xp, vm), _torch_mm(gx, inv[1], gy, inv[3], xp, vm)  # gᵀ @ inv
        s["pre_cond_0"], s["inv_pre_cond_0"], s["momentum_buffer"] = pre, inv, (ux, uy)
        return xp.fma(-lr, ux, x), xp.fma(-lr, uy, y)

    return PairRule(init=init, step=step)


# --- SOAP -----------------------------------------------------------------------------------------------------


def _project(vx: Any, vy: Any, q: tuple[Any, ...], xp: SimpleNamespace) -> tuple[Any, Any]:
    """SOAP's forward projection `tensordot(v, Q, dims=[[0], [0]])`, vᵀQ: torch sums the two products rounded
    (no fusing on this path, tested)."""
    return vx * q[0] + vy * q[2], vx * q[1] + vy * q[3]


def _project_back(vx: Any, vy: Any, q: tuple[Any, ...], xp: SimpleNamespace) -> tuple[Any, Any]:
    """SOAP's backward projection `tensordot(v, Q, dims=[[0], [1]])`, Qv: the second product fused (tested)."""
    return _mm_entry(vx, q[0], vy, q[1], xp), _mm_entry(vx, q[2], vy, q[3], xp)


def soap(hp: Hp) -> PairRule:
    """pytorch_optimizer's `SOAP` on one 2-vector (bias correction on, gradient not normalised, shampoo_beta =
    beta2 as the library defaults it): Adam in the eigenbasis Q of the running statistic GG = EMA(ggᵀ) when
    precondition_1d is on, plain Adam otherwise.

    The first step only sets up (GG, and Q from torch's eigh, columns reversed); the point moves from the
    second. Every `precondition_frequency` steps Q is refreshed by one power iteration and a float32 QR, with
    the second moments reordered by the estimated eigenvalues, as the library does.
    """
    lr, beta1, beta2 = num(hp["lr"]), num(hp["beta1"]), num(hp["beta2"])
    eps, weight_decay = num(hp["eps"]), num(hp["weight_decay"])
    frequency = int(hp["precondition_frequency"])
    precondition = bool(hp["precondition_1d"])
    with_decay = on(weight_decay)
    eigh, qr = _Decomposition("eigh"), _Decomposition("qr", float32=True)

    def accumulate(gg: tuple[Any, ...], gx: Any, gy: Any, xp: SimpleNamespace) -> tuple[Any, ...]:
        # GG.lerp_(g gᵀ, 1 - shampoo_beta); the outer product's entries are single products
        w, cross = 1.0 - beta2, gx * gy
        return (
            lerp(gg[0], gx * gx, w, xp),
            lerp(gg[1], cross, w, xp),
            lerp(gg[2], cross, w, xp),
            lerp(gg[3], gy * gy, w, xp),
        )

    def init(x: Any, y: Any, probe: SurfaceProbe) -> State:
        zero = probe.xp.full_like(x, 0.0)
        return {
            "exp_avg": (zero, zero),
            "exp_avg_sq": (zero, zero),
            "precondition_frequency": frequency,
            "shampoo_beta": beta2,
        }

    def refresh(s: State, xp: SimpleNamespace) -> None:
        """`get_orthogonal_matrix_qr`: one power iteration GG·Q, columns sorted by estimated eigenvalue."""
        g, q = s["GG"], s["Q"]
        mp = (
            _mm_entry(g[0], q[0], g[1], q[2], xp),
            _mm_entry(g[0], q[1], g[1], q[3], xp),
            _mm_entry(g[2], q[0], g[3], q[2], xp),
            _mm_entry(g[2], q[1], g[3], q[3], xp),
        )
        est0, est1 = q[0] * mp[0] + q[2] * mp[2], q[1] * mp[1] + q[3] * mp[3]  # (Q * GG·Q).sum(dim=0)
        vx, vy = s["exp_avg_sq"]
        if xp.name == "numpy":
            swap = est1 > est0  # argsort descending; ties keep their order
            pick = lambda a, b: np.where(swap, b, a)  # noqa: E731
            s["exp_avg_sq"] = (pick(vx, vy), pick(vy, vx))
            power = (pick(mp[0], mp[1]), pick(mp[1], mp[0]), pick(mp[2], mp[3]), pick(mp[3], mp[2]))
        elif est1 > est0:
            s["exp_avg_sq"] = (vy, vx)
            power = (mp[1], mp[0], mp[3], mp[2])
        else:
            power = mp
        s["Q"] = tuple(qr(power, xp)[0])

    def step(x: Any, y: Any, gx: Any, gy: Any, s: State, t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        if t == 1:  # init_group: the statistic and its eigenbasis, then `continue`
            if precondition:
                zero = xp.full_like(x, 0.0)
                gg = s["GG"] = accumulate((zero, zero, zero, zero), gx, gy, xp)
                q = eigh((gg[0] + 1e-30, gg[1], gg[2], gg[3] + 1e-30), xp)[1]  # m + 1e-30·I
                s["Q"] = (q[1], q[0], q[3], q[2])  # torch.flip(q, dims=[1])
            return x, y
        k = t - 1  # the library's step count lags one behind
        step_size = lr * (sqrt_num(bias_correction(beta2, k)) / bias_correction(beta1, k))
        mx, my = s["exp_avg"]
        vx, vy = s["exp_avg_sq"]
        px, py = _project(gx, gy, s["Q"], xp) if precondition else (gx, gy)
        mx, my = lerp(mx, gx, 1.0 - beta1, xp), lerp(my, gy, 1.0 - beta1, xp)
        vx, vy = lerp(vx, px * px, 1.0 - beta2, xp), lerp(vy, py * py, 1.0 - beta2, xp)
        s["exp_avg"], s["exp_avg_sq"] = (mx, my), (vx, vy)
        ex, ey = _project(mx, my, s["Q"], xp) if precondition else (mx, my)
        nx, ny = ex / (xp.sqrt(vx) + eps), ey / (xp.sqrt(vy) + eps)
        if precondition:
            nx, ny = _project_back(nx, ny, s["Q"], xp)
        x, y = xp.fma(-step_size, nx, x), xp.fma(-step_size, ny, y)
        if with_decay:
            x, y = decoupled_decay(x, lr, weight_decay), decoupled_decay(y, lr, weight_decay)
        if precondition:
            s["GG"] = accumulate(s["GG"], gx, gy, xp)
            if k % frequency == 0:
                refresh(s, xp)
        return x, y

    return PairRule(init=init, step=step)
