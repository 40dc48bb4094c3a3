"""`optviz race`: run a race headless, print a leaderboard, write trajectories as JSON and CSV."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from optviz.cli import argtypes
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.specs import parse_spec
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_text
from optviz.core.race.clip import CLIP_KINDS, parse_clip
from optviz.core.race.lr_schedule import SCHEDULE_KINDS, parse_schedule
from optviz.core.race.perturb import parse_perturbation
from optviz.core.race.result import RaceResult, RunStatus
from optviz.core.race.starts import parse_grid, parse_point
from optviz.core.scene import OptimizerEntry, Scene, default_scene, load_scene
from optviz.export.trajectories import race_csv, race_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "race",
        help="race optimizers on a surface and print a leaderboard",
        description="Race optimizers headless. Flags override the scene (the default scene without --scene). "
        "Example: optviz race --surface rosenbrock --optimizer adam:lr=0.01 --optimizer sgd:lr=1e-3,momentum=0.9",
    )
    add_race_arguments(p)
    p.add_argument(
        "--json", metavar="OUT", help="write every run (positions, losses, status) as JSON; - for standard output"
    )
    p.add_argument("--csv", metavar="OUT", help="write one row per run and step as CSV; - for standard output")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.set_defaults(run=run)


def add_race_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that define a race; shared with other commands that render or export races."""
    p.add_argument("--scene", type=argtypes.nonempty, metavar="FILE", help="scene file to start from")
    p.add_argument(
        "--surface",
        type=argtypes.nonempty,
        metavar="NAME[:k=v,...]",
        help="surface and its parameters, e.g. rastrigin:noise=2",
    )
    p.add_argument(
        "--formula",
        type=argtypes.nonempty,
        metavar="TEXT",
        help="custom surface formula in x and y, e.g. 'x^2 + 10*y^2'",
    )
    p.add_argument(
        "--optimizer",
        action="append",
        metavar="NAME[:k=v,...]",
        help="an optimizer and its hyperparameters; repeat to race several",
    )
    starts = p.add_mutually_exclusive_group()
    starts.add_argument("--start", action="append", metavar="X,Y", help="start point; repeat for several")
    starts.add_argument(
        "--starts", type=argtypes.nonempty, metavar="grid:NxM", help="an N x M grid of starts over the domain"
    )
    p.add_argument("--steps", type=argtypes.integer, metavar="N", help="steps per run")
    p.add_argument("--seed", type=argtypes.seed, metavar="S", help="seed for gradient noise and random optimizers")
    p.add_argument(
        "--tolerance", type=argtypes.positive_float, metavar="T", help="convergence tolerance (distance to a minimum)"
    )
    add_condition_arguments(p)


def add_condition_arguments(p: argparse.ArgumentParser) -> None:
    """--perturb, --clip and --schedule: what the runs see besides their hyperparameters (race and sweeps)."""
    p.add_argument(
        "--perturb",
        type=argtypes.nonempty,
        metavar="KIND[:k=v,...]",
        help="a gradient pathology every optimizer sees, or off: spike:factor=1e3,at=100,every=0,p=0.01; "
        "vanish:factor=1e-6,from=100,to=200; sparse:p=0.5; nan:at=50; inf:at=50; heavy:df=2,scale=1; stale:lag=10",
    )
    p.add_argument(
        "--clip",
        type=argtypes.nonempty,
        metavar="norm=X|value=X|off",
        help="clip every optimizer's gradient (as torch.nn.utils.clip_grad_norm_ / clip_grad_value_); "
        "one optimizer's own: --optimizer adam:clip_norm=1.0 (or clip_value=0.5)",
    )
    p.add_argument(
        "--schedule",
        type=argtypes.nonempty,
        metavar="KIND[:k=v,...]",
        help="every optimizer's learning-rate schedule (torch.optim.lr_scheduler), lengths as shares of the steps: "
        "constant; warmup-cosine:warmup=0.1; step:every=0.25,gamma=0.1; exponential:gamma=0.995; "
        "one-cycle:peak=0.3; restarts:period=0.25,mult=1. One optimizer's own: --optimizer adam:schedule=one-cycle",
    )


def surface_spec(surface: str | None, formula: str | None, default: str = "custom") -> tuple[str, dict[str, str]]:
    """`--surface NAME[:k=v,...]` and `--formula TEXT` as (surface name, parameters); a formula makes it custom."""
    name, params = parse_spec(surface or ("custom" if formula else default), "surface")
    if formula:
        if name != "custom":
            raise OptvizError("--formula defines a custom surface: leave out --surface or use --surface custom")
        params["formula"] = formula
    return name, params


