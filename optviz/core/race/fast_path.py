"""Our batched engine: the registry's fast rules (hyperparameters bound) stepped on floats or numpy arrays.

Same trajectories as the library (tests/core/test_race_truth.py holds every rule to 1e-9 in float64), at a
fraction of the cost: one start runs on plain Python floats (a slider drag re-simulates 1,000 steps in a few
milliseconds), many starts as one (M, 2) numpy array. An elementwise `FastRule` steps each coordinate on its
own (floats) or the whole (M, 2) array; a `PairRule` gets the two coordinates as floats or (M,) columns.
"""

from __future__ import annotations

import numpy as np

from optviz.core.mathlib import NUMPY, SCALAR
from optviz.core.optimizers.spec import FastRule, PairRule
from optviz.core.race.clip import Clip
from optviz.core.race.gradient_filter import GradientFilter, make_filter
from optviz.core.race.perturb import GradientPlan
from optviz.core.race.probe import RaceProbe
from optviz.core.surfaces.base import Surface

# Python's float maths raises where numpy returns inf or NaN; on the scalar path these mean "diverged here".
_SCALAR_ERRORS = (ArithmeticError, ValueError)
_CHECK_EVERY = 32  # numpy path: how often to look whether every run has gone bad, to stop early


def run_fast(
    rule: FastRule | PairRule,
    surface: Surface,
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    far: float,
    seed: int = 0,
    plan: GradientPlan | None = None,
    clip: Clip | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Positions (M, steps+1, 2) and an error message per start, like `run_library`. `plan` (drawn for these
    starts) and `clip` act on each gradient after the noise (`gradient_filter.py`)."""
    xp = SCALAR if len(starts) == 1 else NUMPY
    filt = make_filter(plan, clip, xp)
    if isinstance(rule, PairRule):
        probe = RaceProbe(surface, xp, seed, filt)
        if len(starts) == 1:
            return _run_pair_scalar(rule, probe, starts[0], steps, noise, far)
        return _run_pair_numpy(rule, probe, starts, steps, noise, far)
    if len(starts) == 1:
        return _run_scalar(rule, surface, starts[0], steps, None if noise is None else noise[0], far, filt)
    return _run_numpy(rule, surface, starts, steps, noise, far, filt)


def _run_scalar(
    rule: FastRule,
    surface: Surface,
    start: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    far: float,
    filt: GradientFilter | None,
) -> tuple[np.ndarray, list[str]]:
    out = np.full((1, steps + 1, 2), np.nan)
    out[0, 0] = start
    x, y = float(start[0]), float(start[1])
    # Each coordinate is its own elementwise problem: one state per coordinate.
    sx, sy = rule.init(x, SCALAR), rule.init(y, SCALAR)
    grad, step, display = surface.grad, rule.step, rule.display
    nz = noise.tolist() if noise is not None else None
    drawn: list[tuple[float, float]] = []
    error = ""
    try:
        for t in range(1, steps + 1):
            gx, gy = grad(x, y, SCALAR)
            if nz is not None:
                gx += nz[t - 1][0]
                gy += nz[t - 1][1]
            if filt is not None:
                filt.begin(t)
                gx, gy = filt(gx, gy)
            x = step(x, gx, sx, t, SCALAR)
            y = step(y, gy, sy, t, SCALAR)
            if display is None:
                px, py = x, y
            else:
                px, py = display(x, sx, SCALAR), display(y, sy, SCALAR)
            drawn.append((px, py))
            # `not (a < far)` is also true for NaN: one comparison catches NaN, infinity and escape.
            if not (abs(px) < far and abs(py) < far):
                break
    except _SCALAR_ERRORS as exc:
        error = f"overflow or invalid value ({type(exc).__name__}: {exc})"
    if drawn:
        out[0, 1 : len(drawn) + 1] = drawn
    return out, [error]


def _run_numpy(
    rule: FastRule,
    surface: Surface,
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    far: float,
    filt: GradientFilter | None,
) -> tuple[np.ndarray, list[str]]:
    m_count = len(starts)
    out = np.full((m_count, steps + 1, 2), np.nan)
    out[:, 0] = starts
    p = np.array(starts, dtype=np.float64)
    g = np.empty_like(p)
    with np.errstate(all="ignore"):
        state = rule.init(p, NUMPY)
        for t in range(1, steps + 1):
            gx, gy = surface.grad(p[:, 0], p[:, 1], NUMPY)
            g[:, 0] = gx
            g[:, 1] = gy
            if noise is not None:
                g += noise[:, t - 1]
            if filt is not None:
                filt.begin(t)
                g[:, 0], g[:, 1] = filt(g[:, 0], g[:, 1])
            p = rule.step(p, g, state, t, NUMPY)  # rules never keep or modify the gradient
            out[:, t] = p if rule.display is None else rule.display(p, state, NUMPY)
            if t % _CHECK_EVERY == 0 and not (np.abs(out[:, t]) < far).any():
                break
    return out, [""] * m_count


def _run_pair_scalar(
    rule: PairRule,
    probe: RaceProbe,
    start: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    far: float,
) -> tuple[np.ndarray, list[str]]:
    out = np.full((1, steps + 1, 2), np.nan)
    out[0, 0] = start
    x, y = float(start[0]), float(start[1])
    nz = noise[0].tolist() if noise is not None else None
    drawn: list[tuple[float, float]] = []
    error = ""
    try:
        state = rule.init(x, y, probe)
        for t in range(1, steps + 1):
            if nz is not None:
                probe.noise = (nz[t - 1][0], nz[t - 1][1])
            probe.begin(t)
            gx, gy = probe.grad(x, y)
            x, y = rule.step(x, y, gx, gy, state, t, probe)
            drawn.append((x, y))
            if not (abs(x) < far and abs(y) < far):  # also true for NaN
                break
    except _SCALAR_ERRORS as exc:
        error = f"overflow or invalid value ({type(exc).__name__}: {exc})"
    if drawn:
        out[0, 1 : len(drawn) + 1] = drawn
    return out, [error]


def _run_pair_numpy(
    rule: PairRule,
    probe: RaceProbe,
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    far: float,
) -> tuple[np.ndarray, list[str]]:
    out = np.full((len(starts), steps + 1, 2), np.nan)
    out[:, 0] = starts
    x, y = starts[:, 0].astype(np.float64), starts[:, 1].astype(np.float64)
    with np.errstate(all="ignore"):
        state = rule.init(x, y, probe)
        for t in range(1, steps + 1):
            if noise is not None:
                probe.noise = (noise[:, t - 1, 0], noise[:, t - 1, 1])
            probe.begin(t)
            gx, gy = probe.grad(x, y)
            x, y = rule.step(x, y, gx, gy, state, t, probe)
            out[:, t, 0] = x
            out[:, t, 1] = y
            if t % _CHECK_EVERY == 0 and not (np.abs(out[:, t]) < far).any():
                break
    return out, [""] * len(starts)
