"""Memory an optimizer really holds, measured from its tensors, beside what the registry says it should.

Measured bytes walk `optimizer.state`: plain tensors count `numel * element_size`; tensor subclasses (torchao's
8-bit and 4-bit state) are unpacked with `__tensor_flatten__` into their inner tensors (codes, per-block scales,
the quantisation map), because the subclass reports the shape and dtype of the fp32 tensor it stands for, not
what it stores. Storage shared between entries is counted once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


def _is_wrapper_subclass(value: torch.Tensor) -> bool:
    return type(value) is not torch.Tensor and hasattr(type(value), "__tensor_flatten__")


def _leaf_tensors(value: Any) -> Iterator[torch.Tensor]:
    """Every plain tensor that holds bytes inside a state value (lists, dicts, tensor subclasses)."""
    if isinstance(value, torch.Tensor):
        if _is_wrapper_subclass(value):
            names, _ctx = value.__tensor_flatten__()
            for name in names:
                yield from _leaf_tensors(getattr(value, name))
        else:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaf_tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaf_tensors(item)


def tensor_bytes(tensors: Iterable[Any]) -> int:
    """Bytes held by these tensors (and tensors nested in them), each storage counted once."""
    seen: set[tuple[str, int, int]] = set()
    total = 0
    for value in tensors:
        for t in _leaf_tensors(value):
            nbytes = t.numel() * t.element_size()
            key = (str(t.device), t.data_ptr(), nbytes)
            if nbytes == 0 or key in seen:
                continue
            seen.add(key)
            total += nbytes
    return total


def state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Optimizer-state bytes measured from the optimizer's state tensors (scalar step counters included)."""
    return tensor_bytes(optimizer.state.values())


def state_bytes_by_parameter(optimizer: torch.optim.Optimizer) -> dict[int, int]:
    """{id(parameter): state bytes} for per-tensor comparisons (8-bit keeps fp32 state for small tensors)."""
    return {id(p): tensor_bytes([s]) for p, s in optimizer.state.items()}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class MemoryReport:
    """Bytes one training run holds. `theoretical_state` is the registry's bytes per parameter x parameters;
    `peak` is the CUDA allocator's peak attributed to this run, or on CPU parameters + gradients + state."""

    parameters: int
    parameter_bytes: int
    gradient_bytes: int
    state: int
    theoretical_state: float
    peak: int
    peak_source: str  # "cuda allocator" or "params + grads + state"

    @property
    def state_per_param(self) -> float:
        return self.state / max(1, self.parameters)

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "parameters": self.parameters,
            "parameter_bytes": self.parameter_bytes,
            "gradient_bytes": self.gradient_bytes,
            "optimizer_state_bytes": self.state,
            "optimizer_state_bytes_per_param": self.state_per_param,
            "theoretical_state_bytes": self.theoretical_state,
            "peak_bytes": self.peak,
            "peak_source": self.peak_source,
        }


def resident_bytes(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, int, int]:
    """(parameter bytes, gradient bytes, state bytes) currently held by one run."""
    params = list(model.parameters())
    grads = [p.grad for p in params if p.grad is not None]
    return tensor_bytes(params), tensor_bytes(grads), state_bytes(optimizer)
