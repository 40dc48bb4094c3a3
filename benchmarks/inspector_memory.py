"""Memory of the step inspector and the state glyphs on a long race, against recording every step.

A 10,000-step race of eight optimizers (the race itself records no per-step state). Then, as the app does with
the step inspector open and every state glyph on: one lazy `StepInspector` per optimizer (`app/view/
step_records.InspectorCache`), scrubbed to 24 cursor positions across the run (far jumps forward and back).
Measured in the same run:
- the bytes the inspectors hold (records and checkpoints) and the process's resident memory growth;
- the baseline: the bytes of every step's record of the same eight runs (what recording per step during the
  race would keep), and the ratio.
Goal: the inspector's growth stays within a few MB (issue 16: "must not grow by more than a few MB").

    python benchmarks/inspector_memory.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "lion", "shampoo", "soap")
GOAL_MB = 8.0


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()

    from optviz.app.view.step_records import InspectorCache
    from optviz.core.race.inspect import record_steps
    from optviz.core.scene import OptimizerEntry, Scene

    scene = Scene(surface="rosenbrock", optimizers=[OptimizerEntry(n) for n in OPTIMIZERS], steps=args.steps).validate()
    t0 = time.perf_counter()
    result = scene.run()
    race_s = time.perf_counter() - t0
    ks = list(range(len(OPTIMIZERS)))
    cache = InspectorCache()
    cache.records(scene, ks, 1)  # warm: torch and the optimizers' modules loaded before the measurement
    base_rss = rss_mb()
    cursors = np.r_[np.linspace(1, args.steps, 16), np.linspace(args.steps, 1, 8)].round().astype(int)
    t0 = time.perf_counter()
    for n in cursors:
        cache.records(scene, ks, int(n))
    scrub_s = time.perf_counter() - t0
    held_mb = cache.nbytes / 2**20
    grown_mb = rss_mb() - base_rss

    surface = scene.build_surface()
    start = scene.start_points(surface)[0]
    every_mb = 0.0
    for k in ks:
        records = record_steps(surface, scene.run_config(k), start, args.steps, scene.seed)
        every_mb += sum(r.nbytes for r in records) / 2**20
        del records

    paths_mb = result.positions.nbytes / 2**20
    print(f"race: {len(OPTIMIZERS)} optimizers x {args.steps:,} steps in {race_s:.2f} s ({paths_mb:.1f} MB of paths)")
    print(f"inspector open, every glyph on, {len(cursors)} cursor jumps ({scrub_s:.1f} s):")
    print(f"  held by the inspectors: {held_mb:.2f} MB; resident memory grew {grown_mb:.1f} MB")
    print(f"  baseline, every step recorded: {every_mb:.1f} MB  ->  {every_mb / max(held_mb, 1e-9):.0f}x less held")
    verdict = "meets" if held_mb <= GOAL_MB and grown_mb <= GOAL_MB else "misses"
    print(f"goal: <= {GOAL_MB:.0f} MB held and grown: {verdict}")


if __name__ == "__main__":
    main()
