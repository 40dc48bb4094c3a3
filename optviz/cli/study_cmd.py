"""`optviz study run|worker|report`: tuning studies on real training (`optviz.core.study`).

`run` creates a study (or resumes one of that name with the same set-up) and takes trials until every
optimizer's budget is reached, `--jobs J` with J - 1 more worker processes beside it; `worker` joins an existing
study from any machine that reaches its storage; `report` writes the comparison as one HTML file and JSON.
Example: optviz study run --model mlp --dataset digits --optimizer momentum --optimizer adamw --optimizer lion
--tune lr,beta2 --trials 20 --study digits-mlp
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any, TextIO

from optviz.cli import argtypes
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.progress import ProgressBar
from optviz.cli.specs import parse_spec
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    from optviz.core.learn.config import DEVICES, PRECISIONS

    study = sub.add_parser(
        "study",
        help="tune several optimizers on real training with equal budgets (Optuna); resumable, many workers",
        description="Tuning studies: every optimizer gets the same number of trials, seeds and batches. "
        "`optviz study run` starts or resumes one, `optviz study worker` adds a worker (on any machine that "
        "reaches the storage), `optviz study report` writes the comparison as HTML and JSON.",
    )
    actions = study.add_subparsers(dest="action", metavar="ACTION", parser_class=type(study), required=True)

    run_p = actions.add_parser(
        "run",
        help="create or resume a study and train its trials",
        description="Create a study (or resume the one of that name) and take trials until each optimizer's "
        "budget is reached. Example: optviz study run --model mlp --dataset digits --optimizer momentum "
        "--optimizer adamw --tune lr,beta2 --trials 20 --study digits-mlp",
    )
    _where(run_p)
    run_p.add_argument("--model", default="mlp", metavar="NAME", help="model from the zoo (optviz list)")
    run_p.add_argument("--dataset", default="digits", metavar="NAME", help="data set (optviz list)")
    run_p.add_argument(
        "--optimizer",
        action="append",
        metavar="NAME[:k=v,...]",
        help="an optimizer, with hyperparameters held fixed (e.g. adamw:weight_decay=0.1); repeat for several",
    )
    run_p.add_argument(
        "--tune",
        required=True,
        metavar="NAMES",
        help="what to tune, e.g. lr,beta2 or lr=1e-4:1e-1,beta2 (default ranges: lr 1e-5..1 log, beta2 0.9..0.9999)",
    )
    run_p.add_argument("--trials", type=argtypes.integer, metavar="N", help="trials per optimizer (default 20)")
    run_p.add_argument("--grid", action="store_true", help="a grid over the tuned values instead of TPE search")
    run_p.add_argument(
        "--grid-points", type=argtypes.integer, default=5, metavar="P", help="grid values per axis (default 5)"
    )
    run_p.add_argument("--prune", action="store_true", help="the median pruner, the same rule for every optimizer")
    run_p.add_argument("--steps", type=argtypes.integer, default=200, metavar="N", help="optimizer steps per run")
    run_p.add_argument("--batch-size", type=argtypes.integer, default=64, metavar="B", help="samples per step")
    run_p.add_argument("--seeds", type=argtypes.integer, default=1, metavar="K", help="runs per trial (seeds)")
    run_p.add_argument("--seed", type=argtypes.seed, default=0, metavar="S", help="the first seed; the sampler's")
    run_p.add_argument("--device", choices=DEVICES, default="cpu", help="cpu (default), cuda, or auto")
    run_p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="fp16 (GradScaler) needs CUDA")
    run_p.add_argument(
        "--jobs", type=argtypes.integer, default=1, metavar="J", help="worker processes on this machine (default 1)"
    )
    run_p.add_argument("--json", metavar="OUT", help="write the report as JSON when the study is done")
    run_p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    run_p.set_defaults(run=run_study)

    worker = actions.add_parser(
        "worker",
        help="join an existing study and take trials until its budget is reached",
        description="Join a study (from this or another machine) and take trials until every optimizer's budget "
        "is reached. Example: optviz study worker --storage postgresql://optviz@db-host/optviz --study digits-mlp",
    )
    _where(worker)
    worker.add_argument("--max-trials", type=argtypes.integer, metavar="N", help="stop after training N trials")
    worker.add_argument("--quiet", action="store_true", help="no progress bar (a worker started by study run)")
    worker.set_defaults(run=run_worker)

    report = actions.add_parser(
        "report",
        help="write a study's comparison as one HTML file (pictures embedded) and JSON",
        description="The comparison of a study's optimizers at their tuned best, the Pareto front and the "
        "decision questions answered. Example: optviz study report --study digits-mlp --html report.html",
    )
    _where(report)
    report.add_argument("--html", metavar="OUT", help="one self-contained HTML file to send to a colleague")
    report.add_argument("--json", metavar="OUT", help="the same numbers as JSON; - for standard output")
    report.add_argument("--force", action="store_true", help="replace the output files if they exist")
    report.set_defaults(run=run_report)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", required=True, metavar="NAME", help="the study's name (letters, digits, . _ -)")
    p.add_argument(
        "--storage",
        type=argtypes.nonempty,
        metavar="URL",
        help="an Optuna storage: postgresql://..., mysql://..., sqlite:///FILE, grpc://HOST:PORT, or a journal "
        "file path (default: a journal file in your data folder)",
    )


def _open(args: argparse.Namespace) -> tuple[str, Any]:
    from optviz.core.study.setup import NAME_PATTERN
    from optviz.core.study.storage import open_default, open_storage

    if not NAME_PATTERN.match(args.study):
        raise OptvizError(f"--study {args.study!r}: use letters, digits, '.', '_' and '-' (up to 100, no '/')")
    if args.storage is None:
        return open_default(args.study)
    return args.storage, open_storage(args.storage)


def setup_from_args(args: argparse.Namespace):
    from optviz.core.optimizers import get_optimizer
    from optviz.core.study.setup import StudyOptimizer, StudySetup
    from optviz.core.study.space import parse_tune

    if not args.optimizer:
        raise OptvizError("give at least one --optimizer (e.g. --optimizer adamw --optimizer lion)")
    if args.grid and args.trials is not None:
        raise OptvizError("--grid runs every cell of the grid once: leave out --trials (set --grid-points)")
    if not 1 <= args.jobs <= 256:
        raise OptvizError(f"--jobs {args.jobs} is out of range (1 to 256)")
    optimizers = []
    for text in args.optimizer:
        # Fixed values typed on the command line are text: stored as the schema reads them.
        name, fixed = parse_spec(text, "optimizer")
        spec = get_optimizer(name)
        optimizers.append(StudyOptimizer(spec.name, {k: spec.schema.check(k, v) for k, v in fixed.items()}))
    return StudySetup(
        name=args.study,
        optimizers=tuple(optimizers),
        tune=parse_tune(args.tune),
        trials=20 if args.trials is None else args.trials,
        mode="grid" if args.grid else "tpe",
        grid_points=args.grid_points,
        pruner=args.prune,
        model=args.model,
        dataset=args.dataset,
        steps=args.steps,
        batch_size=args.batch_size,
        seeds=args.seeds,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
    )


class StudyProgress:
    """The shared bar over the whole study: finished trials of the budget, plus the current trial's share."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.bar = ProgressBar("study", stream)

    def __call__(self, event: Any) -> None:
        if event.kind == "note":
            self.bar.message(event.message)
        elif event.kind == "ended" and event.message:
            self.bar.message(f"{event.optimizer} #{event.trial}: {event.message}")
        elif event.total:
            fraction = (event.done + (event.fraction if event.kind == "step" else 0.0)) / event.total
            self.bar.show(fraction, f"{event.done}/{event.total} trials  {event.optimizer} #{event.trial}")


