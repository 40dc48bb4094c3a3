"""Which of torch's three optimizer implementations (for-loop, foreach, fused) run for an optimizer on a device.

Decided by asking torch, not by a list: an implementation is offered when the optimizer class takes its keyword
(`foreach=` / `fused=`) AND one real step with it succeeds on a small float32 tensor on that device. Results are
cached per (optimizer, hyperparameters, device type). The registry's `implementations` field records the CPU answer
so listings need no torch import; tests/core/learn/test_training_impls.py keeps the two equal.

Only torch.optim's paths are offered: pytorch_optimizer, schedulefree and torchao optimizers run their default
(single-tensor, "for-loop") code, which is what a user of those libraries gets.

Note on CPU: torch has no native foreach kernels there; `foreach=True` runs torch's generic fallback of the
multi-tensor ops (correct, just not faster), so it is offered but rarely wins. Fused kernels exist on CPU for
SGD, Adam, AdamW and Adagrad.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.optimizers.library import import_class
from optviz.core.optimizers.spec import OptimizerSpec
from optviz.core.params import Value

IMPLEMENTATIONS = ("for-loop", "foreach", "fused")

#: The keyword arguments that select each implementation (they override the registry's fixed `foreach=False`).
IMPL_KWARGS: dict[str, dict[str, bool]] = {
    "for-loop": {"foreach": False},
    "foreach": {"foreach": True},
    "fused": {"fused": True, "foreach": False},
}


def implementation_kwargs(spec: OptimizerSpec, impl: str) -> dict[str, Any]:
    """Keyword arguments selecting `impl` for `spec` (empty for libraries that have only one path)."""
    if impl not in IMPLEMENTATIONS:
        raise OptvizError(f"unknown implementation {impl!r}; choose one of: {', '.join(IMPLEMENTATIONS)}")
    if spec.source != "torch.optim":
        return {}
    accepted = _accepted_keywords(spec)
    return {k: v for k, v in IMPL_KWARGS[impl].items() if k in accepted}


def _accepted_keywords(spec: OptimizerSpec) -> set[str]:
    cls = import_class(spec.build.class_path)
    return set(inspect.signature(cls.__init__).parameters)


def supported_implementations(name: str, device: str = "cpu", hp: Mapping[str, Value] | None = None) -> tuple[str, ...]:
    """The implementations of optimizer `name` that run on `device` ("cpu", "cuda") with these hyperparameters."""
    spec = get_optimizer(name)
    resolved = tuple(sorted(spec.resolve(hp or {}).items()))
    return _probe(spec.name, device.split(":")[0], resolved)


@lru_cache(maxsize=512)
def _probe(name: str, device: str, hp: tuple[tuple[str, Value], ...]) -> tuple[str, ...]:
    spec = get_optimizer(name)
    if spec.source != "torch.optim":
        return ("for-loop",)
    accepted = _accepted_keywords(spec)
    offered = ["for-loop"]
    for impl in ("foreach", "fused"):
        if impl in accepted and _steps_with(spec, impl, device, dict(hp)):
            offered.append(impl)
    return tuple(offered)


def _steps_with(spec: OptimizerSpec, impl: str, device: str, hp: dict[str, Value]) -> bool:
    import torch

    shape = (4, 4)
    param = torch.nn.Parameter(torch.ones(shape, device=device))
    param.grad = torch.full(shape, 0.5, device=device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = spec.build([param], hp, implementation_kwargs(spec, impl))
            opt.step()
    except (OptvizError, RuntimeError, ValueError, TypeError, NotImplementedError):
        # This probe exists to find out: torch refuses an implementation it lacks for this device or dtype
        # with one of these (fused kernels on CPU raise NotImplementedError or RuntimeError, depending on the
        # optimizer and the torch version), and the panel then does not offer it.
        return False
    return bool(torch.isfinite(param).all())


def check_implementation(spec: OptimizerSpec, impl: str, device: str, hp: Mapping[str, Value]) -> None:
    """Raise a one-line `OptvizError` when `impl` is not available for `spec` on `device`."""
    offered = supported_implementations(spec.name, device, hp)
    if impl not in offered:
        raise OptvizError(
            f"{spec.name} has no {impl} implementation on {device.split(':')[0]} (available: {', '.join(offered)})"
        )
