"""The pair rule for torch.optim.LBFGS as the registry builds it: `max_iter=1`, so one race step is one
`.step(closure)` with one iteration, and `max_eval = max_iter * 5 // 4 = 1`.

Transcribed from torch/optim/lbfgs.py line by line, every start masked on its own (`xp.where`), since starts part
ways: one whose gradient is below `tolerance_grad` returns at once (only `func_evals` counts the call), one whose
direction is not a descent direction (`gtd > -tolerance_change`) updates its state but does not move. torch's
2-element ops: `dot` is x0·y0 + x1·y1 (two roundings), `add_(v, alpha=a)` is fma(a, v, p).

With `line_search_fn="strong_wolfe"`, `_strong_wolfe` is called with `max_ls = max_eval - current_evals = 0`: it
evaluates the loss and gradient once at the trial step t and, with no iteration left, returns the lower of the two
bracket ends, so the step is taken when the trial loss is strictly lower than the current one (t = 0 otherwise),
and the closure has been called twice.

The library keeps its history in lists (`old_dirs`, `old_stps`, `ro`); ours rides on the state dict as an
attribute (`LbfgsState.history`), so the state's entries stay the library's numeric ones, comparable one to one.
Python lists of (y, s, ro) per start on floats; on numpy, (history_size, M) arrays in the library's order, oldest
first, with a count per start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from optviz.core.mathlib import _fma_scalar
from optviz.core.optimizers.fast_rules.ops import Hp, num
from optviz.core.optimizers.spec import PairRule, SurfaceProbe

# torch.optim.LBFGS defaults the registry does not expose.
TOLERANCE_GRAD = 1e-7
TOLERANCE_CHANGE = 1e-9
CURVATURE_MIN = 1e-10  # `if ys > 1e-10`: pairs with less curvature are not stored


class LbfgsState(dict):
    """The state dict (library names: d, t, H_diag, prev_flat_grad, prev_loss, n_iter, func_evals) with the
    (y, s, ro) history as an attribute."""

    __slots__ = ("history",)


class _ListHistory:
    """One start's history on floats: a ring of (y0, y1, s0, s1, ro) rows, `count` of them from `first`, oldest
    first, stepped through by the compiled two-loop recursion (`_compiled_two_loop`)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = np.zeros((size, 5))
        self.first = 0
        self.count = 0

    def reset(self, mask: bool) -> None:
        if mask:
            self.first = self.count = 0

    def push(self, mask: bool, y0: float, y1: float, s0: float, s1: float, ro: float) -> None:
        if mask:
            if self.count == self.size:  # the library's `old_dirs.pop(0)`
                self.first = (self.first + 1) % self.size
                self.count -= 1
            self.data[(self.first + self.count) % self.size] = (y0, y1, s0, s1, ro)
            self.count += 1

    def two_loop(self, q0: float, q1: float, h_diag: float, xp: Any) -> tuple[float, float]:
        return _compiled_two_loop()(self.data, self.first, self.count, q0, q1, h_diag)


def _two_loop_kernel(
    data: np.ndarray, first: int, count: int, q0: float, q1: float, h_diag: float
) -> tuple[float, float]:
    """The two-loop recursion for one start over its ring of pairs (`_ListHistory`, or one start's rows of
    `_ArrayHistory`), to be compiled; the fma is mathlib's `_fma_scalar`, compiled."""
    size = data.shape[0]
    al = np.empty(count)
    for i in range(count - 1, -1, -1):
        row = data[(first + i) % size]
        a = (row[2] * q0 + row[3] * q1) * row[4]
        al[i] = a
        q0, q1 = _compiled_fma(-a, row[0], q0), _compiled_fma(-a, row[1], q1)
    r0, r1 = q0 * h_diag, q1 * h_diag
    for i in range(count):
        row = data[(first + i) % size]
        c = al[i] - (row[0] * r0 + row[1] * r1) * row[4]
        r0, r1 = _compiled_fma(c, row[2], r0), _compiled_fma(c, row[3], r1)
    return r0, r1


