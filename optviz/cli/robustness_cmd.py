"""`optviz robustness`: what each optimizer does when one step's real gradient explodes, vanishes, goes sparse
or holds a NaN or an infinity, with and without gradient clipping (`optviz.core.learn.robustness`).

Example: optviz robustness --model mlp --dataset digits --optimizer adam --optimizer sgd:lr=0.1 --json rob.json
"""

from __future__ import annotations

import argparse
import warnings

from optviz.cli import argtypes
from optviz.cli.help_names import names_in_help
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.progress import ProgressBar
from optviz.cli.train_cmd import optimizer_runs
from optviz.core.errors import OptvizError


def add_shared(p: argparse.ArgumentParser, many: bool) -> None:
    """Model, data, optimizer(s), device, batch size and seed: what `robustness` and `lr-find` share."""
    from optviz.core.learn.config import DEVICES

    names_in_help(
        p.add_argument("--model", default="mlp", metavar="NAME", help="model from the zoo: %(names)s (default mlp)"),
        "optviz.core.learn.models",
        "MODELS",
    )
    names_in_help(
        p.add_argument("--dataset", default="digits", metavar="NAME", help="data set: %(names)s (default digits)"),
        "optviz.core.learn.datasets",
        "DATASETS",
    )
    p.add_argument(
        "--optimizer",
        action="append" if many else "store",
        required=not many,
        metavar="NAME[:k=v,...]",
        help="an optimizer and its hyperparameters, e.g. adam:lr=3e-3"
        + ("; repeat for several" if many else "")
        + "; impl=for-loop|foreach|fused picks its implementation",
    )
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when torch sees a GPU, else CPU")
    p.add_argument("--batch-size", type=argtypes.integer, default=64, metavar="B", help="samples per step")
    p.add_argument("--seed", type=argtypes.seed, default=0, metavar="S", help="seed for data, weights and batches")
    p.add_argument("--force", action="store_true", help="replace an output file if it exists")


def clip_norm(text: str) -> float:
    """`--clip 1.0` or `--clip norm=1.0`: a gradient-norm threshold above 0."""
    raw = text.strip()
    return argtypes.positive_float(raw[len("norm=") :] if raw.lower().startswith("norm=") else raw)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "robustness",
        help="bad gradients at one step (exploding, vanishing, sparse, NaN, inf): which optimizers survive",
        description="Train the model with each optimizer (same seed, same batches) and, at one step, spoil the "
        "real gradient after backward: x1e3, x1e-6, 90 percent zeroed, one NaN, one inf; each with and without "
        "gradient clipping, each judged against the untouched run. Example: optviz robustness --optimizer adam "
        "--optimizer sgd:lr=0.1 --json rob.json",
    )
    add_shared(p, many=True)
    p.add_argument("--at-step", type=argtypes.integer, default=20, metavar="N", help="the step spoiled (default 20)")
    p.add_argument(
        "--after",
        type=argtypes.integer,
        default=30,
        metavar="N",
        help="judge N steps after the event: recovered if back within the tolerance by then (default 30)",
    )
    p.add_argument(
        "--steps", type=argtypes.integer, metavar="N", help="steps per run (default and least: at-step + after)"
    )
    p.add_argument(
        "--tolerance",
        type=argtypes.positive_float,
        default=10.0,
        metavar="PCT",
        help="percent above the untouched run's loss still counted as fine (default 10)",
    )
    clip = p.add_mutually_exclusive_group()
    clip.add_argument(
        "--clip",
        type=clip_norm,
        default=1.0,
        metavar="NORM",
        help="the clipped runs' clip_grad_norm_ threshold (default 1.0; norm=1.0 also reads)",
    )
    clip.add_argument("--no-clip", action="store_true", help="run without clipping only")
    p.add_argument(
        "--cases",
        metavar="A,B,...",
        help="the cases to run (default all): exploding, vanishing, sparse, nan, inf",
    )
    p.add_argument("--json", metavar="OUT", help="write every outcome and loss window as JSON; - for standard output")
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace):
    from optviz.core.learn.robustness import CASES, RobustnessConfig
    from optviz.core.learn.trial import TrialSetup

    if not args.optimizer:
        raise OptvizError("give at least one --optimizer (e.g. --optimizer adam --optimizer sgd:lr=0.1)")
    cases = tuple(CASES)
    if args.cases is not None:
        cases = tuple(c.strip().lower() for c in args.cases.split(",") if c.strip())
        if not cases:
            raise OptvizError("--cases is empty; choose from: " + ", ".join(CASES))
    return RobustnessConfig(
        setup=TrialSetup(args.model, args.dataset, args.batch_size, args.device, args.seed),
        optimizers=optimizer_runs(args.optimizer, "for-loop"),
        at_step=args.at_step,
        after=args.after,
        steps=args.steps or 0,
        tolerance=args.tolerance,
        clip=None if args.no_clip else args.clip,
        cases=cases,
    )


def run(args: argparse.Namespace) -> int:
    from optviz.core.learn.robustness import format_table, robustness_test

    warnings.filterwarnings("ignore", message=".*_stable_hash_for_caching.*")  # torchao, not ours to fix
    if args.steps is not None and args.steps < 1:
        raise OptvizError(f"--steps {args.steps} must be at least 1")
    config = config_from_args(args)
    outputs = check_outputs([("--json", args.json)], args.force)
    bar = ProgressBar("robustness")
    report = robustness_test(config, progress=lambda done, total, text: bar.show(done / total, text))
    bar.close()

    def table(stream) -> None:
        stream.write(f"{config.setup.model} on {config.setup.dataset}, device {report.device}\n")
        stream.write(format_table(report))
        for out in outputs.values():
            if not out.to_stdout:
                stream.write(f"wrote {out.given}\n")

    deliver(outputs, {"--json": report.to_json}, table)
    return 0
