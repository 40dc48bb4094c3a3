"""Race-engine speed, as ratios against a naive loop measured in the same run.

    python benchmarks/race.py [--quick] [--only NAME,NAME]

The naive loop is what one would write without our engine: for each particle, build the library optimizer on
a 2-element float64 tensor and step it with autograd, one step at a time.

(a) 1 optimizer x 1 start x 1,000 steps: what one slider movement must re-simulate. Goal: <= 16 ms median on a
    2-core machine for every optimizer that races on surfaces.
(b) 8 optimizers x 1 start x 1,000 steps: a whole race.
(c) 1 optimizer x 4,096 starts (64 x 64 grid) x 500 steps: a basin-of-attraction sweep. Goal: >= 100x the
    naive loop. The naive loop is timed on a subset of the particles and scaled by the particle count (its
    cost is the same for every particle); the line says so. Every optimizer that races on surfaces.
(e) 1 optimizer x 4,096 hyperparameter pairs (lr and a second value per run, from one start) x 500 steps,
    against (c)'s 4,096 starts in the same run. Goal: within 1.5x of the sweep over starts.
(d) 1,000 scalar gradients (`surface.grad` on floats, what the engine calls once per step), per analytic surface
    and for a custom formula, best of 5, as a fraction of its budget: <= 20 ms for an analytic surface,
    <= 50 ms for a formula (these were wall-clock asserts in tests/core; a shared CI machine made them flaky
    and they measured speed, which is this script's job).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from optviz.core.mathlib import SCALAR
from optviz.core.optimizers import get_optimizer, surface_optimizers
from optviz.core.race import RunConfig, grid_starts, run_race
from optviz.core.surfaces import SURFACES, get_surface

SURFACE = "rosenbrock"


def naive(name: str, starts: np.ndarray, steps: int, hps: list[dict] | None = None) -> float:
    """Seconds for the naive per-particle loop over `starts` (each with `hps[i]`, else the defaults); a run the
    library refuses to continue (an error once values have gone bad) stops there."""
    spec = get_optimizer(name)
    surface = get_surface(SURFACE)
    t0 = time.perf_counter()
    for i, start in enumerate(starts):
        hp = spec.defaults_for(SURFACE) if hps is None else hps[i]
        torch.manual_seed(0)
        p = torch.tensor(start, dtype=torch.float64).reshape((1, 2) if spec.needs_2d else (2,)).requires_grad_(True)
        opt = spec.build([p], hp)

        def closure(opt=opt, p=p):
            opt.zero_grad()
            loss = surface.value_torch(p.reshape(2))
            loss.backward(create_graph=spec.needs_hvp)
            return loss

        for _ in range(steps):
            try:
                spec.step(opt, closure)
            except (RuntimeError, ValueError, ArithmeticError):
                break
    return time.perf_counter() - t0


def engine(names: list[str], starts: np.ndarray, steps: int) -> float:
    surface = get_surface(SURFACE)
    configs = [RunConfig(n, get_optimizer(n).defaults_for(SURFACE)) for n in names]
    t0 = time.perf_counter()
    run_race(surface, configs, starts, steps)
    return time.perf_counter() - t0


def scalar_grads(surface, count: int = 1000, repeats: int = 5) -> float:
    """Best-of-`repeats` seconds for `count` scalar gradients at the surface's start."""
    grad = surface.grad
    x, y = surface.start
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(count):
            grad(x, y, SCALAR)
        best = min(best, time.perf_counter() - t0)
    return best


