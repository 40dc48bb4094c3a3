"""What a training session yields while it runs, and what it keeps per optimizer for charts and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optviz.core.learn.memory import MemoryReport


@dataclass(frozen=True)
class StepRecord:
    """One optimizer step of one run. `wall_time` is that run's own training time so far (runs take turns,
    so the session's clock would charge each run for the others' steps). Validation values are set every
    `evaluation_interval` steps and at the last step, None otherwise."""

    run: int
    label: str
    step: int  # 1-based: the number of steps taken
    train_loss: float
    lr: float
    step_time: float  # seconds: forward + backward + optimizer step
    optimizer_time: float  # seconds: the optimizer step alone (where implementations differ)
    wall_time: float
    val_loss: float | None = None
    val_accuracy: float | None = None
    skipped: bool = False  # the GradScaler skipped this step (inf/NaN gradients)


@dataclass(frozen=True)
class RunEnded:
    run: int
    label: str
    status: str  # done, stopped, diverged (non-finite loss), oom or error
    message: str
    memory: MemoryReport | None


@dataclass
class RunSummary:
    """Everything kept about one run: its settings, its curves, its end, its memory."""

    run: int
    label: str
    name: str
    impl: str
    hp: dict[str, Any]
    parameters: int
    note: str = ""
    status: str = "running"
    message: str = ""
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    step_times: list[float] = field(default_factory=list)
    optimizer_times: list[float] = field(default_factory=list)
    wall_times: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    memory: MemoryReport | None = None
    final_weights: Any = None  # a float64 vector when the config asks to keep weights

    def add(self, record: StepRecord) -> None:
        self.steps.append(record.step)
        self.train_loss.append(record.train_loss)
        self.lr.append(record.lr)
        self.step_times.append(record.step_time)
        self.optimizer_times.append(record.optimizer_time)
        self.wall_times.append(record.wall_time)
        if record.val_loss is not None:
            self.val_steps.append(record.step)
            self.val_loss.append(record.val_loss)
            self.val_accuracy.append(record.val_accuracy if record.val_accuracy is not None else float("nan"))

    def final_loss(self) -> float:
        values = self.val_loss or self.train_loss
        return values[-1] if values else float("nan")

    def throughput(self, batch_size: int) -> float:
        """Training samples per second over the run (median step time: robust to a slow first step)."""
        if not self.step_times:
            return 0.0
        ordered = sorted(self.step_times)
        median = ordered[len(ordered) // 2]
        return batch_size / median if median > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "optimizer": self.name,
            "implementation": self.impl,
            "hyperparameters": self.hp,
            "status": self.status,
            "message": self.message,
            "note": self.note,
            "parameter_count": self.parameters,
            "steps": self.steps,
            "train_loss": self.train_loss,
            "lr": self.lr,
            "step_times": self.step_times,
            "optimizer_step_times": self.optimizer_times,
            "wall_times": self.wall_times,
            "val_steps": self.val_steps,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "memory": self.memory.to_dict() if self.memory is not None else None,
        }
