"""`optviz sweep`, `optviz basins`, `optviz tune`: the sweeps of `optviz.core.sweep` from the command line, as
JSON (and .npz) plus a PNG picture with axes, labels and a colour bar or legend.

Outputs follow the one policy of every command (`optviz.cli.outputs`): checked before any work starts,
replaced only with --force, `-` for standard output, written whole before anything is printed.
"""

from __future__ import annotations

import argparse
import io
from typing import TextIO

import numpy as np

from optviz.cli import argtypes
from optviz.cli.outputs import Output, check_outputs, deliver
from optviz.cli.race_cmd import add_condition_arguments, apply_clip_and_schedule, optimizer_entry, surface_spec
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import finite_list, json_text
from optviz.core.optimizers import get_optimizer
from optviz.core.palette import PALETTE
from optviz.core.race.engine import DEFAULT_TOLERANCE
from optviz.core.race.perturb import parse_perturbation
from optviz.core.race.starts import parse_grid, parse_point
from optviz.core.scene import MAX_STEPS, run_config
from optviz.core.surfaces import get_surface
from optviz.core.surfaces.base import Surface
from optviz.core.sweep import (
    RunConditions,
    SweepAxis,
    default_axis,
    parse_axis,
    sweep_hyperparams,
    sweep_starts,
    tune,
)
from optviz.core.sweep.tune import OBJECTIVE, random_starts

DEFAULT_STEPS = 500
#: The second axis of a map when none is given: the first of these the optimizer has.
SECOND_AXES = ("beta1", "momentum", "beta2", "eps", "weight_decay")


def add_parser(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="a sensitivity map: one optimizer over a grid of two of its hyperparameters",
        description="Run one optimizer over a grid of two hyperparameters (one batched run) and write each "
        "cell's final loss, best loss, steps to tolerance, minimum reached and status. Example: optviz sweep "
        "--surface rosenbrock --optimizer adam --x lr=1e-4:1:64:log --y beta1=0:0.99:64 --json map.json "
        "--png map.png",
    )
    _common(sweep)
    sweep.add_argument("--x", metavar="PARAM=LO:HI:N[:log]", help="the x axis (default: lr over its range, 64)")
    sweep.add_argument(
        "--y", metavar="PARAM=LO:HI:N[:log]", help="the y axis (default: beta1 or momentum over its range, 64)"
    )
    starts = sweep.add_mutually_exclusive_group()
    starts.add_argument("--start", metavar="X,Y", help="the start (default: the surface's suggested start)")
    starts.add_argument(
        "--starts", type=argtypes.integer, metavar="K", help="K random starts over the domain; cells show medians"
    )
    sweep.add_argument("--npz", metavar="OUT", help="write the grids as numpy arrays")
    sweep.set_defaults(run=run_sweep)

    basins = sub.add_parser(
        "basins",
        help="basins of attraction: where one optimizer ends from every start of a grid",
        description="Run one optimizer from every start of an N x M grid over the surface's domain and write "
        "each start's final position, the minimum it reached and its status. Example: optviz basins "
        "--surface himmelblau --optimizer adam:lr=0.1 --grid 128x128 --json basins.json --png basins.png",
    )
    _common(basins)
    basins.add_argument("--grid", default="64x64", metavar="NxM", help="starts along x and y (default 64x64)")
    basins.set_defaults(run=run_basins)

    tune_p = sub.add_parser(
        "tune",
        help="fair tuning: every optimizer's learning rate searched on one grid with one objective",
        description="Search each optimizer's learning rate over the same log grid, scored by the same objective: "
        "the median over K random starts (the same for all) of the final loss after the step count. Example: "
        "optviz tune --surface rosenbrock --optimizer adam --optimizer sgd --budget 24 --starts 16 --json t.json",
    )
    _common(tune_p, many=True)
    tune_p.add_argument(
        "--budget", type=argtypes.integer, default=24, metavar="N", help="learning rates tried (default 24)"
    )
    tune_p.add_argument("--starts", type=argtypes.integer, default=16, metavar="K", help="random starts (default 16)")
    tune_p.add_argument(
        "--budgets",
        metavar="N,N,...",
        help="shorter step counts to score the same runs after too (the best lr per budget)",
    )
    tune_p.add_argument(
        "--also",
        metavar="PARAM=LO:HI:N[:log]",
        help="a second hyperparameter searched too, for the optimizers that have it",
    )
    tune_p.set_defaults(run=run_tune)


