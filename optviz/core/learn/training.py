"""A training session: several registry optimizers train the same model on the same data, step by step.

Each optimizer gets its own copy of the model (same seed, same initial weights), its own seeded batch order
(the same for all) and its own random-number stream, so a run's numbers do not depend on which other runs share
the session, and a CPU session is deterministic for its seed. Runs take turns one step at a time so live charts
advance together. `TrainingSession.events()` is the cancellable job: the app drives it on a worker thread, the
CLI with a progress bar; `control` pauses, resumes and stops it between steps.

A run that fails ends alone and says why: out of memory (CUDA), a non-finite loss, or an error raised by its
library. The others go on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from optviz.core.errors import OptvizError
from optviz.core.learn.amp import make_scaler, scaled_step, training_closure
from optviz.core.learn.config import DeviceChoice, OptimizerRun, TrainConfig, check_precision, resolve_device
from optviz.core.learn.control import RunControl
from optviz.core.learn.datasets import Dataset, load_dataset
from optviz.core.learn.implementations import check_implementation, implementation_kwargs
from optviz.core.learn.memory import MemoryReport, parameter_count, resident_bytes
from optviz.core.learn.models import model_spec
from optviz.core.learn.records import RunEnded, RunSummary, StepRecord
from optviz.core.learn.schedules import lr_factor
from optviz.core.learn.stepping import batch_indices, evaluate, flat_parameters
from optviz.core.optimizers import get_optimizer
from optviz.core.optimizers.spec import OptimizerSpec

Event = StepRecord | RunEnded


def parameter_groups(model: nn.Module, weight_decay: float | None) -> list[dict[str, Any]]:
    """Weights (2+ dimensions: linear, conv, embedding matrices) decay; biases and norm gains/offsets (vectors)
    never do, the usual practice since decaying them only hurts. `weight_decay=None` keeps the optimizer's own
    value in the first group."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    keep = [p for p in params if p.ndim < 2]
    first: dict[str, Any] = {"params": decay}
    if weight_decay is not None:
        first["weight_decay"] = weight_decay
    groups = [first] if decay else []
    if keep:
        groups.append({"params": keep, "weight_decay": 0.0})
    return groups


def check_optimizer(entry: OptimizerRun, device: str, precision: str) -> tuple[OptimizerSpec, dict[str, Any]]:
    """The registry entry and resolved hyperparameters for `entry`, or a one-line `OptvizError` saying why
    the combination cannot train."""
    spec = get_optimizer(entry.name)
    if spec.training_unavailable:
        raise OptvizError(f"{spec.name} cannot train here: {spec.training_unavailable}")
    hp = spec.resolve(entry.hp)
    if precision == "fp16" and (spec.needs_closure or spec.needs_hvp):
        what = "calls its closure several times" if spec.needs_closure else "needs Hessian-vector products"
        raise OptvizError(f"{spec.name} {what}, which a GradScaler cannot scale; use fp32 or bf16")
    check_implementation(spec, entry.impl, device, hp)
    return spec, hp


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


@dataclass
class _Run:
    """The live objects of one run (dropped when it ends, so a failed run frees its memory)."""

    summary: RunSummary
    spec: OptimizerSpec
    model: nn.Module
    opt: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    batches: Iterator[torch.Tensor]
    scaler: torch.amp.GradScaler | None
    rng_state: torch.Tensor
    wall: float = 0.0
    peak: int = 0
    cuda_rng_state: torch.Tensor | None = None