def run_study(args: argparse.Namespace) -> int:
    from optviz.core.study.worker import TuningStudy

    outputs = check_outputs([("--json", args.json)], args.force)
    setup = setup_from_args(args)
    url, storage = _open(args)
    study = TuningStudy.create(storage, setup)
    progress = StudyProgress()
    progress.bar.message(
        f"study {setup.name}: {study.finished()}/{study.total} trials finished "
        f"({study.budget} per optimizer); storage: {_shown(url)}"
    )
    helpers = [_spawn_worker(url, setup.name) for _ in range(args.jobs - 1)]
    summary = study.run_worker(progress)
    failed = [p.wait() for p in helpers]
    progress.bar.close()
    for item in summary.failed_stale:
        progress.bar.message(f"{item}: interrupted earlier, marked failed and run again")
    if any(failed):
        progress.bar.message(f"{sum(1 for f in failed if f)} of the {len(helpers)} extra workers ended with an error")
    return _finish(study, outputs, url)


def _spawn_worker(url: str, name: str) -> subprocess.Popen:
    """One more worker process on this machine: the same command a person would start on another one."""
    command = [sys.executable, "-m", "optviz", "study", "worker", "--storage", url, "--study", name, "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def run_worker(args: argparse.Namespace) -> int:
    from optviz.core.study.worker import TuningStudy

    if args.max_trials is not None and args.max_trials < 1:
        raise OptvizError(f"--max-trials {args.max_trials}: give at least 1")
    _url, storage = _open(args)
    study = TuningStudy.load(storage, args.study)
    progress = None if args.quiet else StudyProgress()
    summary = study.run_worker(progress, max_trials=args.max_trials)
    if progress is not None:
        progress.bar.close()
    done = study.finished()
    print(f"study {args.study}: this worker trained {summary.trained} trials; {done}/{study.total} finished")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from optviz.core.study.worker import TuningStudy

    outputs = check_outputs([("--html", args.html), ("--json", args.json)], args.force)
    url, storage = _open(args)
    return _finish(TuningStudy.load(storage, args.study), outputs, url)


def _finish(study: Any, outputs: dict, url: str) -> int:
    from optviz.core.study.report import build_report

    report = build_report(study.setup, study.records())

    def html() -> str:
        from optviz.export.study_report import study_html

        return study_html(report, url)

    def text(stream: TextIO) -> None:
        stream.write(format_report(report))
        for out in outputs.values():
            if not out.to_stdout:
                stream.write(f"wrote {out.given}\n")

    deliver(outputs, {"--json": lambda: json_text(report.to_dict()), "--html": html}, text)
    return 0


def format_report(report: Any) -> str:
    header = (
        f"{'optimizer':<14} {'trials':>7} {'failed':>6} {'val loss':>17} {'accuracy':>15} {'B/param':>8} "
        f"{'peak MiB':>9} {'samples/s':>10} {'to 1 %':>6} {'within 10 %':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in report.rows:
        loss = f"{r.val_loss:.4f} ± {r.val_loss_spread:.4f}" if r.best_trial is not None else "-"
        acc = f"{r.accuracy:.3f} ± {r.accuracy_spread:.3f}" if r.best_trial is not None else "-"
        lines.append(
            f"{r.optimizer:<14} {f'{r.finished}/{r.budget}':>7} {r.failed:>6} {loss:>17} {acc:>15} "
            f"{r.state_per_param:>8.2f} {r.peak_bytes / 2**20:>9.3f} {r.throughput:>10,.0f} "
            f"{r.trials_to_near or '-':>6} {r.sensitivity:>11.0%}"
        )
    lines += [f"{q}: {a}" for q, a in report.answers]
    lines.append("which hyperparameter mattered (Optuna's PED-ANOVA importances over the finished trials):")
    for name, weight in report.importances.items():
        shares = ", ".join(f"{k} {v:.0%}" for k, v in weight.values.items()) or weight.note
        lines.append(f"  {name:<12} {shares}")
    return "\n".join(lines) + "\n"


def _shown(url: str) -> str:
    from optviz.core.study.storage import safe_url

    return safe_url(url)