def _common(p: argparse.ArgumentParser, many: bool = False) -> None:
    p.add_argument(
        "--surface",
        type=argtypes.nonempty,
        metavar="NAME[:k=v,...]",
        help="surface and its parameters (default rosenbrock)",
    )
    p.add_argument("--formula", type=argtypes.nonempty, metavar="TEXT", help="custom surface formula in x and y")
    p.add_argument(
        "--optimizer",
        action="append" if many else "store",
        required=True,
        metavar="NAME[:k=v,...]",
        help="optimizer and fixed hyperparameters" + ("; repeat for several" if many else ""),
    )
    p.add_argument(
        "--steps", type=argtypes.integer, default=DEFAULT_STEPS, metavar="N", help=f"steps (default {DEFAULT_STEPS})"
    )
    p.add_argument(
        "--seed", type=argtypes.seed, default=0, metavar="S", help="seed for gradient noise and random starts"
    )
    p.add_argument(
        "--tolerance",
        type=argtypes.positive_float,
        default=DEFAULT_TOLERANCE,
        metavar="T",
        help="convergence tolerance",
    )
    add_condition_arguments(p)
    p.add_argument("--json", metavar="OUT", help="write the results as JSON ('-': standard output)")
    p.add_argument("--png", metavar="OUT", help="draw the result as a PNG picture")
    p.add_argument("--force", action="store_true", help="replace output files that exist")


def _surface(args: argparse.Namespace) -> Surface:
    return get_surface(*surface_spec(args.surface, args.formula, default="rosenbrock"))


def _optimizer(text: str, surface: Surface, args: argparse.Namespace) -> tuple[str, dict, RunConditions]:
    """`--optimizer NAME[:k=v,...]` (with its own clip_norm/clip_value/schedule, as `optviz race` takes) and the
    conditions every run sees: --perturb, and --clip and --schedule where the optimizer has none of its own."""
    entry = optimizer_entry(text)
    spec = get_optimizer(entry.name)
    if not spec.on_surfaces:
        raise OptvizError(f"{spec.name} cannot race on a surface: {spec.surface_unavailable}")
    apply_clip_and_schedule([entry], args, keep_own=True)
    config = run_config(entry, surface.name)  # the scene's own checks (a schedule needs an lr)
    perturbation = parse_perturbation(args.perturb) if args.perturb else None
    return spec.name, config.hyperparams, RunConditions(perturbation, config.clip, config.schedule)


def _conditions_json(conditions: RunConditions) -> dict[str, str | None]:
    """The conditions as the command line spells them (None: none)."""
    return {
        "perturbation": None if conditions.perturbation is None else conditions.perturbation.to_text(),
        "clip": None if conditions.clip is None else conditions.clip.to_text(),
        "schedule": None if conditions.schedule is None else conditions.schedule.to_text(),
    }


def _check(args: argparse.Namespace, *names: str) -> dict[str, Output]:
    """Every output checked (the one policy) and the step count, before any work."""
    if not any(getattr(args, n, None) for n in names):
        flags = ", ".join(f"--{n} OUT" for n in names)
        raise OptvizError(f"nothing to write: give at least one of {flags}")
    if not 1 <= args.steps <= MAX_STEPS:
        raise OptvizError(f"--steps {args.steps} is out of range (1 to {MAX_STEPS})")
    return check_outputs([(f"--{n}", getattr(args, n, None)) for n in names], args.force)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _grids(cells, s: int | None = None) -> dict[str, list]:
    """One start's (or the only start's) grids, [y][x] lists; non-finite numbers as null."""
    pick = (lambda a: a[..., s]) if s is not None else (lambda a: a)
    return {
        "final_loss": [finite_list(row) for row in pick(cells.final_loss)],
        "best_loss": [finite_list(row) for row in pick(cells.best_loss)],
        "steps_to_tolerance": [[None if v < 0 else int(v) for v in row] for row in pick(cells.steps_to_tolerance)],
        "minimum": [[None if v < 0 else int(v) for v in row] for row in pick(cells.minimum)],
        "status": [[str(v) for v in row] for row in pick(cells.status)],
        "stopped_at": [[None if v < 0 else int(v) for v in row] for row in pick(cells.stopped_at)],
    }


