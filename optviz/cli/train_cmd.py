"""`optviz train`: train a zoo model with several optimizers headless; print a table, write JSON.

Example: optviz train --model mlp-wide --dataset digits --optimizer adamw --optimizer adam8bit
--optimizer adafactor --impl fused --steps 200 --json runs.json
"""

from __future__ import annotations

import argparse
import warnings
from typing import TextIO

from optviz.cli import argtypes
from optviz.cli.help_names import names_in_help
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.progress import ProgressBar
from optviz.cli.specs import parse_spec
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    from optviz.core.learn.config import DEVICES, PRECISIONS
    from optviz.core.learn.implementations import IMPLEMENTATIONS
    from optviz.core.learn.schedules import SCHEDULES

    p = sub.add_parser(
        "train",
        help="train a small model with several optimizers; report loss, step time and memory",
        description="Train one model with several optimizers side by side (same data, same initial weights). "
        "Example: optviz train --model mlp-wide --dataset digits --optimizer adamw --optimizer adam8bit "
        "--optimizer adafactor --steps 200 --json runs.json",
    )
    names_in_help(
        p.add_argument(
            "--model",
            default="mlp",
            metavar="NAME",
            help="model from the zoo: %(names)s (a wrong name lists the choices)",
        ),
        "optviz.core.learn.models",
        "MODELS",
    )
    names_in_help(
        p.add_argument("--dataset", default="moons", metavar="NAME", help="data set: %(names)s"),
        "optviz.core.learn.datasets",
        "DATASETS",
    )
    p.add_argument(
        "--optimizer",
        action="append",
        metavar="NAME[:k=v,...]",
        help="an optimizer and its hyperparameters, e.g. adamw:lr=3e-3; repeat for several; "
        "impl=for-loop|foreach|fused inside the spec picks that optimizer's implementation",
    )
    p.add_argument(
        "--impl", choices=IMPLEMENTATIONS, default="for-loop", help="implementation for optimizers without impl="
    )
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when torch sees a GPU, else CPU")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="fp16 (GradScaler) needs CUDA")
    p.add_argument("--steps", type=argtypes.integer, default=200, metavar="N", help="optimizer steps per run")
    p.add_argument("--batch-size", type=argtypes.integer, default=64, metavar="B", help="samples per step")
    p.add_argument("--schedule", choices=list(SCHEDULES), default="constant", help="learning-rate schedule")
    p.add_argument(
        "--clip", type=argtypes.nonnegative_float, default=0.0, metavar="NORM", help="clip the gradient norm (0: off)"
    )
    p.add_argument(
        "--weight-decay",
        type=argtypes.finite_float,
        metavar="W",
        help="decay for every optimizer (default: each optimizer's own); biases and norms never decay",
    )
    p.add_argument("--seed", type=argtypes.seed, default=0, metavar="S", help="seed for data, weights and batches")
    p.add_argument(
        "--json", metavar="OUT", help="write every run (curves, step times, memory) as JSON; - for standard output"
    )
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    p.set_defaults(run=run)


def optimizer_runs(specs: list[str], default_impl: str) -> tuple:
    from optviz.core.learn.config import OptimizerRun

    runs = []
    for text in specs:
        name, values = parse_spec(text, "optimizer")
        impl = values.pop("impl", default_impl)
        runs.append(OptimizerRun(name, values, impl))
    return tuple(runs)


def config_from_args(args: argparse.Namespace):
    from optviz.core.learn.config import TrainConfig
    from optviz.core.learn.schedules import ScheduleConfig

    if not args.optimizer:
        raise OptvizError("give at least one --optimizer (e.g. --optimizer adamw --optimizer sgd:lr=0.1)")
    return TrainConfig(
        model=args.model,
        dataset=args.dataset,
        optimizers=optimizer_runs(args.optimizer, args.impl),
        batch_size=args.batch_size,
        steps=args.steps,
        device=args.device,
        precision=args.precision,
        schedule=ScheduleConfig(args.schedule),
        clip_grad_norm=args.clip,
        weight_decay=args.weight_decay,
        seed=args.seed,
    )


class TrainProgress:
    """Steps done out of all runs' steps, on the shared bar; messages get lines of their own."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.bar = ProgressBar("training", stream)
        self.total, self.done = max(1, total), 0

    def step(self, label: str) -> None:
        self.done += 1
        self.bar.show(self.done / self.total, f"{self.done}/{self.total} steps  {label}")

    def message(self, text: str) -> None:
        self.bar.message(text)


def run(args: argparse.Namespace) -> int:
    from optviz.core.learn.records import RunEnded, StepRecord
    from optviz.core.learn.training import TrainingSession

    # torchao compiles its 8-bit step and warns about a caching detail that is not ours to fix.
    warnings.filterwarnings("ignore", message=".*_stable_hash_for_caching.*")
    outputs = check_outputs([("--json", args.json)], args.force)
    session = TrainingSession(config_from_args(args))
    progress = TrainProgress(args.steps * len(session.summaries))
    progress.message(f"device: {session.device_choice.reason}; {session.parameter_count:,} parameters")
    for summary in session.summaries:
        if summary.note:
            progress.message(f"note: {summary.label}: {summary.note}")
    for event in session.events():
        if isinstance(event, StepRecord):
            progress.step(event.label)
        elif isinstance(event, RunEnded):
            progress.total -= args.steps - len(session.summaries[event.run].train_loss)
            if event.status != "done":
                progress.message(f"{event.label}: {event.status}: {event.message}")
    progress.message("")

    def report(stream: TextIO) -> None:
        stream.write(format_table(session.summaries, args.batch_size))
        for out in outputs.values():
            if not out.to_stdout:
                stream.write(f"wrote {out.given}\n")

    deliver(outputs, {"--json": lambda: json_text(session.to_dict())}, report)
    return 0


def format_table(summaries: list, batch_size: int) -> str:
    header = (
        f"{'optimizer':<28} {'status':<8} {'val loss':>9} {'val acc':>8} {'ms/step':>8} "
        f"{'state B/param':>13} {'peak MiB':>9}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        ms = 1000 * sorted(s.step_times)[len(s.step_times) // 2] if s.step_times else float("nan")
        acc = s.val_accuracy[-1] if s.val_accuracy else float("nan")
        per = s.memory.state_per_param if s.memory else float("nan")
        peak = s.memory.peak / 2**20 if s.memory else float("nan")
        lines.append(
            f"{s.label:<28} {s.status:<8} {s.final_loss():>9.4f} {acc:>8.3f} {ms:>8.3f} {per:>13.2f} {peak:>9.2f}"
        )
    return "\n".join(lines) + "\n"
