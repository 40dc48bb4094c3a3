"""The pieces of a training step that learned-surface races and the training panel share.

Both must agree exactly on what "one step" means, so that a path drawn on a learned surface is the path the
training panel would take with the same model, data, seed and optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

from optviz.core.learn.models import loss_and_accuracy
from optviz.core.optimizers.spec import OptimizerSpec


def batch_indices(n: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless mini-batch indices: a fresh seeded permutation each epoch (full batch when batch_size >= n).

    Every optimizer in a race draws from its own iterator with the same seed, so all see the same data order.
    """
    generator = torch.Generator().manual_seed(seed)
    size = max(1, min(int(batch_size), n))
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - size + 1, size):  # drop the ragged tail: every step sees size samples
            yield order[start : start + size]


def make_closure(
    spec: OptimizerSpec, model: nn.Module, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer
) -> Callable[[], torch.Tensor]:
    """The closure `OptimizerSpec.step` calls: zero the gradients, forward, backward; returns the loss.

    Optimizers that use Hessian-vector products (AdaHessian, Sophia) need the graph kept for their own
    second backward pass.
    """

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss, _ = loss_and_accuracy(model(x), y)
        loss.backward(create_graph=spec.needs_hvp)
        return loss

    return closure


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Loss and accuracy of `model` on (x, y), without building a graph."""
    with torch.no_grad():
        loss, accuracy = loss_and_accuracy(model(x), y)
    return float(loss), float(accuracy)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All trainable weights as one detached float64 vector (the coordinates a learned surface lives in)."""
    return torch.nn.utils.parameters_to_vector([p for p in model.parameters() if p.requires_grad]).detach().double()
