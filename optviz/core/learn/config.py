"""What one training session runs: the set-up shared by all optimizers, and each optimizer's own settings.

`resolve_device` and `check_precision` say in words why a choice was made or refused; the panel shows those
words and the command line prints them as its one-line error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.learn.schedules import ScheduleConfig
from optviz.core.params import Value, check_seed

DEVICES = ("auto", "cpu", "cuda")
#: Most optimizer steps a training run takes (the command line and the Training panel alike): a typo such as
#: `--steps 1000000000000` is refused at once instead of running until killed.
MAX_STEPS = 100_000
#: The lr range test's defaults (`lr_find.py`), here where building the command's parser reads them without torch.
LR_FIND_MIN, LR_FIND_MAX, LR_FIND_STEPS = 1e-7, 10.0, 100
PRECISIONS = ("fp32", "bf16", "fp16")
PRECISION_HELP = {
    "fp32": "full precision",
    "bf16": "bfloat16 autocast for the forward pass; fp32 weights and optimizer state",
    "fp16": "float16 autocast with a GradScaler (CUDA only)",
}


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cpu" or "cuda"
    reason: str  # one line for people


def resolve_device(requested: str = "auto") -> DeviceChoice:
    """The device a run uses, and why. `auto` takes CUDA when torch can see a GPU."""
    import torch

    if requested not in DEVICES:
        raise OptvizError(f"unknown device {requested!r}; choose one of: {', '.join(DEVICES)}")
    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        build = "a CPU-only torch build" if torch.version.cuda is None else "no CUDA device visible"
        raise OptvizError(f"--device cuda: CUDA is not available here ({build}); use --device cpu or auto")
    if requested == "cpu":
        return DeviceChoice("cpu", "CPU, as asked")
    if has_cuda:
        name = torch.cuda.get_device_name(0)
        why = "as asked" if requested == "cuda" else "auto: torch sees a CUDA GPU"
        return DeviceChoice("cuda", f"CUDA ({name}), {why}")
    build = "this torch is a CPU-only build" if torch.version.cuda is None else "torch sees no CUDA device"
    return DeviceChoice("cpu", f"CPU, auto: {build}")


def check_precision(precision: str, device: str) -> None:
    if precision not in PRECISIONS:
        raise OptvizError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if precision == "fp16" and device != "cuda":
        raise OptvizError("fp16 with a GradScaler runs on CUDA only; use bf16 or fp32 on the CPU")


@dataclass(frozen=True)
class OptimizerRun:
    """One optimizer in a session: registry name, hyperparameter overrides, implementation, display label."""

    name: str
    hp: Mapping[str, Value] = field(default_factory=dict)
    impl: str = "for-loop"
    label: str = ""

    def display(self) -> str:
        return self.label or f"{self.name} ({self.impl})"


@dataclass(frozen=True)
class TrainConfig:
    """The set-up every optimizer shares (model, data, batches, schedule, precision), plus the optimizers."""

    model: str = "mlp"
    dataset: str = "moons"
    optimizers: tuple[OptimizerRun, ...] = ()
    batch_size: int = 64
    steps: int = 200
    device: str = "auto"
    precision: str = "fp32"
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_grad_norm: float = 0.0  # 0: no clipping
    #: None: each optimizer's own weight_decay hyperparameter. A number overrides it for every optimizer.
    #: Either way only weights (tensors with 2+ dimensions) decay; biases and norm parameters never do.
    weight_decay: float | None = None
    seed: int = 0
    eval_every: int = 0  # 0: about 20 evaluations per run
    keep_weights: bool = False  # keep each run's final weights (tests compare implementations with them)

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueOutOfRangeError(f"steps={self.steps} is out of range (1 to {MAX_STEPS})")
        if self.batch_size < 1:
            raise ValueOutOfRangeError(f"batch size must be at least 1, got {self.batch_size}")
        if not (self.clip_grad_norm >= 0 and math.isfinite(self.clip_grad_norm)):  # NaN fails both
            raise ValueOutOfRangeError(f"gradient clipping norm must be finite and >= 0, got {self.clip_grad_norm}")
        if self.weight_decay is not None and not 0.0 <= self.weight_decay <= 1.0:
            raise ValueOutOfRangeError(f"weight decay must be in [0, 1], got {self.weight_decay}")
        check_seed(self.seed)

    @property
    def evaluation_interval(self) -> int:
        return self.eval_every if self.eval_every > 0 else max(1, self.steps // 20)