def _surface_json(surface: Surface) -> dict:
    return {"name": surface.name, "parameters": dict(surface.params), "minima": [list(m) for m in surface.minima]}


def _cell_axis(axis: SweepAxis):
    """The picture's axis: cell centres at the axis values, so the outer cells reach half a cell beyond."""
    from optviz.export.plots import Axis

    values = axis.values
    if axis.log:
        half = (np.log10(values[-1]) - np.log10(values[0])) / (2 * (len(values) - 1))
        return Axis(axis.name, float(values[0] / 10**half), float(values[-1] * 10**half), True)
    half = (values[-1] - values[0]) / (2 * (len(values) - 1))
    return Axis(axis.name, float(values[0] - half), float(values[-1] + half), False)


def run_sweep(args: argparse.Namespace) -> int:
    outputs = _check(args, "json", "npz", "png")
    surface = _surface(args)
    name, hp, conditions = _optimizer(args.optimizer, surface, args)
    spec = get_optimizer(name)
    x = parse_axis(args.x, spec.schema) if args.x else default_axis(spec.schema, "lr")
    if args.y:
        y = parse_axis(args.y, spec.schema)
    else:
        second = next((n for n in SECOND_AXES if n in spec.schema.names and n != x.name), None)
        if second is None:
            raise OptvizError(f"{name} has no second real-valued hyperparameter to sweep by default; give --y")
        y = default_axis(spec.schema, second)
    if args.starts is not None:
        if not 1 <= args.starts <= 256:
            raise OptvizError(f"--starts {args.starts} is out of range (1 to 256)")
        starts = random_starts(surface, args.starts, args.seed)
    else:
        starts = np.array([parse_point(args.start) if args.start else surface.start])
    sweep = sweep_hyperparams(
        surface, name, hp, x, y, starts, args.steps, args.seed, args.tolerance, conditions=conditions
    )
    objective, cells, share = sweep.objective(), sweep.cells, sweep.converged_share()

    def json_data() -> str:
        return json_text(
            {
                "format": "optviz-sweep",
                "version": 1,
                "surface": _surface_json(surface),
                "optimizer": name,
                "hyperparameters": {k: v for k, v in sweep.hyperparams.items() if k not in (x.name, y.name)},
                **_conditions_json(conditions),
                "steps": args.steps,
                "seed": args.seed,
                "tolerance": args.tolerance,
                "x": x.to_dict(),
                "y": y.to_dict(),
                "objective": "median over the starts of the final loss (a diverged run counts as infinite)",
                "median_final_loss": [finite_list(row) for row in objective],
                "converged_share": share,
                "starts": [{"start": list(map(float, st)), "grids": _grids(cells, s)} for s, st in enumerate(starts)],
            }
        )

    def png() -> bytes:
        from optviz.export.plots import heatmap_png

        title = f"{spec.title} on {surface.title or surface.name}: final loss over {x.name} × {y.name}"
        caption = (
            f"median over {len(starts)} start(s) of the final loss after {args.steps} steps; grey: diverged; "
            f"{100 * share:.0f}% of runs reach the minimum (tolerance {args.tolerance:g})"
        )
        here = (hp[x.name], hp[y.name])
        mark = here if x.low <= here[0] <= x.high and y.low <= here[1] <= y.high else None
        return heatmap_png(
            title, caption, _cell_axis(x), _cell_axis(y), objective, ~np.isfinite(objective), "final loss", mark=mark
        )

    def npz() -> bytes:
        return _npz(
            x=x.values,
            y=y.values,
            starts=starts,
            final_loss=cells.final_loss,
            best_loss=cells.best_loss,
            steps_to_tolerance=cells.steps_to_tolerance,
            minimum=cells.minimum,
            status=cells.status,
        )

    def report(out: TextIO) -> None:
        out.write(
            f"{name} on {surface.name}: {x.name} x {y.name} = {x.count} x {y.count} cells x {len(starts)} start(s) "
            f"x {args.steps} steps; {100 * share:.0f}% reach the minimum, {100 * cells.diverged.mean():.0f}% diverge\n"
        )

    deliver(outputs, {"--json": json_data, "--npz": npz, "--png": png}, report)
    return 0


