"""Batched grid evaluation (chunked; our MLP kernel) against the per-point loop of the reference method.

Both evaluate the same 51x51 grid of the default model (`mlp`, two hidden layers of 32) on a filter-
normalised random plane, over the whole training split, in float32, side by side in one run. The loop is
what Li et al.'s code does: write the point's weights into the model and run the data set, point after
point, through its data loader in batches of 128 (`REFERENCE_BATCH`). Goal: the batched grid at least 10x
faster than that on CPU. A second row compares against a stronger loop that runs the whole data set in
one forward per point, so nobody mistakes the reference's batching for the whole gain. Prints CUDA
figures too when a GPU is present.
Also checks that both give the same grid (to 1e-6). The two are timed alternately, best of `--repeat`
each, so a burst of load on a shared machine hits both rather than one.

    python benchmarks/landscape.py [--resolution 51] [--datasets moons,digits] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from optviz.core.learn.datasets import load_dataset
from optviz.core.learn.grid import chunk_size, compute_grid, grid_axes, loop_grid
from optviz.core.learn.models import model_spec
from optviz.core.learn.planes import random_plane

GOAL = 10.0
REFERENCE_BATCH = 128  # Li et al.'s default --batch_size for evaluating the surface


def timed(fn) -> tuple[float, object]:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def best_of_alternating(first, second, repeat: int) -> tuple[float, object, float, object]:
    """Best time of each of two functions, run first, second, first, second, ..."""
    best = [float("inf"), float("inf")]
    outs: list[object] = [None, None]
    for _ in range(repeat):
        for i, fn in enumerate((first, second)):
            t, outs[i] = timed(fn)
            best[i] = min(best[i], t)
    return best[0], outs[0], best[1], outs[1]


def bench(dataset_name: str, resolution: int, device: torch.device, repeat: int) -> float:
    dataset = load_dataset(dataset_name)
    model = model_spec("mlp").build(dataset, seed=0)
    plane = random_plane(model, seed=0)
    xs, ys = grid_axes((0.0, 0.0), 1.0, resolution)
    # Warm-up (first-call dispatch, vmap tracing, CUDA context) outside the timings.
    compute_grid(model, dataset, plane, xs[:3], ys[:3], device=device)
    loop_grid(model, dataset, plane, xs[:3], ys[:3], device=device)
    chunk = chunk_size(model, dataset)
    samples = len(dataset.x_train)
    print(f"{device.type:>4}  mlp on {dataset_name} ({samples} samples, chunk {chunk}), {resolution}^2 grid")
    ratios = {}
    for label, batch in (("reference loop, batches of 128", REFERENCE_BATCH), ("loop, one forward per point", None)):
        t_batched, batched, t_loop, loop = best_of_alternating(
            lambda: compute_grid(model, dataset, plane, xs, ys, device=device),
            lambda batch=batch: loop_grid(model, dataset, plane, xs, ys, device=device, batch_size=batch),
            repeat,
        )
        diff = float(np.max(np.abs(batched.loss - loop.loss)))
        ratios[batch] = t_loop / t_batched
        print(
            f"      {label:<32} {t_loop:7.2f} s   batched {t_batched:6.2f} s   "
            f"ratio {ratios[batch]:5.1f}x   max |diff| {diff:.1e}"
        )
    return ratios[REFERENCE_BATCH]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=51)
    parser.add_argument("--datasets", default="moons,digits", help="comma-separated; moons is the default recipe's")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings each")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        for name in args.datasets.split(","):
            ratio = bench(name.strip(), args.resolution, device, args.repeat)
            if device.type == "cpu":
                print(f"      goal >= {GOAL:g}x over the reference on CPU: {'met' if ratio >= GOAL else 'NOT met'}")
    if not torch.cuda.is_available():
        print("no CUDA device here: GPU figures not measured")


if __name__ == "__main__":
    main()
