"""A learning-rate schedule of one racing optimizer, as `torch.optim.lr_scheduler` applies it.

The library path builds the real scheduler on the real optimizer and steps it after every optimizer step. The
fast path asks the same scheduler, on a stand-in optimizer holding one parameter group per base learning rate,
for the learning rate of every step (`lr_values`), and rebinds the rule to it at each step
(`scheduled_rule`): the values are torch's own, recursions and rounding included, so both paths see the same
bits. Lengths are fractions of the race (a warm-up of 0.1 is the first tenth of the steps), so a schedule keeps
its shape when the race gets longer, as the Training panel's schedules do.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.core.errors import UnknownNameError, ValueOutOfRangeError, echo
from optviz.core.params import Param, Schema, Value

#: Each kind's parameters (a `Schema`, so the race panel's form, scene files and `--schedule` share one
#: validation); lengths are shares of the race's steps.
SCHEMAS: dict[str, Schema] = {
    "constant": Schema("schedule constant", ()),
    "warmup-cosine": Schema(
        "schedule warmup-cosine",
        (Param("warmup", 0.1, low=0.0, high=0.9, help="share of the steps spent warming up linearly"),),
    ),
    "step": Schema(
        "schedule step",
        (
            Param("every", 0.25, low=0.01, high=1.0, help="share of the steps between decays"),
            Param("gamma", 0.1, low=1e-6, high=1.0, scale="log", help="the learning rate is multiplied by this"),
        ),
    ),
    "exponential": Schema(
        "schedule exponential",
        (Param("gamma", 0.995, low=0.5, high=1.0, help="the learning rate is multiplied by this after each step"),),
    ),
    "one-cycle": Schema(
        "schedule one-cycle",
        (Param("peak", 0.3, low=0.01, high=0.99, help="share of the steps spent rising to the peak (pct_start)"),),
    ),
    "restarts": Schema(
        "schedule restarts",
        (
            Param("period", 0.25, low=0.01, high=1.0, help="share of the steps in the first cosine period (T_0)"),
            Param("mult", 1, kind="int", low=1, high=4, help="each period is this many times the last (T_mult)"),
        ),
    ),
}

#: What each kind does, in the app's list and in `--help`.
DESCRIPTIONS = {
    "constant": "the optimizer's learning rate at every step",
    "warmup-cosine": "linear warm-up from lr/(w+1) (LinearLR), then cosine decay to 0 (CosineAnnealingLR), "
    "joined by SequentialLR",
    "step": "multiplied by gamma after each `every` share of the steps (StepLR)",
    "exponential": "multiplied by gamma after every step (ExponentialLR)",
    "one-cycle": "from lr/25 up to lr, then cosine down to lr/25e4 (OneCycleLR; momentum is not cycled)",
    "restarts": "cosine decay to 0, restarted after each period (CosineAnnealingWarmRestarts)",
}

#: The kinds, in the order the app lists them.
SCHEDULE_KINDS = tuple(SCHEMAS)


@dataclass(frozen=True)
class LrSchedule:
    """A validated schedule: its kind and every parameter (defaults included); hashable, so it can key caches."""

    kind: str
    params: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in SCHEMAS:
            raise UnknownNameError(f"schedule {echo(self.kind)} is not one of {', '.join(SCHEDULE_KINDS)}")
        object.__setattr__(self, "params", SCHEMAS[self.kind].resolve(self.params))

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.params.items()))))

    def to_text(self) -> str:
        """`kind:k=v,...` (the command line's spelling), without the defaults."""
        schema = SCHEMAS[self.kind]
        given = [f"{k}={v:g}" for k, v in self.params.items() if v != schema.get(k).default]
        return self.kind + (":" + ",".join(given) if given else "")

    def describe(self) -> str:
        return f"lr schedule {self.to_text()}"

    def build(self, optimizer: Any, steps: int) -> Any:
        """The torch scheduler for a run of `steps` optimizer steps (None for constant)."""
        from torch.optim import lr_scheduler as sched

        n = max(1, int(steps))
        p = self.params
        if self.kind == "constant":
            return None
        if self.kind == "warmup-cosine":
            warm = round(n * p["warmup"])
            cosine = sched.CosineAnnealingLR(optimizer, T_max=max(1, n - warm))
            if warm == 0:
                return cosine
            linear = sched.LinearLR(optimizer, start_factor=1.0 / (warm + 1), end_factor=1.0, total_iters=warm)
            return sched.SequentialLR(optimizer, [linear, cosine], milestones=[warm])
        if self.kind == "step":
            return sched.StepLR(optimizer, step_size=max(1, round(n * p["every"])), gamma=p["gamma"])
        if self.kind == "exponential":
            return sched.ExponentialLR(optimizer, gamma=p["gamma"])
        if self.kind == "one-cycle":
            peaks = [group["lr"] for group in optimizer.param_groups]
            return sched.OneCycleLR(optimizer, max_lr=peaks, total_steps=n, pct_start=p["peak"], cycle_momentum=False)
        return sched.CosineAnnealingWarmRestarts(optimizer, T_0=max(1, round(n * p["period"])), T_mult=p["mult"])


def parse_schedule(text: str) -> LrSchedule | None:
    """`warmup-cosine:warmup=0.2`, `step:every=0.25,gamma=0.5`, ... or `constant`/`off` (None); a one-line
    `OptvizError` names a bad kind, key or value."""
    raw = text.strip().lower()
    if raw in ("off", "none", "constant"):
        return None
    kind, _, rest = raw.partition(":")
    kind = kind.strip()
    if kind not in SCHEMAS:
        raise UnknownNameError(f"schedule {echo(kind)} is not one of {', '.join(SCHEDULE_KINDS)}")
    values: dict[str, Value] = {}
    for part in filter(None, (s.strip() for s in rest.split(","))):
        name, eq, value = part.partition("=")
        if not eq:
            raise ValueOutOfRangeError(f"schedule {echo(text)}: {echo(part)} is not key=value")
        values[name.strip()] = SCHEMAS[kind].check(name.strip(), value.strip())
    return LrSchedule(kind, values)


def with_scheduler(schedule: LrSchedule | None, optimizer: Any, steps: int) -> Callable[[], None]:
    """Attach the schedule's torch scheduler to `optimizer` (which sets the first step's learning rate at
    once, as torch's schedulers do) and return what to call after each optimizer step."""
    if schedule is None:
        return lambda: None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()": a stand-in has no steps
        scheduler = schedule.build(optimizer, steps)
    taken = [0]

    def step() -> None:
        taken[0] += 1
        if taken[0] < steps:  # after the last step no learning rate is needed (OneCycleLR refuses one more)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scheduler.step()

    return step


@functools.lru_cache(maxsize=64)
def _values(schedule: LrSchedule, base_lrs: tuple[float, ...], steps: int) -> np.ndarray:
    import torch

    groups = [{"params": [torch.zeros(1)], "lr": lr} for lr in base_lrs]
    optimizer = torch.optim.SGD(groups)
    advance = with_scheduler(schedule, optimizer, steps)
    out = np.empty((steps, len(base_lrs)))
    for t in range(steps):
        out[t] = [group["lr"] for group in optimizer.param_groups]
        advance()
    out.setflags(write=False)
    return out


def lr_values(schedule: LrSchedule | None, base_lr: Any, steps: int) -> np.ndarray:
    """The learning rate the library uses at each step 1..steps: (steps,) for one base lr, (steps, *shape) for an
    array of per-run base lrs (each distinct value is one parameter group of the scheduler)."""
    base = np.asarray(base_lr, dtype=np.float64)
    if schedule is None:
        return np.broadcast_to(base, (steps, *base.shape)).copy()
    distinct, inverse = np.unique(base.ravel(), return_inverse=True)
    table = _values(schedule, tuple(float(v) for v in distinct), int(steps))
    return table[:, inverse].reshape(steps, *base.shape)


def scheduled(spec_fast: Callable[[Mapping[str, Any]], Any], hp: Mapping[str, Any], lrs: np.ndarray) -> Any:
    """The fast rule of `spec_fast` (a registry factory) with its learning rate rebound to `lrs[t - 1]` at each
    step t, and its state carried across: what the optimizer does when a scheduler writes `group["lr"]`
    between steps. `lrs` comes from `lr_values`."""
    from optviz.core.optimizers.spec import FastRule, PairRule

    cache: dict[int, Any] = {}

    def at(t: int) -> Any:
        i = min(max(t, 1), len(lrs)) - 1
        rule = cache.get(i)
        if rule is None:
            lr = lrs[i]
            cache.clear()  # keep only the current step's rule: a long race would hold one per step
            rule = cache[i] = spec_fast({**hp, "lr": lr if lr.ndim else float(lr)})
        return rule

    first = at(1)
    if isinstance(first, PairRule):
        return PairRule(
            init=lambda x, y, probe: at(1).init(x, y, probe),
            step=lambda x, y, gx, gy, s, t, probe: at(t).step(x, y, gx, gy, s, t, probe),
        )
    steps_of: list[int] = [1]

    def step(p: Any, g: Any, s: dict, t: int, xp: Any) -> Any:
        steps_of[0] = t
        return at(t).step(p, g, s, t, xp)

    display = None
    if first.display is not None:
        display = lambda p, s, xp: at(steps_of[0]).display(p, s, xp)  # noqa: E731
    return FastRule(init=lambda p, xp: at(1).init(p, xp), step=step, display=display)


def race_lrs(configs: Sequence[Any], steps: int) -> np.ndarray:
    """(K, steps+1): each config's learning rate at each step (index t: step t; index 0 repeats step 1), NaN for
    an optimizer without one or with per-run learning rates (a sweep draws none)."""
    out = np.full((len(configs), steps + 1), np.nan)
    for k, config in enumerate(configs):
        lr = config.hyperparams.get("lr")
        if isinstance(lr, (int, float)) and not isinstance(lr, bool) and steps > 0:
            values = lr_values(config.schedule, float(lr), steps)
            out[k, 1:] = values
            out[k, 0] = values[0]
    return out