def _batch_two_loop_kernel(
    data: np.ndarray, first: np.ndarray, count: np.ndarray, q0s: np.ndarray, q1s: np.ndarray, h_diag: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`_two_loop_kernel` for every start of a batch, each over its own ring (data[m]), to be compiled."""
    m_count = data.shape[0]
    r0s, r1s = np.empty(m_count), np.empty(m_count)
    for m in range(m_count):
        r0s[m], r1s[m] = _compiled_single(data[m], first[m], count[m], q0s[m], q1s[m], h_diag[m])
    return r0s, r1s


# numba's compiled `_fma_scalar` and `_two_loop_kernel`, which the kernels call: set by `_compiled_two_loop`.
_compiled_fma: Any = None
_compiled_single: Any = None


@functools.cache
def _compiled_two_loop() -> Callable[..., tuple[float, float]]:
    """`_two_loop_kernel` compiled by numba: up to 100 pairs x 4 fused multiply-adds per race step, which Python
    3.11 (no `math.fma`) can only emulate at ~0.3 µs each, so the interpreted loop took ~100 µs a step. Compiled,
    the same IEEE operations run natively (numba fuses and reassociates nothing without fastmath), so the result
    is the interpreted one's, held to the library by tests/core/test_pair_rules.py. Compiled on first use and
    cached on disk (~2 s once, then a load)."""
    global _compiled_fma, _compiled_single
    import numba  # here: only L-BFGS needs it, and its import costs ~0.3 s

    _compiled_fma = numba.njit(cache=True)(_fma_scalar)
    _compiled_single = numba.njit(cache=True)(_two_loop_kernel)
    return _compiled_single


@functools.cache
def _compiled_batch_two_loop() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """`_batch_two_loop_kernel` compiled by numba (see `_compiled_two_loop`): the interpreted numpy recursion
    ran 2 x history_size masked steps of (M,) arrays per race step, ~40 ms for 4,096 starts and 100 pairs;
    compiled, each start walks only its own pairs."""
    _compiled_two_loop()  # sets the compiled pieces the batch kernel calls
    import numba

    return numba.njit(cache=True)(_batch_two_loop_kernel)


class _ArrayHistory:
    """M starts' histories: a ring of (y0, y1, s0, s1, ro) rows per start (`data[m]`), `count[m]` of them from
    `first[m]`, oldest first, as `_ListHistory` keeps one start's."""

    def __init__(self, size: int, m_count: int) -> None:
        self.size = size
        self.first = np.zeros(m_count, dtype=np.intp)
        self.count = np.zeros(m_count, dtype=np.intp)
        self.data = np.zeros((m_count, size, 5))

    def reset(self, mask: np.ndarray) -> None:
        self.first = np.where(mask, 0, self.first)
        self.count = np.where(mask, 0, self.count)

    def push(self, mask: np.ndarray, *pair: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        first, count = self.first[rows], self.count[rows]
        full = count == self.size  # the library's `old_dirs.pop(0)`: the ring drops its oldest pair
        first = np.where(full, (first + 1) % self.size, first)
        count = np.where(full, count - 1, count)
        self.data[rows, (first + count) % self.size] = np.stack(
            [np.broadcast_to(p, mask.shape)[rows] for p in pair], axis=-1
        )
        self.first[rows], self.count[rows] = first, count + 1

    def two_loop(self, q0: np.ndarray, q1: np.ndarray, h_diag: Any, xp: Any) -> tuple[np.ndarray, np.ndarray]:
        rows = len(self.count)
        q0, q1, h_diag = (
            np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), (rows,))) for v in (q0, q1, h_diag)
        )
        return _compiled_batch_two_loop()(self.data, self.first, self.count, q0, q1, h_diag)


