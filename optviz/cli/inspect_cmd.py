"""`optviz inspect`: one step of one run, in full: the points before and after, the gradient, the update and
every entry of the library optimizer's state by torch's own name (`optviz.core.race.inspect`)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import numpy as np

from optviz.cli import argtypes
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.race_cmd import scene_from_args
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import json_text
from optviz.core.race.inspect import StepRecord, scene_inspector
from optviz.core.scene import Scene


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="show one step of one run: points, gradient, update and the optimizer's state",
        description="Step one optimizer from one start with the library optimizer (float64) and show step N "
        "after it was taken: the point before and after, the gradient it was given (noise included), the update "
        "and every state tensor by torch's name. Flags override the scene (the default scene without --scene). "
        "Example: optviz inspect --surface rosenbrock --optimizer adam:lr=0.01 --start -1.5,2 --step 50",
    )
    p.add_argument("--scene", type=argtypes.nonempty, metavar="FILE", help="scene file to start from")
    p.add_argument("--surface", type=argtypes.nonempty, metavar="NAME[:k=v,...]", help="surface and its parameters")
    p.add_argument("--formula", type=argtypes.nonempty, metavar="TEXT", help="custom surface formula in x and y")
    p.add_argument(
        "--optimizer", action="append", metavar="NAME[:k=v,...]", help="the optimizer and its hyperparameters"
    )
    p.add_argument("--start", action="append", metavar="X,Y", help="the start point")
    p.add_argument("--step", type=argtypes.integer, required=True, metavar="N", help="the step to show (from 1)")
    p.add_argument("--seed", type=argtypes.seed, metavar="S", help="seed for gradient noise and random optimizers")
    p.add_argument("--json", metavar="OUT", help="write the step as JSON; - for standard output")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    # What `scene_from_args` reads that inspect does not offer: one run, one start.
    p.set_defaults(run=run, starts=None, steps=None, tolerance=None)


def run(args: argparse.Namespace) -> int:
    if args.step < 1:
        raise OptvizError(f"--step {args.step}: steps count from 1")
    for flag, given in (("--optimizer", args.optimizer), ("--start", args.start)):
        if given and len(given) > 1:
            raise OptvizError(f"{flag} is given {len(given)} times: inspect shows one run, give it once")
    outputs = check_outputs([("--json", args.json)], args.force)
    scene = _one_run(scene_from_args(args))
    scene.steps = max(scene.steps, args.step)
    inspector = scene_inspector(scene, 0, 0)
    record = inspector.record(args.step)
    data = step_json(scene, inspector.config.hyperparams, record)
    deliver(outputs, {"--json": lambda: json_text(data)}, lambda out: print_step(data, out))
    return 0


def _one_run(scene: Scene) -> Scene:
    """The scene, checked to hold the one run to inspect: one optimizer from one start."""
    if scene.is_learned:
        raise OptvizError("inspect works on analytic surfaces (a learned scene trains real models)")
    if len(scene.optimizers) != 1:
        names = ", ".join(e.label or e.name for e in scene.optimizers)
        raise OptvizError(f"the scene races {len(scene.optimizers)} optimizers ({names}): pick one with --optimizer")
    starts = scene.start_points(scene.build_surface())
    if len(starts) != 1:
        raise OptvizError(f"the scene has {len(starts)} starts: pick one with --start X,Y")
    return scene


def _plain(value: Any) -> Any:
    """A state or derived value as JSON data: arrays as (nested) lists, 0-dim ones as numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def step_json(scene: Scene, hp: dict[str, Any], record: StepRecord) -> dict[str, Any]:
    """What `--json` writes: the run, then step N."""
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(scene.optimizers[0].name)
    surface = scene.build_surface()
    with np.errstate(all="ignore"):
        losses = surface.value_np(np.stack([record.before, record.after])) * np.ones(2)
    return {
        "surface": scene.surface,
        "surface_params": dict(surface.params),
        "optimizer": spec.name,
        "hyperparameters": dict(hp),
        "start": scene.start_points(surface)[0].tolist(),
        "seed": scene.seed,
        "step": record.step,
        "before": record.before.tolist(),
        "after": record.after.tolist(),
        "gradient": record.gradient.tolist(),
        "gradient_at": record.gradient_at.tolist(),
        "lr": record.lr,
        "update": record.update.tolist(),
        "loss_before": float(losses[0]),
        "loss_after": float(losses[1]),
        "state": {name: _plain(value) for name, value in record.state.items()},
        "derived": {name: _plain(value) for name, value in record.derived(spec, hp).items()},
        "update_rule": spec.update_rule,
        "step_note": spec.step_note,
    }


def _cell(value: Any) -> str:
    if isinstance(value, list):
        if len(value) > 6:
            return f"[{len(value)} entries]"
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_step(data: dict[str, Any], out: TextIO) -> None:
    """The step as a short table: vectors in x and y columns, then the state and the derived quantities."""
    out.write(f"{data['optimizer']} on {data['surface']}, start {_cell(data['start'])}: step {data['step']}\n")
    out.write(f"  {'':<16} {'x':>14} {'y':>14}\n")
    for key in ("before", "gradient", "update", "after"):
        x, y = data[key]
        out.write(f"  {key:<16} {_cell(x):>14} {_cell(y):>14}\n")
    out.write(f"  {'loss':<16} {_cell(data['loss_before']):>14} -> {_cell(data['loss_after'])}\n")
    for title in ("state", "derived"):
        if data[title]:
            out.write(f"{title}:\n")
            for name, value in data[title].items():
                out.write(f"  {name:<16} {_cell(value)}\n")
    if data["step_note"]:
        out.write(f"note: {data['step_note']}\n")