def run_basins(args: argparse.Namespace) -> int:
    outputs = _check(args, "json", "png")
    nx, ny = parse_grid(f"grid:{args.grid}")
    surface = _surface(args)
    name, hp, conditions = _optimizer(args.optimizer, surface, args)
    sweep = sweep_starts(surface, name, hp, nx, ny, args.steps, args.seed, args.tolerance, conditions=conditions)
    cells = sweep.cells
    (x0, x1), (y0, y1) = surface.domain

    def json_data() -> str:
        return json_text(
            {
                "format": "optviz-basins",
                "version": 1,
                "surface": _surface_json(surface),
                "optimizer": name,
                "hyperparameters": sweep.hyperparams,
                **_conditions_json(conditions),
                "steps": args.steps,
                "seed": args.seed,
                "tolerance": args.tolerance,
                "grid": {
                    "nx": nx,
                    "ny": ny,
                    "x": finite_list(sweep.starts[:nx, 0]),
                    "y": finite_list(sweep.starts[::nx, 1]),
                    "domain": [[x0, x1], [y0, y1]],
                },
                "final_position": [[finite_list(p) for p in row] for row in cells.final],
                **_grids(cells),
            }
        )

    def png() -> bytes:
        from PySide6 import QtGui

        from optviz.export.plots import Axis, categories_png
        from optviz.render.basins import DIVERGED, NOT_CONVERGED, minimum_colour

        codes = np.where(cells.diverged, -2, cells.minimum)
        legend = [
            (i, f"minimum {i + 1} ({m[0]:.3g}, {m[1]:.3g})", QtGui.QColor(minimum_colour(i)))
            for i, m in enumerate(surface.minima)
        ]
        legend += [(-1, "not converged", QtGui.QColor(NOT_CONVERGED)), (-2, "diverged", QtGui.QColor(DIVERGED))]
        title = f"{get_optimizer(name).title} on {surface.title or surface.name}: basins of attraction"
        caption = f"{nx} x {ny} starts, {args.steps} steps, tolerance {args.tolerance:g}; dots: the known minima"
        points = np.asarray(surface.minima) if surface.minima else None
        return categories_png(title, caption, Axis("x", x0, x1), Axis("y", y0, y1), codes, legend, points)

    def report(out: TextIO) -> None:
        counts = ", ".join(f"minimum {i + 1}: {int((cells.minimum == i).sum())}" for i in range(len(surface.minima)))
        not_converged = int(((cells.minimum < 0) & ~cells.diverged).sum())
        out.write(
            f"{name} on {surface.name}: {nx} x {ny} starts x {args.steps} steps; {counts}{'; ' if counts else ''}"
            f"not converged: {not_converged}, diverged: {int(cells.diverged.sum())}\n"
        )

    deliver(outputs, {"--json": json_data, "--png": png}, report)
    return 0


def _budgets(text: str | None, steps: int) -> tuple[int, ...]:
    """`--budgets 100,300` -> (100, 300), each a whole number of steps from 1 to the step count."""
    if not text:
        return ()
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= steps:
            raise OptvizError(f"--budgets {text!r}: each budget must be a whole number of steps from 1 to {steps}")
        values.append(int(part))
    return tuple(values)


