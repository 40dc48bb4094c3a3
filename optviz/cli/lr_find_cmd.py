"""`optviz lr-find`: the learning-rate range test (Smith, 2017) on a real model (`optviz.core.learn.lr_find`),
as JSON and a PNG of the loss against the lr with both suggestions marked.

Example: optviz lr-find --model mlp --dataset digits --optimizer adamw --json lr.json --png lr.png
"""

from __future__ import annotations

import argparse
import warnings
from typing import TextIO

from optviz.cli import argtypes
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.progress import ProgressBar
from optviz.cli.robustness_cmd import add_shared
from optviz.cli.train_cmd import optimizer_runs


def add_parser(sub: argparse._SubParsersAction) -> None:
    from optviz.core.learn.config import LR_FIND_MAX as DEFAULT_MAX
    from optviz.core.learn.config import LR_FIND_MIN as DEFAULT_MIN
    from optviz.core.learn.config import LR_FIND_STEPS as DEFAULT_STEPS

    p = sub.add_parser(
        "lr-find",
        help="the learning-rate range test on a real model: loss against an exponentially growing lr",
        description="Train the model while the learning rate grows exponentially from --min to --max, stop once "
        "the smoothed loss blows up (4x its minimum), and suggest an lr: the steepest descent, and a tenth of "
        "the lr at the minimum. Example: optviz lr-find --optimizer adamw --json lr.json --png lr.png",
    )
    add_shared(p, many=False)
    p.add_argument(
        "--min",
        dest="min_lr",
        type=argtypes.positive_float,
        default=DEFAULT_MIN,
        metavar="LR",
        help=f"the first learning rate (default {DEFAULT_MIN:g})",
    )
    p.add_argument(
        "--max",
        dest="max_lr",
        type=argtypes.positive_float,
        default=DEFAULT_MAX,
        metavar="LR",
        help=f"the last learning rate (default {DEFAULT_MAX:g})",
    )
    p.add_argument(
        "--steps",
        type=argtypes.integer,
        default=DEFAULT_STEPS,
        metavar="N",
        help=f"steps from --min to --max (default {DEFAULT_STEPS})",
    )
    p.add_argument("--json", metavar="OUT", help="write the curve and the suggestions as JSON; - for standard output")
    p.add_argument("--png", metavar="OUT", help="draw the loss against the lr, suggestions marked, as a PNG")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from optviz.core.learn.lr_find import check_range, lr_find
    from optviz.core.learn.trial import TrialSetup

    warnings.filterwarnings("ignore", message=".*_stable_hash_for_caching.*")  # torchao, not ours to fix
    check_range(args.min_lr, args.max_lr, args.steps)
    setup = TrialSetup(args.model, args.dataset, args.batch_size, args.device, args.seed)
    (entry,) = optimizer_runs([args.optimizer], "for-loop")
    outputs = check_outputs([("--json", args.json), ("--png", args.png)], args.force)
    bar = ProgressBar("lr finder")
    result = lr_find(
        setup, entry, args.min_lr, args.max_lr, args.steps, progress=lambda d, t, text: bar.show(d / t, text)
    )
    bar.close()

    def report(stream: TextIO) -> None:
        stream.write(summary(result, setup))
        for out in outputs.values():
            if not out.to_stdout:
                stream.write(f"wrote {out.given}\n")

    deliver(outputs, {"--json": result.to_json, "--png": lambda: picture(result, setup)}, report)
    return 0


def summary(result, setup) -> str:
    s = result.suggestions
    lines = [
        f"{result.optimizer} on {setup.model} / {setup.dataset}: {len(result.lrs)} of {result.steps} steps, "
        f"lr {result.min_lr:g} to {result.lrs[-1] if result.lrs else result.min_lr:.3g}",
        f"stopped: {result.stop_reason}"
        if result.stop_reason
        else "ran every step (the smoothed loss never passed 4x its minimum)",
        f"steepest descent:      lr = {s.steepest_lr:.3g}"
        if s.steepest_lr is not None
        else "steepest descent:      none (the smoothed loss never fell)",
        f"minimum / 10 (valley): lr = {s.valley_lr:.3g}" if s.valley_lr is not None else "minimum / 10: none",
    ]
    return "\n".join(lines) + "\n"


def picture(result, setup) -> bytes:
    from PySide6 import QtGui

    from optviz.core.learn.lr_find import SMOOTHING
    from optviz.export.plots import lr_finder_png

    s = result.suggestions
    marks = []
    if s.steepest_lr is not None:
        marks.append((f"steepest: {s.steepest_lr:.2g}", s.steepest_lr, QtGui.QColor("#ffb74d")))
    if s.valley_lr is not None:
        marks.append((f"min / 10: {s.valley_lr:.2g}", s.valley_lr, QtGui.QColor("#81c784")))
    title = f"LR range test: {result.optimizer} on {setup.model} / {setup.dataset}"
    caption = f"batch {setup.batch_size}, seed {setup.seed}; smoothed with beta {SMOOTHING}, bias-corrected" + (
        f"; {result.stop_reason}" if result.stop_reason else ""
    )
    return lr_finder_png(
        title, caption, (result.min_lr, result.max_lr), result.lrs, result.losses, result.smoothed, marks
    )
