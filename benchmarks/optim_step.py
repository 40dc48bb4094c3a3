"""Optimizer step time and achieved memory bandwidth, per optimizer and implementation, against a streaming copy.

    python benchmarks/optim_step.py [--device cpu|cuda] [--sizes 1e4,1e5,...] [--optimizers momentum,adamw,...]

Defaults: CPU sizes 1e4, 1e5, 1e6, 1e7, 1.6e7 (a few minutes on 2 cores); CUDA sizes up to 1e9.
The "model" at each size is 16 equal fp32 tensors (a real model has many tensors; that is what foreach and fused
batch over), with random gradients set once. Only `optimizer.step()` is timed: the fastest of several
repetitions after two warm-up steps that create the state. Best-of rather than median, because on a shared
machine other processes only ever make a step slower; the copy is timed the same way, before and after.

Bandwidth counts the minimal bytes an elementwise step must move per parameter: read the gradient (4), read and
write the parameter (4 + 4), read and write every byte of optimizer state (2 x state bytes per parameter, the
registry's figure for these hyperparameters):

    bytes/param/step = 4 + 2*4 + 2*s      AdamW / Adam (s = 8):  28    SGD + momentum (s = 4): 20
                                          Adagrad (s = 4):       20    plain SGD (s = 0):      12

(Real kernels may move more, e.g. reading the learning rate or a step counter; those are O(tensors), not
O(parameters).) The reference is a streaming copy `dst.copy_(src)` of a buffer larger than the caches, measured in
the same run on the same device, counted as read + write (2 x bytes, STREAM's convention). Goal: fused AdamW >= 70%
of the copy's bandwidth at 16M+ parameters.

Why an optimizer can beat the copy on a CPU: writing `dst` first reads each of its cache lines (write-allocate),
so the copy really moves about 3 x bytes while being credited 2 x; an in-place update writes lines it has just
read and pays no such read. So a second reference is printed: an in-place update `a.add_(b)` (read a and b, write
a: 12 bytes per element), the same access pattern as an optimizer step. The goal is judged against the copy,
as asked; the in-place figure says how close to the machine's limit the step really is.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from optviz.core.learn.implementations import implementation_kwargs, supported_implementations
from optviz.core.optimizers import get_optimizer

TENSORS = 16
DEFAULT_SIZES = {"cpu": "1e4,1e5,1e6,1e7,1.6e7", "cuda": "1e4,1e5,1e6,1e7,1e8,1e9"}
DEFAULT_OPTIMIZERS = "momentum,adamw,adam,adagrad"
GOAL = 0.70


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: str, min_time: float = 0.3, min_reps: int = 5, max_reps: int = 200) -> float:
    """Fastest seconds of `fn()` over repetitions lasting at least `min_time` in total."""
    times: list[float] = []
    total = 0.0
    while len(times) < min_reps or (total < min_time and len(times) < max_reps):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
        total += times[-1]
    return min(times)


def copy_bandwidth(device: str, nbytes: int) -> float:
    """GB/s of a streaming copy (read + write) of `nbytes`."""
    src = torch.ones(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    seconds = timed(lambda: dst.copy_(src), device, min_time=0.5, min_reps=5)
    return 2 * nbytes / seconds / 1e9


def inplace_bandwidth(device: str, nbytes: int) -> float:
    """GB/s of an in-place update a += b over `nbytes` per tensor (read a, read b, write a)."""
    a = torch.ones(nbytes // 4, device=device)
    b = torch.ones_like(a)
    seconds = timed(lambda: a.add_(b, alpha=1e-9), device, min_time=0.5, min_reps=5)
    return 3 * nbytes / seconds / 1e9


def bytes_per_param(name: str) -> float:
    spec = get_optimizer(name)
    return 4 + 2 * 4 + 2 * spec.state_bytes()


def step_time(name: str, impl: str, size: int, device: str) -> float:
    spec = get_optimizer(name)
    per = max(1, size // TENSORS)
    generator = torch.Generator(device=device).manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(per, device=device, generator=generator)) for _ in range(TENSORS)]
    for p in params:
        p.grad = torch.randn(per, device=device, generator=generator) * 1e-3
    opt = spec.build(params, spec.resolve({}), implementation_kwargs(spec, impl))
    with torch.no_grad():
        opt.step()
        opt.step()
        return timed(opt.step, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--sizes", help="comma-separated parameter counts, e.g. 1e4,1e6")
    parser.add_argument("--optimizers", default=DEFAULT_OPTIMIZERS, help="registry names, comma-separated")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    device = args.device
    sizes = [int(float(s)) for s in (args.sizes or DEFAULT_SIZES[device]).split(",")]
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    where = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    copy_bytes = max(256 * 2**20, 4 * max(sizes))
    copy = copy_bandwidth(device, copy_bytes)
    inplace = inplace_bandwidth(device, copy_bytes)
    print(f"torch {torch.__version__} on {where}")
    print(f"streaming copy of {copy_bytes / 2**20:.0f} MiB: {copy:.1f} GB/s (read + write)")
    print(f"in-place update a += b over {copy_bytes / 2**20:.0f} MiB: {inplace:.1f} GB/s (2 reads + 1 write)\n")
    rows: list[tuple[str, str, float, int, float, float]] = []
    print(
        f"{'optimizer':<10} {'impl':<9} {'B/param':>7} {'params':>11} {'step ms':>10} {'GB/s':>8} {'% copy':>7} "
        f"{'% in-place':>10}"
    )
    best: dict[tuple[str, str], float] = {}
    for name in names:
        per_param = bytes_per_param(name)
        for impl in supported_implementations(name, device):
            for size in sizes:
                seconds = step_time(name, impl, size, device)
                n = max(1, size // TENSORS) * TENSORS
                bandwidth = per_param * n / seconds / 1e9
                rows.append((name, impl, per_param, n, seconds, bandwidth))
                print(
                    f"{name:<10} {impl:<9} {per_param:>7.0f} {n:>11,} {seconds * 1e3:>10.3f} "
                    f"{bandwidth:>8.1f} {100 * bandwidth / copy:>6.0f}% {100 * bandwidth / inplace:>9.0f}%",
                    flush=True,
                )
            print()
    after = copy_bandwidth(device, copy_bytes)
    print(f"streaming copy again at the end: {after:.1f} GB/s; the verdict uses the better of the two")
    copy = max(copy, after)
    for name, impl, _, n, _, bandwidth in rows:
        if n >= 16_000_000:
            best[(name, impl)] = max(best.get((name, impl), 0.0), bandwidth / copy)
    fused = best.get(("adamw", "fused"))
    if fused is not None:
        verdict = "meets" if fused >= GOAL else "misses"
        print(
            f"goal: fused AdamW at 16M+ parameters reaches {100 * fused:.0f}% of copy ({verdict} the {GOAL:.0%} goal)"
        )
        adamw = [bw for name, impl, _, n, _, bw in rows if (name, impl) == ("adamw", "fused") and n >= 16_000_000]
        print(f"           and {100 * max(adamw) / inplace:.0f}% of the in-place update")


if __name__ == "__main__":
    main()
