"""`optviz landscape`: a learned loss surface of a real model, with optimizers' real paths projected on it.

Writes the grid and the paths as .npz (and, with --json, every path with its true and plane losses), shows
a progress bar on stderr and prints a per-optimizer summary: final true loss beside the loss the plane
shows there, and how much of the path the plane explains.
"""

from __future__ import annotations

import argparse
import io

import numpy as np

from optviz.cli import argtypes
from optviz.cli.help_names import names_in_help
from optviz.cli.outputs import check_outputs, deliver
from optviz.cli.progress import ProgressBar
from optviz.cli.specs import parse_spec
from optviz.core.errors import OptvizError
from optviz.core.jsonsafe import finite_list, json_text
from optviz.core.learn.recipe import PLANES, LearnedRecipe

FORMAT = "optviz-landscape"
VERSION = 1
DEFAULT_STEPS = 200


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "landscape",
        help="compute a learned loss surface and project optimizers' training paths onto it",
        description="Train a small network with each optimizer from one initialisation, fit one plane to all "
        "paths and compute the loss over it. Example: optviz landscape --model mlp --dataset moons "
        "--optimizer adam:lr=0.01 --optimizer sgd:lr=0.1 --out moons.npz --json moons.json",
    )
    defaults = LearnedRecipe()
    names_in_help(
        p.add_argument("--model", required=True, metavar="NAME", help="model: %(names)s"),
        "optviz.core.learn.models",
        "MODELS",
    )
    names_in_help(
        p.add_argument("--dataset", required=True, metavar="NAME", help="data set: %(names)s"),
        "optviz.core.learn.datasets",
        "DATASETS",
    )
    p.add_argument(
        "--plane",
        metavar="KIND",
        help=f"{' | '.join(PLANES)} (default: pca with optimizers, random without)",
    )
    p.add_argument(
        "--resolution", type=argtypes.integer, default=defaults.resolution, metavar="N", help="grid points per side"
    )
    p.add_argument(
        "--range",
        type=argtypes.finite_float,
        default=defaults.range,
        metavar="R",
        help="random plane: half-width in direction units; "
        f"{'/'.join(p for p in PLANES if p != 'random')}: multiple of the paths' extent",
    )
    p.add_argument(
        "--optimizer", action="append", metavar="NAME[:k=v,...]", help="an optimizer to train; repeat for several"
    )
    p.add_argument(
        "--steps", type=argtypes.integer, default=DEFAULT_STEPS, metavar="N", help="training steps per optimizer"
    )
    p.add_argument(
        "--seed", type=argtypes.seed, default=defaults.seed, metavar="S", help="model initialisation and batches"
    )
    p.add_argument(
        "--batch-size", type=argtypes.integer, default=defaults.batch_size, metavar="B", help="mini-batch size"
    )
    p.add_argument("--no-cache", action="store_true", help="recompute the grid even if it is cached")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="write axes, loss grid and projected paths")
    p.add_argument("--json", metavar="FILE", help="write each optimizer's path, true and plane losses as JSON")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.set_defaults(run=run)


def recipe_from_args(args: argparse.Namespace) -> tuple[LearnedRecipe, list]:
    from optviz.core.optimizers import get_optimizer
    from optviz.core.scene import MAX_STEPS, resolve_configs

    entries = [parse_spec(text, "optimizer") for text in args.optimizer or []]
    plane = args.plane or ("pca" if entries else "random")
    recipe = LearnedRecipe(
        model=args.model,
        dataset=args.dataset,
        plane=plane,
        resolution=args.resolution,
        range=args.range,
        seed=args.seed,
        batch_size=args.batch_size,
    ).validate()
    if plane != "random" and not entries:
        raise OptvizError(f"a {plane} plane is fitted to training paths: give at least one --optimizer")
    if not 1 <= args.steps <= MAX_STEPS:
        raise OptvizError(f"--steps {args.steps} is out of range (1 to {MAX_STEPS})")
    for name, _ in entries:
        spec = get_optimizer(name)
        if spec.training_unavailable:  # as `optviz train` refuses it, before any training
            raise OptvizError(f"{spec.name} cannot train here: {spec.training_unavailable}")
    return recipe, resolve_configs(entries)


