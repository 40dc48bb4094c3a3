"""Sweep speed, as ratios against the naive per-configuration library loop measured in the same run.

    python benchmarks/sweep.py [--quick]

The naive loop is what one would write without our engine: for each cell of the map, build the library
optimizer on a 2-element float64 tensor with that cell's hyperparameters and step it with autograd. It is
timed on a sample of cells and scaled to the whole map (its cost is the same for every cell; the line says so).

(a) A 64 x 64 sensitivity map (lr x its second hyperparameter) x 500 steps from one start, for every optimizer
    on the fast path. Goals: <= 1 s on this 2-core machine, >= 100x the naive loop; the first coarse picture
    (16 x 16) <= 100 ms.
(b) 256 x 256 basins x 500 steps on Himmelblau for elementwise optimizers: <= 10 s; the first picture
    (32 x 32) <= 200 ms.
(c) Memory: a 256 x 256 x 500 sweep keeps per-cell summaries; its peak traced allocation against the bytes a
    race keeping every path would need (goal: under 1 GB).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np
import torch
from race import naive  # the same naive loop as benchmarks/race.py

from optviz.core.optimizers import get_optimizer, surface_optimizers
from optviz.core.surfaces import get_surface
from optviz.core.sweep import default_axis, sweep_hyperparams, sweep_starts
from optviz.core.sweep.run import BYTES_PER_POINT

SURFACE = "rosenbrock"
SECOND = ("beta1", "momentum", "beta2", "eps", "weight_decay")


def axes(name: str, n: int):
    spec = get_optimizer(name)
    floats = [p.name for p in spec.schema if p.kind == "float" and p.name != "lr"]
    second = next((s for s in SECOND if s in floats), floats[0] if floats else None)
    if second is None:
        return None
    return default_axis(spec.schema, "lr", n), default_axis(spec.schema, second, n)


def naive_cells(name: str, x, y, steps: int, sample: int) -> float:
    """Seconds per cell of the naive loop, on `sample` cells spread over the map."""
    spec = get_optimizer(name)
    rng = np.random.default_rng(0)
    hps = [
        spec.resolve({x.name: float(rng.choice(x.values)), y.name: float(rng.choice(y.values))}, SURFACE)
        for _ in range(sample)
    ]
    starts = np.repeat([get_surface(SURFACE).start], sample, axis=0)
    return naive(name, starts, steps, hps) / sample


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer optimizers, repeats and samples")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 1 if args.quick else 3
    sample = 4 if args.quick else 16
    surface = get_surface(SURFACE)
    one = np.array([surface.start])
    names = [s.name for s in surface_optimizers() if s.fast is not None]
    if args.quick:
        names = names[:4]
    failures = []
    print(f"optviz sweeps vs the naive per-cell library loop, torch threads = 1; naive timed on {sample} cells\n")
    print("(a) 64 x 64 map x 500 steps from one start on rosenbrock")
    print(f"{'optimizer':<20} {'axes':<16} {'16x16 ms':>9} {'64x64 s':>8} {'naive s':>9} {'speed-up':>9}  goals")
    for name in names:
        pair = axes(name, 64)
        if pair is None:
            print(f"{name:<20} (one real-valued hyperparameter: no map)")
            continue
        x, y = pair

        def sweep(n: int, name=name, x=x, y=y) -> None:
            sweep_hyperparams(surface, name, {}, x.with_count(n), y.with_count(n), one, 500)

        coarse = timed(lambda: sweep(16), repeats)
        fine = timed(lambda: sweep(64), repeats)
        naive = naive_cells(name, x, y, 500, sample) * 64 * 64
        ratio = naive / fine
        ok = fine <= 1.0 and coarse <= 0.1 and ratio >= 100
        if not ok:
            failures.append(name)
        goals = f"<=1 s, <=100 ms, >=100x: {'met' if ok else 'MISSED'}"
        print(
            f"{name:<20} {x.name + ' x ' + y.name:<16} {coarse * 1e3:>9.0f} {fine:>8.2f} {naive:>9.0f} "
            f"{ratio:>8.0f}x  {goals}"
        )

    print("\n(b) 256 x 256 basins x 500 steps on himmelblau")
    himmelblau = get_surface("himmelblau")
    for name in ["sgd", "momentum", "adam", "rmsprop", "lion"]:
        first = timed(lambda n=name: sweep_starts(himmelblau, n, {}, 32, 32, 500), repeats)
        whole = timed(lambda n=name: sweep_starts(himmelblau, n, {}, 256, 256, 500), 1)
        ok = whole <= 10 and first <= 0.2
        if not ok:
            failures.append(f"{name} basins")
        print(
            f"{name:<20} first (32x32) {first * 1e3:6.0f} ms   256x256 {whole:6.2f} s   "
            f"goals <=200 ms, <=10 s: {'met' if ok else 'MISSED'}"
        )

    print("\n(c) memory of a 256 x 256 x 500 basins sweep (adam)")
    tracemalloc.start()
    sweep_starts(himmelblau, "adam", {}, 256, 256, 500)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    every_path = 256 * 256 * 501 * BYTES_PER_POINT
    print(
        f"peak traced {peak / 2**20:.0f} MiB; a race keeping every path: {every_path / 2**20:.0f} MiB "
        f"({every_path / peak:.0f}x); goal < 1 GB: {'met' if peak < 2**30 else 'MISSED'}"
    )
    if failures:
        print(f"\nmissed for: {', '.join(failures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
