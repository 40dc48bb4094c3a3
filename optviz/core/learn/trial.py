"""One optimizer training one zoo model, stepped by hand: what the robustness test and the lr finder share.

A trial is built as a `TrainingSession` run is (the model from the same seed, the same parameter groups, the
same batch order, the same closure), so its untouched steps are the steps `optviz train` takes with the same
settings. `Trial.step` adds the two things those tools need: a hook on the real gradient tensors after
backward and before the optimizer step, and gradient clipping right after that hook.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.learn.config import OptimizerRun, resolve_device
from optviz.core.learn.datasets import Dataset, load_dataset
from optviz.core.learn.implementations import implementation_kwargs
from optviz.core.learn.models import model_spec
from optviz.core.learn.stepping import batch_indices, make_closure
from optviz.core.learn.training import check_optimizer, parameter_groups
from optviz.core.optimizers.spec import OptimizerSpec
from optviz.core.params import check_seed

#: A hook on the gradients of one step: called with the parameters' `.grad` tensors (those that have one).
GradHook = Callable[[list[torch.Tensor]], None]


@dataclass(frozen=True)
class TrialSetup:
    """What every trial of one job shares: model, data, batches, device, seed."""

    model: str = "mlp"
    dataset: str = "digits"
    batch_size: int = 64
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueOutOfRangeError(f"batch size must be at least 1, got {self.batch_size}")
        check_seed(self.seed)


class TrialData:
    """The data set and model of a setup, loaded and checked once (a wrong name or a model that does not fit
    the data raises one `OptvizError` line here, before any training)."""

    def __init__(self, setup: TrialSetup) -> None:
        self.setup = setup
        self.device = resolve_device(setup.device).device
        self.dataset: Dataset = load_dataset(setup.dataset, seed=setup.seed)
        self.model_spec = model_spec(setup.model)
        self.model_spec.build(self.dataset, seed=setup.seed)  # raises when model and data do not fit
        self.x = self.dataset.x_train.to(self.device)
        self.y = self.dataset.y_train.to(self.device)

    def check(self, entry: OptimizerRun) -> tuple[OptimizerSpec, dict[str, Any]]:
        """The registry entry and resolved hyperparameters, or one line saying why it cannot train."""
        return check_optimizer(entry, self.device, "fp32")

    def trial(self, entry: OptimizerRun) -> Trial:
        return Trial(self, entry)


class Trial:
    """A fresh model and optimizer, and the batch stream, for one optimizer of a `TrialData`."""

    def __init__(self, data: TrialData, entry: OptimizerRun) -> None:
        setup = data.setup
        self.spec, self.hp = data.check(entry)
        self.model: nn.Module = data.model_spec.build(data.dataset, seed=setup.seed).to(data.device)
        params = parameter_groups(self.model, None) if "weight_decay" in self.hp else list(self.model.parameters())
        self.opt: torch.optim.Optimizer = self.spec.build(params, self.hp, implementation_kwargs(self.spec, entry.impl))
        self._data = data
        self._batches: Iterator[torch.Tensor] = batch_indices(len(data.x), setup.batch_size, setup.seed)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        index = next(self._batches).to(self._data.device)
        return self._data.x[index], self._data.y[index]

    def step(self, hook: GradHook | None = None, clip: float = 0.0) -> float:
        """One optimizer step on the next batch; the loss before it (as `optviz train` records it)."""
        return take_step(self.spec, self.model, self.opt, *self.next_batch(), hook=hook, clip=clip)

    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())


def take_step(
    spec: OptimizerSpec,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hook: GradHook | None = None,
    clip: float = 0.0,
) -> float:
    """The registry's way of stepping `opt` (`OptimizerSpec.step`) on (x, y), with `hook` on the gradients
    after backward and `clip` (0: off) after the hook. An optimizer that calls its closure several times (L-BFGS's
    line search) sees the hook at every call: each gradient it is given that step is the perturbed one."""
    inner = make_closure(spec, model, x, y, opt)
    params = [p for p in model.parameters() if p.requires_grad]

    def closure() -> torch.Tensor:
        loss = inner()
        if hook is not None:
            with torch.no_grad():
                hook([p.grad for p in params if p.grad is not None])
        if clip > 0:
            nn.utils.clip_grad_norm_(params, clip)
        return loss

    if spec.before_step is not None:
        spec.before_step(opt)
    if spec.needs_closure:
        loss = opt.step(closure)
    else:
        loss = closure()
        opt.step()
    return float(loss.detach())


def seeded_rng(seed: int, device: str) -> contextlib.AbstractContextManager[Any]:
    """A random stream of its own for one run (AdaHessian's probes draw from it), seeded as a training run's is,
    leaving the caller's stream as it was."""

    @contextlib.contextmanager
    def scope() -> Iterator[None]:
        devices = [torch.cuda.current_device()] if device == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    return scope()


def state_finite(opt: torch.optim.Optimizer) -> bool:
    """Whether every number the optimizer keeps is finite: its state tensors (torchao's 8-bit state read back
    as the floats it stands for) and scalars, and the numbers in its parameter groups (Prodigy's d)."""
    return all(_finite(value) for value in opt.state.values()) and all(
        _finite({k: v for k, v in group.items() if k != "params"}) for group in opt.param_groups
    )


def _finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor and callable(getattr(value, "dequantize", None)):
            value = value.dequantize()
        if not (value.is_floating_point() or value.is_complex()):
            return True
        return bool(torch.isfinite(value).all())
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def short_label(entry: OptimizerRun) -> str:
    """The name, and the implementation when it is not the default for-loop one."""
    return entry.name if entry.impl == "for-loop" else f"{entry.name} ({entry.impl})"