def run(args: argparse.Namespace) -> int:
    from optviz.core.learn.session import learned_race_steps

    outputs = check_outputs([("--out", args.out), ("--json", args.json)], args.force)
    recipe, configs = recipe_from_args(args)
    bar = ProgressBar("landscape", terminal_only=False)
    result = None
    k_count = max(len(configs), 1)
    try:
        for report in learned_race_steps(recipe, configs, args.steps, use_cache=not args.no_cache):
            # Training takes the first half of the bar (when there is any), the grid the second.
            if report.stage == "train":
                bar.show(0.5 * report.done / k_count, report.message)
            elif report.stage == "grid":
                start = 0.5 if configs else 0.0
                frac = start + (1 - start) * report.done / max(report.total, 1)
                bar.show(frac, f"surface: {report.done}/{report.total} rows")
            else:
                bar.show(1.0, "done")
                result = report.result
    finally:
        bar.close()
    contents = {"--out": lambda: npz_bytes(result), "--json": lambda: json_text(landscape_json(result, args.steps))}
    deliver(outputs, contents, lambda stream: print_summary(result, stream))
    return 0


def npz_bytes(result) -> bytes:
    """Axes, loss and accuracy grids, and the projected paths with their losses, as the bytes of an .npz."""
    grid = result.surface.loss_grid
    names = np.array([c.display_name for c in result.configs], dtype=str)
    arrays = {
        "xs": grid.xs,
        "ys": grid.ys,
        "loss": grid.loss,
        "accuracy": grid.accuracy,
        "optimizers": names,
        "positions": result.positions[:, 0],
        "true_losses": result.losses[:, 0],
        "plane_losses": result.plane_losses[:, 0],
        "off_plane": result.off_plane[:, 0],
        "explained": result.explained,
        "plane": np.array(result.recipe.plane),
    }
    if result.plane.explained_variance is not None:
        arrays["explained_variance"] = np.array(result.plane.explained_variance)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def landscape_json(result, steps: int) -> dict:
    grid = result.surface.loss_grid
    variance = result.plane.explained_variance
    runs = []
    for k, config in enumerate(result.configs):
        n = result.valid_length(k, 0)
        stopped = int(result.stopped_at[k, 0])
        runs.append(
            {
                "optimizer": config.optimizer,
                "label": config.display_name,
                "hyperparameters": dict(config.hyperparams),
                "status": str(result.status[k, 0]),
                "stopped_at": None if stopped < 0 else stopped,
                "reason": str(result.reasons[k, 0]) or None,
                "explained_fraction": float(result.explained[k]),
                "positions": result.positions[k, 0, :n].tolist(),
                "true_losses": finite_list(result.losses[k, 0, :n]),
                "plane_losses": finite_list(result.plane_losses[k, 0, :n]),
                "true_accuracy": finite_list(result.accuracies[k, 0, :n]),
                "off_plane": finite_list(result.off_plane[k, 0, :n]),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "recipe": result.recipe.to_dict(),
        "steps": steps,
        "plane": {"kind": result.recipe.plane, "explained_variance": list(variance) if variance else None},
        "grid": {
            "resolution": len(grid.xs),
            "x": [float(grid.xs[0]), float(grid.xs[-1])],
            "y": [float(grid.ys[0]), float(grid.ys[-1])],
            "loss_min": float(np.nanmin(grid.loss)),
            "loss_max": float(np.nanmax(grid.loss)),
        },
        "optimizers": runs,
    }


def print_summary(result, out) -> None:
    recipe = result.recipe
    grid = result.surface.loss_grid
    out.write(
        f"{recipe.model} on {recipe.dataset}, {recipe.plane} plane, {len(grid.xs)}x{len(grid.ys)} grid, "
        f"loss {np.nanmin(grid.loss):.4g} to {np.nanmax(grid.loss):.4g}\n"
    )
    if result.plane.explained_variance is not None:
        a, b = result.plane.explained_variance
        out.write(f"PCA plane explains {a * 100:.1f} % + {b * 100:.1f} % of the paths' variance\n")
    if not result.configs:
        return
    out.write(f"{'optimizer':<22} {'true loss':>10} {'plane loss':>11} {'explained':>10}  status\n")
    for k, config in enumerate(result.configs):
        n = result.valid_length(k, 0)
        true = result.losses[k, 0, n - 1]
        plane = result.plane_losses[k, 0, n - 1]
        status = str(result.status[k, 0])
        if status == "diverged":
            status += f" at step {int(result.stopped_at[k, 0])}: {result.reasons[k, 0]}"
        out.write(
            f"{config.display_name:<22} {true:>10.4g} {plane:>11.4g} {result.explained[k] * 100:>9.1f}%  {status}\n"
        )
    poor = result.poorly_explained()
    if poor:
        names = ", ".join(result.configs[k].display_name for k in poor)
        out.write(f"warning: the plane explains less than half of the path of {names}: its picture misleads\n")
