"""Step the real library optimizer (torch.optim, pytorch_optimizer, schedulefree) on a surface, in float64.

This is the reference every trajectory is held to. Starts are put into optimizers as the registry's
`batching` says (see `OptimizerSpec`), so a batch gives each start exactly the path it would have alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

import numpy as np

from optviz.core.mathlib import torch_math
from optviz.core.optimizers.spec import OptimizerSpec
from optviz.core.params import Value
from optviz.core.race.clip import Clip, clip_rows_torch
from optviz.core.race.lr_schedule import LrSchedule, with_scheduler
from optviz.core.race.perturb import GradientPlan
from optviz.core.surfaces.base import Surface

# Errors a library may raise once values have gone bad (e.g. an eigendecomposition of NaNs). The run is
# then marked diverged with the message; anything else is a bug and propagates.
NUMERIC_ERRORS = (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError)


def run_library(
    spec: OptimizerSpec,
    hp: Mapping[str, Value],
    surface: Surface,
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    seed: int,
    far: float,
    cancelled: Callable[[], bool] | None = None,
    plan: GradientPlan | None = None,
    clip: Clip | None = None,
    schedule: LrSchedule | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Positions (M, steps+1, 2) drawn for each start, and an error message per start ("" if none).

    `noise` (M, steps, 2) is added to each gradient (and its linear term ⟨noise, θ⟩ to the loss a closure
    returns, so line searches stay consistent). Then `plan` (drawn for these M starts) and `clip` act on the
    gradient every closure sets, as `gradient_filter.py` does on the fast path. `schedule`'s torch scheduler
    is stepped after every optimizer step.
    A run that raises a numeric error or leaves |θ| < `far` stops there; its remaining positions are NaN.
    """
    m_count = len(starts)
    out = np.full((m_count, steps + 1, 2), np.nan)
    out[:, 0] = starts
    errors = [""] * m_count
    groups = [[m] for m in range(m_count)] if spec.batching == "separate" else [list(range(m_count))]

    for group in groups:
        if cancelled is not None and cancelled():
            break
        for m, error in zip(
            group,
            _run_group(spec, hp, surface, starts, group, steps, noise, seed, far, out, plan, clip, schedule),
            strict=True,
        ):
            errors[m] = error
    return out, errors


