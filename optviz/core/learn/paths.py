"""Train one optimizer on a real model and record its weights at every step (the path a learned race draws).

Every optimizer of a race starts from the same initialisation (the model seed) and sees the same mini-batch
order (`stepping.batch_indices` with the same seed), so paths differ only by the optimizer. The weights are
recorded where the optimizer says its point is (Schedule-Free: its averaged x, what `.eval()` would give),
and scored on the whole training split, the loss the grid shows. A non-finite loss or weight, or a numeric
error raised by the library, or weights that blow up (`BLOW_UP`), end the run as diverged at that step;
nothing raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn.datasets import Dataset
from optviz.core.learn.models import loss_and_accuracy, model_spec
from optviz.core.learn.stepping import batch_indices, flat_parameters, make_closure
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value

# Errors a library may raise once values have gone bad; the run is then marked diverged with the message.
_NUMERIC_ERRORS = (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError)
#: Recorded weights of all paths of one race may take at most this many bytes (float64).
MAX_RECORD_BYTES = 2**30
#: A run whose weights grow this many times the start's norm has blown up: a ReLU network's loss can stay
#: finite (saturated softmax) while its weights run off to 1e8, and such a path would swamp the shared plane.
BLOW_UP = 1e3


@dataclass
class TrainedPath:
    """One optimizer's run: weights (N+1, D) float64 (frozen at the last finite row after a divergence),
    full-training-set loss and accuracy at each recorded point, and the norm of the mini-batch gradient
    the optimizer used at each point (NaN at the last point and after a divergence)."""

    optimizer: str
    hyperparams: dict[str, Value]
    weights: torch.Tensor
    losses: np.ndarray
    accuracy: np.ndarray
    grad_norms: np.ndarray
    status: str = "running"  # or "diverged"
    stopped_at: int = -1
    reason: str = ""

    @property
    def valid_length(self) -> int:
        return self.stopped_at if self.status == "diverged" else len(self.losses)


def check_record_size(parameter_count: int, steps: int, paths: int) -> None:
    needed = parameter_count * (steps + 1) * paths * 8
    if needed > MAX_RECORD_BYTES:
        raise OptvizError(
            f"recording {paths} path(s) of {steps} steps of a {parameter_count:,}-weight model needs "
            f"{needed / 2**30:.1f} GiB: use fewer steps or a smaller model"
        )


def train_path(
    model_name: str,
    dataset: Dataset,
    optimizer: str,
    hyperparams: dict[str, Value],
    steps: int,
    seed: int = 0,
    batch_size: int = 64,
    cancelled: Callable[[], bool] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> TrainedPath | None:
    """Train `model_name` (initialised with `seed`) on `dataset` for `steps` steps; None when cancelled."""
    from torch.func import functional_call

    spec = get_optimizer(optimizer)
    model = model_spec(model_name).build(dataset, seed)
    params = [p for p in model.parameters() if p.requires_grad]
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    x_all, y_all = dataset.x_train, dataset.y_train
    batches = batch_indices(len(x_all), batch_size, seed)

    start = flat_parameters(model)
    far = BLOW_UP * max(float(start.norm()), 1.0)
    weights = start.repeat(steps + 1, 1)
    losses = np.full(steps + 1, np.nan)
    accuracy = np.full(steps + 1, np.nan)
    grad_norms = np.full(steps + 1, np.nan)
    path = TrainedPath(spec.name, dict(hyperparams), weights, losses, accuracy, grad_norms)

    def score(point: list[torch.Tensor] | None) -> tuple[float, float]:
        with torch.no_grad():
            if point is None:
                logits = model(x_all)
            else:
                logits = functional_call(model, dict(zip(names, point, strict=True)), (x_all,))
            loss, acc = loss_and_accuracy(logits, y_all)
        return float(loss), float(acc)

    losses[0], accuracy[0] = score(None)

    def stop(t: int, reason: str) -> TrainedPath:
        path.status, path.stopped_at, path.reason = "diverged", t, reason
        weights[t:] = weights[t - 1]
        losses[t:], accuracy[t:], grad_norms[t - 1 :] = np.nan, np.nan, np.nan
        return path

    # Optimizers that draw random numbers (AdaHessian's Hutchinson vectors) draw the same ones every run,
    # without disturbing anyone else's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            opt = spec.build(params, hyperparams)
        except (OptvizError, *_NUMERIC_ERRORS) as exc:
            return stop(1, f"{spec.title} refused these settings: {str(exc).splitlines()[0][:120]}")
        for t in range(1, steps + 1):
            if cancelled is not None and cancelled():
                return None
            idx = next(batches)
            closure = make_closure(spec, model, x_all[idx], y_all[idx], opt)
            try:
                spec.step(opt, closure)
                with torch.no_grad():
                    grads = [p.grad for p in params if p.grad is not None]
                    grad_norms[t - 1] = float(torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads])))
                    point = None if spec.eval_point is None else spec.eval_point(opt, params)
                    flat = torch.cat([q.detach().reshape(-1) for q in (point or params)]).double()
            except _NUMERIC_ERRORS as exc:
                return stop(t, f"{spec.title} raised {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            if not torch.isfinite(flat).all():
                return stop(t, "NaN" if torch.isnan(flat).any() else "infinity")
            if float(flat.norm()) > far:
                return stop(t, f"weights blew up (norm above {BLOW_UP:g}x the start's)")
            weights[t] = flat
            losses[t], accuracy[t] = score(point)
            if not np.isfinite(losses[t]):
                return stop(t, "NaN loss" if np.isnan(losses[t]) else "infinite loss")
            if on_step is not None:
                on_step(t)
    return path
