"""The learning-rate range test (Smith, 2017) on real training, as fastai runs it.

The lr grows exponentially from `min_lr` to `max_lr` over `steps` optimizer steps on real batches (set in every
parameter group before each step, under the registry's name for it). Each step's loss is recorded with an
exponentially smoothed copy (beta 0.98, bias-corrected); the test stops early once the smoothed loss exceeds
4x its minimum or the loss is not finite (or the step raises). The suggestions are those of
`core/sweep/lr_sweep.py` applied to the smoothed loss: the steepest descent, and a tenth of the lr at the
minimum.

`range_test` works on a live model and optimizer (the Training panel's) and puts both back exactly as they were:
their state_dicts are deep-copied before and loaded after, the gradients and the random stream too.
`lr_find` builds the model, data and optimizer from names (`optviz lr-find`). Both are plain functions for a
worker thread: `progress(done, total, text)` after each step, `cancelled()` before each (raising `Cancelled`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.jsonsafe import finite_list, json_text
from optviz.core.learn.config import LR_FIND_MAX, LR_FIND_MIN, LR_FIND_STEPS, MAX_STEPS, OptimizerRun
from optviz.core.learn.control import Cancelled
from optviz.core.learn.trial import TrialData, TrialSetup, seeded_rng, take_step
from optviz.core.optimizers.library import library_kwargs
from optviz.core.optimizers.spec import OptimizerSpec
from optviz.core.sweep.lr_sweep import Suggestions, suggest

SMOOTHING = 0.98
DIVERGENCE = 4.0  # stop once the smoothed loss exceeds this multiple of its minimum
DEFAULT_MIN, DEFAULT_MAX, DEFAULT_STEPS = LR_FIND_MIN, LR_FIND_MAX, LR_FIND_STEPS
#: The registry's learning-rate hyperparameter.
LR = "lr"

Progress = Callable[[int, int, str], None]
Batch = Callable[[], tuple[torch.Tensor, torch.Tensor]]


def check_range(min_lr: float, max_lr: float, steps: int) -> None:
    """One line naming what is wrong with a range test's settings (nothing when they are fine)."""
    if not (math.isfinite(min_lr) and min_lr > 0):
        raise ValueOutOfRangeError(f"the smallest lr must be a finite number above 0, got {min_lr}")
    if not math.isfinite(max_lr):
        raise ValueOutOfRangeError(f"the largest lr must be finite, got {max_lr}")
    if not min_lr < max_lr:
        raise ValueOutOfRangeError(f"the smallest lr ({min_lr:g}) must be below the largest ({max_lr:g})")
    if not 2 <= steps <= MAX_STEPS:
        raise ValueOutOfRangeError(f"steps={steps} is out of range (2 to {MAX_STEPS})")


def lr_key(spec: OptimizerSpec) -> str:
    """The parameter-group key of `spec`'s learning rate: the registry's name as the library spells it."""
    if LR not in spec.schema.names:
        raise OptvizError(f"{spec.name} has no learning rate to sweep")
    (key,) = library_kwargs({LR: 0.0})
    return key


def set_lr(opt: torch.optim.Optimizer, key: str, value: float) -> None:
    """Set the lr in every group; in place where the library keeps it as a tensor (torchao refuses a float)."""
    for group in opt.param_groups:
        if isinstance(group[key], torch.Tensor):
            group[key].fill_(value)
        else:
            group[key] = value


@dataclass
class LrFindResult:
    optimizer: str
    hp: dict[str, Any]
    min_lr: float
    max_lr: float
    steps: int  # asked for
    lrs: list[float]  # the lrs actually taken (fewer than `steps` when it stopped early)
    losses: list[float]
    smoothed: list[float]
    stop_reason: str  # "" when it ran every step
    suggestions: Suggestions

    @property
    def stopped_early(self) -> bool:
        return len(self.lrs) < self.steps

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "optviz-lr-find",
            "version": 1,
            "optimizer": self.optimizer,
            "hyperparameters": self.hp,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "steps": self.steps,
            "steps_taken": len(self.lrs),
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "smoothing": SMOOTHING,
            "lr": self.lrs,
            "loss": finite_list(self.losses),
            "smoothed_loss": finite_list(self.smoothed),
            "suggestions": self.suggestions.to_dict(),
        }

    def to_json(self) -> str:
        return json_text(self.to_dict())