class TrainingSession:
    """Validates a `TrainConfig` up front (every problem raises one `OptvizError` line before any training),
    then trains on demand through `events()`."""

    def __init__(self, config: TrainConfig, control: RunControl | None = None) -> None:
        if not config.optimizers:
            raise OptvizError("add at least one optimizer")
        self.config = config
        self.control = control or RunControl()
        self.device_choice: DeviceChoice = resolve_device(config.device)
        self.device = self.device_choice.device
        check_precision(config.precision, self.device)
        self.dataset: Dataset = load_dataset(config.dataset, seed=config.seed)
        self.model_spec = model_spec(config.model)
        probe = self.model_spec.build(self.dataset, seed=config.seed)  # raises when model and data do not fit
        self.parameter_count = parameter_count(probe)
        largest = max(p.numel() for p in probe.parameters())
        self._resolved = [check_optimizer(entry, self.device, config.precision) for entry in config.optimizers]
        labels = unique_labels([entry.display() for entry in config.optimizers])
        self.summaries = [
            RunSummary(
                run=i,
                label=labels[i],
                name=spec.name,
                impl=entry.impl,
                hp=dict(hp),
                parameters=self.parameter_count,
                note=_size_note(spec, largest),
            )
            for i, (entry, (spec, hp)) in enumerate(zip(config.optimizers, self._resolved, strict=True))
        ]

    # --- the job -------------------------------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Train: yields a `StepRecord` per optimizer step and a `RunEnded` per run. Stops early on `control.stop()`
        (the runs still going end as "stopped"); blocks between steps while paused."""
        cfg = self.config
        saved_rng = torch.get_rng_state()
        data = self._data_on_device()
        runs: dict[int, _Run] = {}
        try:
            for summary, (spec, hp), entry in zip(self.summaries, self._resolved, cfg.optimizers, strict=True):
                try:
                    runs[summary.run] = self._start(summary, spec, hp, entry)
                except Exception as exc:  # building can fail too (OOM on a large model, a library check)
                    yield self._end(summary, None, *_failure(exc, 0))
            for step in range(1, cfg.steps + 1):
                for index in list(runs):
                    if not self.control.checkpoint():
                        for stopped in list(runs):
                            yield self._end(self.summaries[stopped], runs.pop(stopped), "stopped", "stopped")
                        return
                    run = runs[index]
                    try:
                        record = self._step(run, step, data)
                    except Exception as exc:
                        yield self._end(run.summary, runs.pop(index), *_failure(exc, step))
                        continue
                    run.summary.add(record)
                    yield record
                    if not math.isfinite(record.train_loss):
                        message = f"loss became {record.train_loss} at step {step}: lower the learning rate"
                        yield self._end(run.summary, runs.pop(index), "diverged", message)
            for index in list(runs):
                yield self._end(self.summaries[index], runs.pop(index), "done", "")
        finally:
            torch.set_rng_state(saved_rng)

    def run_all(self) -> list[RunSummary]:
        """Train to the end without pausing (tests, scripts)."""
        for _ in self.events():
            pass
        return self.summaries

    # --- pieces --------------------------------------------------------------------------------------------

    def _data_on_device(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        d = self.dataset
        return tuple(t.to(self.device) for t in (d.x_train, d.y_train, d.x_val, d.y_val))  # type: ignore[return-value]

    def _start(self, summary: RunSummary, spec: OptimizerSpec, hp: dict[str, Any], entry: OptimizerRun) -> _Run:
        cfg = self.config
        model = self.model_spec.build(self.dataset, seed=cfg.seed).to(self.device)
        groups = parameter_groups(model, cfg.weight_decay) if "weight_decay" in hp else list(model.parameters())
        opt = spec.build(groups, hp, implementation_kwargs(spec, entry.impl))
        scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(cfg.schedule, cfg.steps))
        generator = torch.Generator().manual_seed(cfg.seed)
        run = _Run(
            summary=summary,
            spec=spec,
            model=model,
            opt=opt,
            scheduler=scheduler,
            batches=batch_indices(len(self.dataset.x_train), cfg.batch_size, cfg.seed),
            scaler=make_scaler(self.device, cfg.precision),
            # Each run draws from its own stream (AdaHessian's probes, ...): seeded by the session, not by
            # whichever runs happen to step before it.
            rng_state=generator.get_state(),
        )
        if self.device == "cuda":
            run.cuda_rng_state = torch.cuda.get_rng_state()
        return run

    def _step(self, run: _Run, step: int, data: tuple[torch.Tensor, ...]) -> StepRecord:
        cfg = self.config
        x_train, y_train, x_val, y_val = data
        batch = next(run.batches).to(self.device)
        x, y = x_train[batch], y_train[batch]
        cuda = self.device == "cuda"
        torch.set_rng_state(run.rng_state)
        if cuda:
            torch.cuda.set_rng_state(run.cuda_rng_state)
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            own_before = sum(resident_bytes(run.model, run.opt))
            torch.cuda.reset_peak_memory_stats()
        lr = _current_lr(run.opt)
        closure = training_closure(
            run.spec,
            run.model,
            x,
            y,
            run.opt,
            device=self.device,
            precision=cfg.precision,
            clip=cfg.clip_grad_norm,
            scaler=run.scaler,
        )
        skipped = False
        start = time.perf_counter()
        # The registry's `spec.step`, written out so the optimizer step can be timed on its own.
        if run.spec.before_step is not None:
            run.spec.before_step(run.opt)
        if run.spec.needs_closure:
            loss = run.opt.step(closure)
            opt_start = start
        else:
            loss = closure()
            if cuda:
                torch.cuda.synchronize()
            opt_start = time.perf_counter()
            if run.scaler is not None:
                skipped = scaled_step(run.opt, run.scaler)
            else:
                run.opt.step()
        if cuda:
            torch.cuda.synchronize()
        end = time.perf_counter()
        run.scheduler.step()
        run.rng_state = torch.get_rng_state()
        if cuda:
            run.cuda_rng_state = torch.cuda.get_rng_state()
            # This run's share of the allocator's peak: what it added during its step, on top of what it held.
            run.peak = max(run.peak, torch.cuda.max_memory_allocated() - before + own_before)
        run.wall += end - start
        val_loss = val_accuracy = None
        if step % cfg.evaluation_interval == 0 or step == cfg.steps:
            val_loss, val_accuracy = self._evaluate(run, x_val, y_val)
            if not cuda:
                run.peak = max(run.peak, sum(resident_bytes(run.model, run.opt)))
        elif step == 1 and not cuda:
            run.peak = max(run.peak, sum(resident_bytes(run.model, run.opt)))  # state exists from the first step
        return StepRecord(
            run=run.summary.run,
            label=run.summary.label,
            step=step,
            train_loss=float(loss.detach()),
            lr=lr,
            step_time=end - start,
            optimizer_time=end - opt_start,
            wall_time=run.wall,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            skipped=skipped,
        )

    def _evaluate(self, run: _Run, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """Validation at the point a user would keep: Schedule-Free's averaged x (its `.eval()` mode)."""
        switch = callable(getattr(run.opt, "eval", None)) and callable(getattr(run.opt, "train", None))
        if switch:
            run.opt.eval()
        try:
            return evaluate(run.model, x, y)
        finally:
            if switch:
                run.opt.train()

    def _memory(self, run: _Run) -> MemoryReport:
        params, grads, state = resident_bytes(run.model, run.opt)
        cuda = self.device == "cuda"
        spec, summary = run.spec, run.summary
        return MemoryReport(
            parameters=summary.parameters,
            parameter_bytes=params,
            gradient_bytes=grads,
            state=state,
            theoretical_state=spec.state_bytes(summary.hp) * summary.parameters,
            peak=run.peak if cuda else max(run.peak, params + grads + state),
            peak_source="cuda allocator" if cuda else "params + grads + state",
        )

    def _end(self, summary: RunSummary, run: _Run | None, status: str, message: str) -> RunEnded:
        memory = None
        if run is not None and status != "oom":
            memory = self._memory(run)
        summary.status, summary.message, summary.memory = status, message, memory
        if run is not None and self.config.keep_weights and status != "oom":
            summary.final_weights = flat_parameters(run.model).cpu()
        if run is not None:
            run.opt.state.clear()
            del run.model, run.opt
            if self.device == "cuda" and status == "oom":
                torch.cuda.empty_cache()
        return RunEnded(summary.run, summary.label, status, message, memory)

    def to_dict(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "format": "optviz-train",
            "version": 1,
            "model": cfg.model,
            "dataset": cfg.dataset,
            "device": self.device,
            "device_reason": self.device_choice.reason,
            "precision": cfg.precision,
            "steps": cfg.steps,
            "batch_size": cfg.batch_size,
            "schedule": cfg.schedule.name,
            "clip_grad_norm": cfg.clip_grad_norm,
            "weight_decay": cfg.weight_decay,
            "seed": cfg.seed,
            "torch": torch.__version__,
            "runs": [s.to_dict() for s in self.summaries],
        }


def _current_lr(opt: torch.optim.Optimizer) -> float:
    lr = opt.param_groups[0]["lr"]
    return float(lr.item() if isinstance(lr, torch.Tensor) else lr)


def _failure(exc: BaseException, step: int) -> tuple[str, str]:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    if is_out_of_memory(exc):
        return "oom", f"out of memory at step {step} ({first_line}); this run stopped, the others go on"
    return "error", f"{type(exc).__name__} at step {step}: {first_line}"


def _size_note(spec: OptimizerSpec, largest: int) -> str:
    if spec.min_numel and largest < spec.min_numel:
        return (
            f"no tensor in this model has {spec.min_numel:,}+ elements, so {spec.title} keeps fp32 state "
            f"everywhere; pick mlp-wide to see its savings"
        )
    return ""


def unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out