def scene_from_args(args: argparse.Namespace) -> Scene:
    """The scene to race: the file (or the default scene) with every given flag applied on top."""
    scene = load_scene(args.scene) if args.scene else default_scene()
    if args.surface or args.formula:
        name, params = surface_spec(args.surface, args.formula)
        if name != scene.surface:
            scene.starts, scene.grid = [], None  # the old starts belong to the old surface's domain
        scene.surface, scene.surface_params = name, params
    if args.optimizer:
        scene.optimizers = [optimizer_entry(text) for text in args.optimizer]
    apply_clip_and_schedule(scene.optimizers, args, keep_own=bool(args.optimizer))
    if getattr(args, "perturb", None):
        scene.perturbation = parse_perturbation(args.perturb)
    if args.start:
        scene.starts, scene.grid = [parse_point(s) for s in args.start], None
    if args.starts:
        scene.starts, scene.grid = [], parse_grid(args.starts)
    if args.steps is not None:
        scene.steps = args.steps
    if args.seed is not None:
        scene.seed = args.seed
    if args.tolerance is not None:
        scene.tolerance = args.tolerance
    return scene.validate()


def apply_clip_and_schedule(entries: Sequence[OptimizerEntry], args: argparse.Namespace, keep_own: bool) -> None:
    """--clip and --schedule for every entry; with `keep_own`, an --optimizer's own clip_norm or schedule stays.
    Commands without the flags (inspect) share this: a missing flag changes nothing."""
    if getattr(args, "clip", None):
        clip = parse_clip(args.clip)
        for entry in entries:
            if not (keep_own and entry.clip is not None):
                entry.clip = clip
    if getattr(args, "schedule", None):
        schedule = parse_schedule(args.schedule)
        for entry in entries:
            if not (keep_own and entry.schedule is not None):
                entry.schedule = schedule


def optimizer_entry(text: str) -> OptimizerEntry:
    """`NAME[:k=v,...]` with an optional `clip_norm=X` or `clip_value=X` and `schedule=KIND` (its defaults)
    among the hyperparameters."""
    name, values = parse_spec(text, "optimizer")
    schedule = values.pop("schedule", None)
    if schedule is not None and schedule not in SCHEDULE_KINDS:
        raise OptvizError(f"optimizer {text!r}: schedule {schedule!r} is not one of {', '.join(SCHEDULE_KINDS)}")
    clips = [(kind, values.pop(f"clip_{kind}")) for kind in CLIP_KINDS if f"clip_{kind}" in values]
    if len(clips) > 1:
        raise OptvizError(f"optimizer {text!r}: give clip_norm or clip_value, not both")
    entry = OptimizerEntry(name, values, schedule=None if schedule is None else parse_schedule(schedule))
    if clips:
        entry.clip = parse_clip(f"{clips[0][0]}={clips[0][1]}")
    return entry


def run(args: argparse.Namespace) -> int:
    outputs = check_outputs([("--json", args.json), ("--csv", args.csv)], args.force)
    scene = scene_from_args(args).require_enabled()
    result = scene.run()
    contents = {"--json": lambda: json_text(race_json(scene, result)), "--csv": lambda: race_csv(result)}
    deliver(outputs, contents, lambda stream: print_leaderboard(scene, result, stream))
    return 0


def final_losses(result: RaceResult) -> np.ndarray:
    """(K, M) loss at each run's last valid point."""
    k_count, m_count, _ = result.shape
    return np.array(
        [[result.losses[k, m, result.valid_length(k, m) - 1] for m in range(m_count)] for k in range(k_count)]
    )


def print_leaderboard(scene: Scene, result: RaceResult, out) -> None:
    k_count, m_count, steps = result.shape
    surface = scene.race_surface(result)
    finals = final_losses(result)
    out.write(f"{surface.title or surface.name}: {k_count} optimizer(s) x {m_count} start(s) x {steps} steps\n")
    width = max([22, *(len(c.display_name) for c in result.configs)])  # a schedule or clip lengthens a name
    if m_count == 1:
        order = sorted(range(k_count), key=lambda k: (result.status[k, 0] == RunStatus.DIVERGED, finals[k, 0]))
        out.write(f"{'#':>2}  {'optimizer':<{width}} {'final loss':>12}  {'converged at':>12}  status\n")
        for rank, k in enumerate(order, start=1):
            status, stopped = result.status[k, 0], result.stopped_at[k, 0]
            conv = str(stopped) if status == RunStatus.CONVERGED else "-"
            detail = f" at step {stopped}: {result.reasons[k, 0]}" if status == RunStatus.DIVERGED else ""
            loss = "-" if not np.isfinite(finals[k, 0]) else f"{finals[k, 0]:.4g}"
            name = result.configs[k].display_name
            out.write(f"{rank:>2}  {name:<{width}} {loss:>12}  {conv:>12}  {status}{detail}\n")
        return
    out.write(f"{'optimizer':<{width}} {'converged':>10} {'diverged':>9} {'median final loss':>18}\n")
    for k in range(k_count):
        conv = int((result.status[k] == RunStatus.CONVERGED).sum())
        div = int((result.status[k] == RunStatus.DIVERGED).sum())
        finite = finals[k][np.isfinite(finals[k])]
        med = f"{np.median(finite):.4g}" if finite.size else "-"
        out.write(f"{result.configs[k].display_name:<{width}} {conv:>10} {div:>9} {med:>18}\n")