def lr_schedule(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """The lr of each step: exponential from min_lr (first step) to max_lr (last)."""
    return np.geomspace(min_lr, max_lr, steps)


def range_test(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    spec: OptimizerSpec,
    batch: Batch,
    min_lr: float = DEFAULT_MIN,
    max_lr: float = DEFAULT_MAX,
    steps: int = DEFAULT_STEPS,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    hp: dict[str, Any] | None = None,
) -> LrFindResult:
    """The range test on `model` and `opt` (built from `spec`), a batch from `batch()` per step; both are
    restored afterwards, whatever happens (see the module doc)."""
    check_range(min_lr, max_lr, steps)
    key = lr_key(spec)
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    params = list(model.parameters())
    saved_grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
    lrs, losses, smoothed = [], [], []
    stop = ""
    average, best = 0.0, math.inf
    schedule = lr_schedule(min_lr, max_lr, steps)
    try:
        with torch.random.fork_rng(devices=[torch.cuda.current_device()] if _on_cuda(model) else []):
            for i, lr in enumerate(schedule):
                if cancelled is not None and cancelled():
                    raise Cancelled("lr finder cancelled")
                set_lr(opt, key, float(lr))
                try:
                    loss = take_step(spec, model, opt, *batch())
                except Exception as exc:  # a step the library refuses at this lr ends the test like divergence
                    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                    stop = f"the step raised at lr={lr:.3g}: {type(exc).__name__}: {first_line}"
                    break
                average = SMOOTHING * average + (1 - SMOOTHING) * loss
                smooth = average / (1 - SMOOTHING ** (i + 1))
                lrs.append(float(lr))
                losses.append(loss)
                smoothed.append(smooth)
                if progress is not None:
                    progress(i + 1, steps, f"lr {lr:.3g}  loss {loss:.4g}")
                if not math.isfinite(loss) or not math.isfinite(smooth):
                    stop = f"the loss became {loss} at lr={lr:.3g}"
                    break
                best = min(best, smooth)
                if i > 0 and smooth > DIVERGENCE * best:
                    stop = f"the smoothed loss passed {DIVERGENCE:g}x its minimum at lr={lr:.3g}"
                    break
    finally:
        model.load_state_dict(saved_model)
        opt.load_state_dict(saved_opt)
        for p, grad in zip(params, saved_grads, strict=True):
            p.grad = grad
    return LrFindResult(
        optimizer=spec.name,
        hp=dict(hp or {}),
        min_lr=min_lr,
        max_lr=max_lr,
        steps=steps,
        lrs=lrs,
        losses=losses,
        smoothed=smoothed,
        stop_reason=stop,
        suggestions=suggest(lrs, smoothed, skip_start=True),
    )


def lr_find(
    setup: TrialSetup,
    entry: OptimizerRun,
    min_lr: float = DEFAULT_MIN,
    max_lr: float = DEFAULT_MAX,
    steps: int = DEFAULT_STEPS,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LrFindResult:
    """The range test on a fresh zoo model and optimizer (as `optviz train` would build them); every name and
    value is checked before the first step."""
    check_range(min_lr, max_lr, steps)
    data = TrialData(setup)
    spec, hp = data.check(entry)
    lr_key(spec)
    with seeded_rng(setup.seed, data.device):
        trial = data.trial(entry)
        return range_test(
            trial.model, trial.opt, spec, trial.next_batch, min_lr, max_lr, steps, progress, cancelled, hp=hp
        )


def _on_cuda(model: nn.Module) -> bool:
    return any(p.is_cuda for p in model.parameters())