def _run_group(
    spec: OptimizerSpec,
    hp: Mapping[str, Value],
    surface: Surface,
    starts: np.ndarray,
    group: list[int],
    steps: int,
    noise: np.ndarray | None,
    seed: int,
    far: float,
    out: np.ndarray,
    plan: GradientPlan | None = None,
    clip: Clip | None = None,
    schedule: LrSchedule | None = None,
) -> list[str]:
    """Step one optimizer instance holding the starts in `group`; write into `out`; return an error or "" for
    each start of the group.

    A start whose point turns NaN in a step that was given a finite gradient at a finite point gets a reason
    that says the NaN came from the optimizer's own update (a matrix root of a singular preconditioner, say),
    not from the surface."""
    import torch

    T = torch_math()
    # Each group draws the random numbers it would draw alone (AdaHessian's Hutchinson vectors).
    torch.manual_seed(seed)
    shape = (1, 2) if spec.needs_2d else (2,)
    if spec.batching == "stack":
        params = [torch.tensor(starts[group], dtype=torch.float64, requires_grad=True)]
    else:
        params = [torch.tensor(starts[m].reshape(shape), dtype=torch.float64, requires_grad=True) for m in group]
    opt = spec.build(params, hp)
    advance_schedule = with_scheduler(schedule, opt, steps)
    rows = np.asarray(group)
    step_noise: list = [None]  # the current step's noise, read by the closure
    given: list = [None]  # the last gradients the closure set, (len(group), 2)
    errors = [""] * len(group)
    filtered = _TorchFilter(plan, clip, rows) if plan is not None or clip is not None else None

    def points() -> torch.Tensor:
        return params[0] if spec.batching == "stack" else torch.stack([p.reshape(2) for p in params])

    def closure() -> torch.Tensor:
        # The gradient is the surface's analytic one, the very formula the fast path evaluates, so both
        # paths feed optimizers identical bits. Where Hessian-vector products are needed it keeps its graph.
        with torch.set_grad_enabled(spec.needs_hvp):
            xy = points()
            gx, gy = surface.grad(xy[:, 0], xy[:, 1], T)
            grads = torch.stack(torch.broadcast_tensors(gx, gy), dim=-1)
            loss = surface.value_torch(xy).sum()
            if step_noise[0] is not None:
                grads = grads + step_noise[0]
                loss = loss + (step_noise[0] * xy).sum()  # keeps a line search consistent with the gradient
            if filtered is not None:
                told = filtered(grads.detach())
                # An optimizer that differentiates the gradient (Hessian-vector products) measures the surface's
                # own curvature: the graph stays the gradient's, the value is the perturbed one (exactly: the
                # difference of a finite tensor and itself is 0).
                grads = (grads - grads.detach()) + told if spec.needs_hvp else told
        given[0] = grads.detach()
        if spec.batching == "stack":
            params[0].grad = grads
        else:
            for p, g in zip(params, grads, strict=True):
                p.grad = g.reshape(p.shape)
        return loss.detach()

    for t in range(1, steps + 1):
        step_noise[0] = None if noise is None else torch.as_tensor(noise[rows, t - 1])
        if filtered is not None:
            filtered.begin(t)
        try:
            spec.step(opt, closure)
            advance_schedule()
            with torch.no_grad():
                if spec.eval_point is not None:
                    drawn = torch.cat([q.reshape(-1, 2) for q in spec.eval_point(opt, params)])
                else:
                    drawn = points().detach().reshape(-1, 2)
        except NUMERIC_ERRORS as exc:
            return [f"{spec.title} raised {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"] * len(group)
        xy = drawn.numpy()
        out[group, t] = xy
        _blame_update(spec, errors, out[group, t - 1], xy, given[0], far)
        # Stop stepping once every run of the group has gone bad: nothing more to draw.
        if not (np.abs(xy) < far).any():
            break
    return errors


def _blame_update(
    spec: OptimizerSpec, errors: list[str], before: np.ndarray, after: np.ndarray, grads, far: float
) -> None:
    """Say where a NaN came from when the optimizer made it: the point and the gradient it was given were finite
    (and the point in bounds), and the point it returned is NaN."""
    if grads is None:
        return
    finite_grad = np.isfinite(grads.numpy().reshape(len(errors), 2)).all(-1)
    made_nan = np.isnan(after).any(-1) & (np.abs(before) < far).all(-1) & finite_grad
    for i in np.nonzero(made_nan)[0]:
        if not errors[i]:
            errors[i] = f"NaN from {spec.title}'s update (the gradient it was given was finite)"


class _TorchFilter:
    """The perturbation plan and clipping of `gradient_filter.GradientFilter`, on the (len(group), 2) gradients a
    closure sets: the stale ring records the first gradient of each step; clipping is per start
    (`clip_rows_torch`, each row as its own parameter)."""

    def __init__(self, plan: GradientPlan | None, clip: Clip | None, rows: np.ndarray) -> None:
        import torch

        self.clip = clip
        self.mult = None if plan is None or plan.mult is None else torch.as_tensor(np.asarray(plan.mult)[rows])
        self.inject = None if plan is None else plan.inject
        self.lag = 0 if plan is None else plan.lag
        self.ring: deque = deque(maxlen=self.lag + 1)
        self.t = 0
        self._first = False

    def begin(self, t: int) -> None:
        self.t = t
        self._first = True

    def __call__(self, grads):
        import torch

        t = self.t
        if self.lag:
            if self._first:
                self.ring.append(grads.clone())
                self._first = False
            if t > self.lag:
                grads = self.ring[0]
        if self.mult is not None:
            grads = grads * self.mult[:, t - 1]
        if self.inject is not None and t == self.inject[0]:
            grads = torch.full_like(grads, self.inject[1])
        if self.clip is not None:
            grads = clip_rows_torch(self.clip, grads)
        return grads