def run_tune(args: argparse.Namespace) -> int:
    outputs = _check(args, "json", "png")
    if not 2 <= args.budget <= 512:
        raise OptvizError(f"--budget {args.budget} is out of range (2 to 512)")
    if not 1 <= args.starts <= 256:
        raise OptvizError(f"--starts {args.starts} is out of range (1 to 256)")
    budgets = _budgets(args.budgets, args.steps)
    surface = _surface(args)
    parsed = [_optimizer(text, surface, args) for text in args.optimizer]
    entries = [(name, hp) for name, hp, _ in parsed]
    conditions = [c for _, _, c in parsed]
    second = {}
    if args.also:
        wanted = args.also.partition("=")[0].strip()
        for name, _ in entries:
            schema = get_optimizer(name).schema
            if wanted in schema.names:
                second[name] = parse_axis(args.also, schema)
        if not second:
            raise OptvizError(f"no optimizer given has {wanted!r}")
    starts = random_starts(surface, args.starts, args.seed)
    results = tune(
        surface,
        entries,
        args.budget,
        starts,
        args.steps,
        args.seed,
        args.tolerance,
        second,
        budgets=budgets,
        conditions=conditions,
    )
    objective = OBJECTIVE.format(k=args.starts, steps=args.steps)

    def json_data() -> str:
        return json_text(
            {
                "format": "optviz-tune",
                "version": 1,
                "surface": _surface_json(surface),
                "objective": objective,
                "steps": args.steps,
                "seed": args.seed,
                "starts": [finite_list(s) for s in starts],
                "optimizers": [
                    {
                        "optimizer": r.optimizer,
                        "hyperparameters": r.hyperparams,
                        **_conditions_json(c),
                        "lr": finite_list(r.lr.values),
                        "second": None if r.second is None else r.second.to_dict(),
                        "objective": [finite_list(row) for row in r.objective],
                        "best": r.best or None,
                        "best_objective": finite_list([r.best_objective])[0],
                        "by_budget": [
                            {
                                "steps": b,
                                "objective": [finite_list(row) for row in objective_b],
                                "best": best_b or None,
                                "best_objective": finite_list([score_b])[0],
                            }
                            for b, (objective_b, best_b, score_b) in r.by_budget.items()
                        ],
                    }
                    for r, c in zip(results, conditions, strict=True)
                ],
            }
        )

    def png() -> bytes:
        from PySide6 import QtGui

        from optviz.export.plots import Axis, curves_png, padded, value_range

        curves, best = [], []
        for i, r in enumerate(results):
            row = np.min(r.objective, axis=0)  # over the second axis: the best at each lr
            colour = QtGui.QColor(PALETTE[i % len(PALETTE)])
            curves.append((get_optimizer(r.optimizer).title, r.lr.values, row, colour))
            best.append((r.best.get("lr", np.nan), r.best_objective))
        low, high = padded(*value_range(np.concatenate([c[2] for c in curves]), log=True), log=True)
        lr = results[0].lr
        title = f"Fair tuning on {surface.title or surface.name}: objective vs learning rate"
        x_axis, y_axis = Axis("learning rate", lr.low, lr.high, True), Axis("objective", low, high, True)
        return curves_png(title, objective, x_axis, y_axis, curves, best)

    def report(out: TextIO) -> None:
        if budgets:
            out.write("best lr by step budget: " + ", ".join(f"{b}" for b in sorted(results[0].by_budget)) + "\n")
            for r in results:
                picks = [r.by_budget[b][1] for b in sorted(r.by_budget)]
                lrs = " / ".join(f"{pick['lr']:.3g}" if pick else "-" for pick in picks)
                out.write(f"  {r.optimizer}: {lrs}\n")
        out.write(f"{objective}\n")
        width = max(len(r.optimizer) for r in results)
        for r in sorted(results, key=lambda r: r.best_objective):
            chosen = ", ".join(f"{k}={v:.3g}" for k, v in r.best.items()) or "every point diverged"
            score = f"{r.best_objective:.4g}" if np.isfinite(r.best_objective) else "-"
            out.write(f"  {r.optimizer:<{width}}  best {chosen:<28} objective {score}\n")

    deliver(outputs, {"--json": json_data, "--png": png}, report)
    return 0
