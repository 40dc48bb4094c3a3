"""Mixed precision for one training step: autocast, the GradScaler, gradient clipping, and the scaler guard.

The guard: fused SGD with momentum under a GradScaler, when the very first step overflows, is skipped by the
scaler but keeps a momentum buffer it never initialised, so the next step adds whatever that memory held. Every
torch with fused SGD has this, 2.13 (the newest checked) included: `torch.optim.sgd._fused_sgd` allocates the
first buffer with `torch.empty_like` and the kernel writes nothing when the scaler found inf/NaN. There is no
fixed release to gate on by version, so the guard keys on the symptom instead: `scaled_step` detects a skipped
step (the scaler lowered its scale) and, when the optimizer had no state before it, clears the state, exactly
the state an optimizer has before its first step. That is a no-op where a skipped step left nothing (the
for-loop and foreach paths, and any torch that fixes the bug); fused Adam and AdamW leave zeros, which equal it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from optviz.core.learn.models import loss_and_accuracy
from optviz.core.learn.stepping import make_closure
from optviz.core.optimizers.spec import OptimizerSpec

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager[Any]:
    """Autocast for bf16/fp16; nothing for fp32. Weights and optimizer state stay fp32 either way."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=AUTOCAST_DTYPES[precision])


def make_scaler(device: str, precision: str) -> torch.amp.GradScaler | None:
    return torch.amp.GradScaler(device) if precision == "fp16" else None


def training_closure(
    spec: OptimizerSpec,
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    opt: torch.optim.Optimizer,
    *,
    device: str,
    precision: str,
    clip: float,
    scaler: torch.amp.GradScaler | None,
) -> Callable[[], torch.Tensor]:
    """The closure for one step: `stepping.make_closure` (the step learned surfaces also use) under autocast,
    then gradient clipping; with a scaler, the loss is scaled before backward and unscaled before clipping."""
    params = [p for p in model.parameters() if p.requires_grad]
    if scaler is None:
        inner = make_closure(spec, model, x, y, opt)

        def closure() -> torch.Tensor:
            # Backward runs inside autocast too: its ops take the dtypes their forward ops had, so this is the
            # same as the usual forward-only autocast block, and the shared closure stays one function.
            with autocast(device, precision):
                loss = inner()
            if clip > 0:
                nn.utils.clip_grad_norm_(params, clip)
            return loss

        return closure

    def scaled_closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        with autocast(device, precision):
            loss, _ = loss_and_accuracy(model(x), y)
        scaler.scale(loss).backward()
        if clip > 0:
            scaler.unscale_(opt)  # clip the true gradient, not the scaled one
            nn.utils.clip_grad_norm_(params, clip)
        return loss

    return scaled_closure


def has_state(opt: torch.optim.Optimizer) -> bool:
    return any(len(s) > 0 for s in opt.state.values())


def scaled_step(opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> bool:
    """`scaler.step` + `scaler.update` with the first-step guard; returns True when the step was skipped.

    The caller has already run the closure (gradients are set, scaled)."""
    fresh = not has_state(opt)
    scale = scaler.get_scale()
    scaler.step(opt)
    scaler.update()
    skipped = scaler.get_scale() < scale  # the scaler backs off only when it found inf/NaN and skipped
    if skipped and fresh:
        opt.state.clear()  # fused SGD left a never-written momentum buffer: back to "before the first step"
    return skipped