SCALAR_BUDGET_MS = {"analytic": 20.0, "formula": 50.0}
FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: imports, first-call caches
    return statistics.median(fn() for _ in range(repeats))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and particles (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated optimizer names for (a), (c) and (e)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 3 if args.quick else 15
    surface = get_surface(SURFACE)
    one = np.asarray([surface.start])
    specs = surface_optimizers()
    if args.only:
        specs = [get_optimizer(name.strip()) for name in args.only.split(",")]

    print(f"optviz race engine vs naive library loop, on {SURFACE}, torch threads = 1\n")
    print("(a) 1 optimizer x 1 start x 1000 steps (one slider movement)")
    print(f"{'optimizer':<20} {'family':<16} {'path':<8} {'engine ms':>10} {'naive ms':>10} {'speed-up':>9}  goal")
    failures = []
    for spec in specs:
        ours = median_time(lambda s=spec: engine([s.name], one, 1000), repeats) * 1e3
        base = median_time(lambda s=spec: naive(s.name, one, 1000), max(1, repeats // 5)) * 1e3
        path = "fast" if spec.fast else "library"
        goal = "<= 16 ms: " + ("met" if ours <= 16 else "MISSED")
        if ours > 16:
            failures.append(spec.name)
        print(f"{spec.name:<20} {spec.family:<16} {path:<8} {ours:>10.2f} {base:>10.1f} {base / ours:>8.1f}x  {goal}")

    print("\n(b) 8 optimizers x 1 start x 1000 steps (a race)")
    race = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "lion", "schedulefree_adamw"]
    ours = median_time(lambda: engine(race, one, 1000), repeats) * 1e3
    base = sum(naive(n, one, 1000) for n in race) * 1e3
    print(f"{'+'.join(race)}\n  engine {ours:.1f} ms, naive {base:.0f} ms: {base / ours:.0f}x")

    print("\n(c) 1 optimizer x 4096 starts (64x64 grid) x 500 steps (a sweep)")
    starts = grid_starts(surface.domain, 64, 64)
    subset = 16 if args.quick else 64
    print(
        f"{'optimizer':<20} {'path':<8} {'engine s':>9} {'naive s':>9} {'speed-up':>9}  goal (naive timed on {subset})"
    )
    sweep_seconds = {}
    for spec in specs:
        name = spec.name
        ours = median_time(lambda n=name: engine([n], starts, 500), 3)
        sweep_seconds[name] = ours
        base = naive(name, starts[:subset], 500) * len(starts) / subset
        ratio = base / ours
        goal = ">= 100x: " + ("met" if ratio >= 100 else "MISSED")
        if ratio < 100:
            failures.append(f"{name} sweep")
        print(f"{name:<20} {'fast' if spec.fast else 'library':<8} {ours:>9.3f} {base:>9.1f} {ratio:>8.0f}x  {goal}")

    print("\n(e) 1 optimizer x 4096 hyperparameter pairs (per-run values, one start) x 500 steps, against (c)")
    print(f"{'optimizer':<20} {'varied':<22} {'pairs s':>8} {'starts s':>9} {'ratio':>6}  goal")
    rng = np.random.default_rng(0)
    for spec in specs:
        hp = spec.defaults_for(SURFACE)
        floats = [p.name for p in spec.schema if p.kind == "float" and p.name != "lr" and hp[p.name] != 0]
        varied = {"lr": hp["lr"] * rng.uniform(0.5, 2.0, len(starts))}
        if floats:  # a second value near its default, inside its range
            param = spec.schema.get(floats[0])
            value = float(hp[param.name])
            varied[param.name] = np.clip(value * rng.uniform(0.9, 1.0, len(starts)), param.low, param.high)
        configs = [RunConfig(spec.name, {**hp, **varied})]
        same_start = np.repeat(one, len(starts), axis=0)

        def pairs(configs=configs, same_start=same_start) -> float:
            t0 = time.perf_counter()
            run_race(surface, configs, same_start, 500)
            return time.perf_counter() - t0

        ours = median_time(pairs, 3)  # one run swings by 40 %: a ratio needs a median
        ratio = ours / sweep_seconds[spec.name]
        goal = "<= 1.5x: " + ("met" if ratio <= 1.5 else "MISSED")
        if ratio > 1.5:
            failures.append(f"{spec.name} per-run sweep")
        label = "+".join(varied)
        print(f"{spec.name:<20} {label:<22} {ours:>8.3f} {sweep_seconds[spec.name]:>9.3f} {ratio:>6.2f}  {goal}")

    print(f"\n(d) 1000 scalar gradients (one per race step), best of 5, against the budget; formula: {FORMULA}")
    print(f"{'surface':<20} {'ms':>8} {'budget ms':>10} {'of budget':>10}  goal")
    cases = [(name, get_surface(name), "analytic") for name in SURFACES if name != "custom"]
    cases.append(("custom formula", get_surface("custom", {"formula": FORMULA}), "formula"))
    for label, case, kind in cases:
        ms = scalar_grads(case) * 1e3
        budget = SCALAR_BUDGET_MS[kind]
        goal = "met" if ms <= budget else "MISSED"
        if ms > budget:
            failures.append(f"scalar gradient on {label}")
        print(f"{label:<20} {ms:>8.2f} {budget:>10.0f} {ms / budget:>10.2f}  {goal}")
    if failures:
        print(f"\nmissed for: {', '.join(failures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