def lbfgs(hp: Hp) -> PairRule:
    """torch.optim.LBFGS with max_iter=1 (tolerance_grad=1e-7, tolerance_change=1e-9: torch's defaults)."""
    lr = num(hp["lr"])  # a number, or per-run values (the step length is picked per start with `where`)
    history_size = int(hp["history_size"])
    wolfe = hp["line_search_fn"] == "strong_wolfe"

    def init(x: Any, y: Any, probe: SurfaceProbe) -> dict[str, Any]:
        xp = probe.xp
        state = LbfgsState(func_evals=xp.full_like(x, 0.0), n_iter=xp.full_like(x, 0.0))
        state.history = _ListHistory(history_size) if xp.name == "scalar" else _ArrayHistory(history_size, len(x))
        return state

    def step(x: Any, y: Any, gx: Any, gy: Any, s: dict[str, Any], t: int, probe: SurfaceProbe) -> tuple[Any, Any]:
        xp = probe.xp
        where = xp.where
        scalar = xp.name == "scalar"
        history = s.history  # type: ignore[attr-defined]
        loss = probe.loss(x, y)
        s["func_evals"] = s["func_evals"] + 1.0
        # `flat_grad.abs().max() <= tolerance_grad` returns at once (a NaN gradient does not).
        optimal = (xp.abs(gx) <= TOLERANCE_GRAD) & (xp.abs(gy) <= TOLERANCE_GRAD)
        active = (not optimal) if scalar else ~optimal
        if scalar and not active:
            return x, y
        n_iter = where(active, s["n_iter"] + 1.0, s["n_iter"])
        first = active & (n_iter == 1.0)
        if "d" not in s:  # the library's entries appear with the first iteration
            s.update(d=(-gx, -gy), t=0.0, H_diag=1.0, prev_flat_grad=(gx, gy), prev_loss=loss)
        # Direction: steepest descent on the first iteration, else the two-loop recursion over the history.
        dx, dy = s["d"]
        px, py = s["prev_flat_grad"]
        yx, yy = gx - px, gy - py
        sx, sy = dx * s["t"], dy * s["t"]
        ys = yx * sx + yy * sy
        store = active & ~first & (ys > CURVATURE_MIN) if not scalar else (active and not first and ys > CURVATURE_MIN)
        history.reset(first)
        history.push(store, yx, yy, sx, sy, 1.0 / where(store, ys, 1.0))
        h_diag = where(first, 1.0, where(store, ys / where(store, yx * yx + yy * yy, 1.0), s["H_diag"]))
        rx, ry = history.two_loop(-gx, -gy, h_diag, xp)
        dx, dy = where(first, -gx, rx), where(first, -gy, ry)
        # Step length: min(1, 1/‖g‖₁)·lr on the first iteration, else lr.
        inv_l1 = 1.0 / where(first, xp.abs(gx) + xp.abs(gy), 1.0)
        step_t = where(first, where(inv_l1 < 1.0, inv_l1, 1.0) * lr, lr)
        gtd = gx * dx + gy * dy
        moving = active & ~(gtd > -TOLERANCE_CHANGE) if not scalar else (active and not (gtd > -TOLERANCE_CHANGE))
        if wolfe:
            tx, ty = xp.fma(step_t, dx, x), xp.fma(step_t, dy, y)
            trial_loss = probe.loss(tx, ty)
            # `_strong_wolfe` with max_ls=0 keeps the bracket end with the lower loss: 0 unless f_new < f.
            step_t = where(loss <= trial_loss, 0.0, step_t)
            s["func_evals"] = where(moving, s["func_evals"] + 1.0, s["func_evals"])
        s["n_iter"] = n_iter
        s["d"] = (where(active, dx, s["d"][0]), where(active, dy, s["d"][1]))
        s["t"] = where(active, step_t, s["t"])
        s["H_diag"] = where(active, h_diag, s["H_diag"])
        s["prev_flat_grad"] = (where(active, gx, px), where(active, gy, py))
        s["prev_loss"] = where(active, loss, s["prev_loss"])
        return where(moving, xp.fma(step_t, dx, x), x), where(moving, xp.fma(step_t, dy, y), y)

    return PairRule(init=init, step=step)
