"""The race engine: K optimizers x M starts x N steps on one surface, as arrays, never raising on divergence.

Each optimizer runs on our fast path when the registry has an exact elementwise rule for it, else on the
library optimizer itself (`engine="library"` forces the library everywhere). Afterwards the whole result is
scored in a few vectorised passes: losses, gradient and update norms, distance to the nearest minimum, the
first non-finite or escaped point (diverged: where f is undefined, by NaN or infinity, or far away), and the
first point within tolerance of a minimum (converged).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.optimizers import OptimizerSpec, get_optimizer
from optviz.core.race.clip import Clip
from optviz.core.race.fast_path import run_fast
from optviz.core.race.library_path import run_library
from optviz.core.race.lr_schedule import LrSchedule, lr_values, race_lrs, scheduled
from optviz.core.race.memory import check_race_memory
from optviz.core.race.per_run import group_rows, has_per_run
from optviz.core.race.perturb import GradientPlan, Perturbation, draw_plan
from optviz.core.race.result import RaceResult, RunConfig, RunStatus
from optviz.core.surfaces.base import Surface
from optviz.core.surfaces.defined import LEFT_DEFINED, STARTS_UNDEFINED

Engine = Literal["auto", "fast", "library"]

#: A run has diverged once a point lies farther than this many domain half-widths from the domain's centre.
FAR_FACTOR = 10.0
#: Default convergence tolerance: distance to the nearest known global minimum (or, on surfaces without
#: one, the gradient norm).
DEFAULT_TOLERANCE = 1e-3


def gradient_noise(surface: Surface, m_count: int, steps: int, seed: int) -> np.ndarray | None:
    """The gradient noise every optimizer of a race sees: (M, steps, 2), seeded, or None when noise is 0."""
    if surface.noise <= 0:
        return None
    return np.random.default_rng(seed).standard_normal((m_count, steps, 2)) * surface.noise


def escape_radius(surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    """(centre, half-widths x FAR_FACTOR): outside this box a run counts as diverged."""
    (x0, x1), (y0, y1) = surface.domain
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2]) * FAR_FACTOR
    return centre, half


def simulate(
    surface: Surface,
    config: RunConfig,
    starts: np.ndarray,
    steps: int,
    seed: int = 0,
    engine: Engine = "auto",
    cancelled: Callable[[], bool] | None = None,
    noise: np.ndarray | None = None,
    plan: GradientPlan | None = None,
) -> tuple[np.ndarray, list[str], str]:
    """Raw positions (M, steps+1, 2) of one optimizer, error messages per start, and the engine used.

    `noise` (M, steps, 2), when given, is the gradient noise instead of the seeded draw (a sweep gives each of
    its rows the noise the race it stands for would see). `plan` is the race's gradient perturbation
    (`draw_plan`, the same for every optimizer); `config.clip` clips the gradient after it, and
    `config.schedule` sets the learning rate of each step as its torch scheduler would."""
    spec = get_optimizer(config.optimizer)
    if not spec.on_surfaces:
        raise OptvizError(f"{spec.name} cannot race on a surface: {spec.surface_unavailable}")
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    if noise is None:
        noise = gradient_noise(surface, len(starts), steps, seed)
    if plan is not None and plan.noise is not None:  # heavy-tailed noise adds to the Gaussian
        noise = plan.noise if noise is None else noise + plan.noise
    clip, schedule = config.clip, config.schedule
    if schedule is not None and "lr" not in spec.schema.names:
        raise OptvizError(f"{spec.name} has no learning rate to schedule")
    centre, half = escape_radius(surface)
    # The raw runs test |p| < far against the origin; the exact box test happens in `score`.
    far = float(np.max(np.abs(centre) + half))
    use_fast = spec.fast is not None and engine != "library"
    if engine == "fast" and spec.fast is None:
        raise OptvizError(f"{spec.name} has no fast path; use engine 'auto' or 'library'")
    if has_per_run(config.hyperparams):
        return _simulate_per_run(
            spec, config.hyperparams, surface, starts, steps, noise, seed, far, use_fast, plan, clip, schedule
        )
    if use_fast:
        spec.check_with_library(config.hyperparams)
        rule = _fast_rule(spec, config.hyperparams, schedule, steps)
        positions, errors = run_fast(rule, surface, starts, steps, noise, far, seed, plan, clip)
        return positions, errors, "fast"
    positions, errors = run_library(
        spec, config.hyperparams, surface, starts, steps, noise, seed, far, cancelled, plan, clip, schedule
    )
    return positions, errors, "library"


def _simulate_per_run(
    spec: OptimizerSpec,
    hp: Mapping[str, object],
    surface: Surface,
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None,
    seed: int,
    far: float,
    use_fast: bool,
    plan: GradientPlan | None = None,
    clip: Clip | None = None,
    schedule: LrSchedule | None = None,
) -> tuple[np.ndarray, list[str], str]:
    """Row m runs from start m with row m's hyperparameters: one batched run per group of rows that take the
    same branches (fast path), or one library run per row (the reference)."""
    positions = np.full((len(starts), steps + 1, 2), np.nan)
    errors = [""] * len(starts)
    for group in group_rows(spec, hp, len(starts)):
        rows = group.rows
        row_noise = None if noise is None else noise[rows]
        row_plan = None if plan is None else plan.rows(rows)
        try:
            spec.check_with_library(group.row_values(0))
        except OptvizError as exc:
            # The library refuses these rows' settings (Nesterov without momentum): they go nowhere, and say
            # why, while the rest of a sweep runs.
            positions[rows, 0] = starts[rows]
            for m in rows:
                errors[m] = f"refused by the library: {exc}"
            continue
        if use_fast:
            rule = _fast_rule(spec, group.hp, schedule, steps)
            positions[rows], errs = run_fast(rule, surface, starts[rows], steps, row_noise, far, seed, row_plan, clip)
            for m, err in zip(rows, errs, strict=True):
                errors[m] = err
            continue
        for i, m in enumerate(rows):
            one_noise = None if row_noise is None else row_noise[i : i + 1]
            one_plan = None if row_plan is None else row_plan.rows([i])
            path, errs = run_library(
                spec,
                group.row_values(i),
                surface,
                starts[m : m + 1],
                steps,
                one_noise,
                seed,
                far,
                None,
                one_plan,
                clip,
                schedule,
            )
            positions[m], errors[m] = path[0], errs[0]
    return positions, errors, "fast" if use_fast else "library"


def _fast_rule(spec: OptimizerSpec, hp: Mapping[str, object], schedule: LrSchedule | None, steps: int):
    """The registry's fast rule bound to `hp`; with a schedule, rebound to the scheduler's lr at each step."""
    if schedule is None:
        return spec.fast(hp)
    return scheduled(spec.fast, hp, lr_values(schedule, hp["lr"], steps))


def run_race(
    surface: Surface,
    configs: Sequence[RunConfig],
    starts: np.ndarray,
    steps: int,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    engine: Engine = "auto",
    cancelled: Callable[[], bool] | None = None,
    noise: np.ndarray | None = None,
    perturbation: Perturbation | None = None,
    plan: GradientPlan | None = None,
) -> RaceResult:
    """Race every config from every start; deterministic for a given input (`noise`: see `simulate`). A race
    too big for memory is refused before anything is allocated (`optviz.core.race.memory`). `perturbation` is
    drawn once from `seed`: every config sees the same draw. `plan`, instead of a perturbation, is a draw made
    for other starts (a sweep's rows get the draw of the race start each stands for, as with `noise`)."""
    if plan is not None and perturbation is not None:
        raise ValueError("give a perturbation or the plan drawn from one, not both")
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    check_race_memory(len(configs), len(starts), steps)
    if plan is None:
        plan = draw_plan(perturbation, len(starts), steps, seed)
    raw, errors, engines = [], [], []
    for config in configs:
        positions, errs, used = simulate(surface, config, starts, steps, seed, engine, cancelled, noise, plan)
        raw.append(positions)
        errors.append(errs)
        engines.append(used)
    shape = (len(configs), len(starts), steps + 1, 2)
    positions = np.stack(raw) if raw else np.zeros(shape)
    return score(surface, list(configs), starts, positions, errors, steps, seed, tolerance, engines, plan)


def score(
    surface: Surface,
    configs: list[RunConfig],
    starts: np.ndarray,
    positions: np.ndarray,
    errors: list[list[str]],
    steps: int,
    seed: int,
    tolerance: float,
    engines: list[str],
    plan: GradientPlan | None = None,
) -> RaceResult:
    """Turn raw positions (K, M, N+1, 2) into a `RaceResult`: status, losses and norms, all vectorised. A run
    that went NaN, infinite or far at or after an event of `plan` says so in its reason."""
    positions = positions.copy()
    k_count, m_count = positions.shape[:2]
    with np.errstate(all="ignore"):
        losses = surface.value_np(positions) * np.ones(positions.shape[:-1])
        centre, half = escape_radius(surface)
        nan = np.isnan(positions).any(-1) | np.isnan(losses)
        inf = ~nan & (np.isinf(positions).any(-1) | np.isinf(losses))
        outside = (np.abs(positions - centre) > half).any(-1)
        escaped = ~nan & ~inf & outside
        bad = nan | inf | escaped
        # A finite point in bounds whose loss is not finite is where f itself is undefined (log(x) at x < 0, a
        # pole), not a numerical blow-up of the optimizer: the reason says so.
        undefined = np.isfinite(positions).all(-1) & ~outside & ~np.isfinite(losses)

    status = np.full((k_count, m_count), RunStatus.RUNNING.value, dtype="<U9")
    stopped = np.full((k_count, m_count), -1, dtype=int)
    reasons = np.full((k_count, m_count), "", dtype=object)
    steps_idx = np.arange(steps + 1)

    any_bad = bad.any(-1)
    first_bad = np.where(any_bad, bad.argmax(-1), steps + 1)
    for k, m in zip(*np.nonzero(any_bad), strict=True):
        s = int(first_bad[k, m])
        status[k, m] = RunStatus.DIVERGED.value
        stopped[k, m] = s
        what = "NaN" if nan[k, m, s] else "infinity" if inf[k, m, s] else "exploded"
        blamed = "" if plan is None or undefined[k, m, s] or s == 0 else plan.blame(int(m), s, what)
        if undefined[k, m, s]:  # every earlier point was defined, or s is the start
            reasons[k, m] = LEFT_DEFINED if s > 0 else STARTS_UNDEFINED
        elif blamed:
            reasons[k, m] = blamed
        elif nan[k, m, s]:  # the library's own error where it gave one (a run that escaped first keeps that reason)
            reasons[k, m] = errors[k][m] or "NaN"
        elif inf[k, m, s]:
            reasons[k, m] = "infinity"
        else:
            reasons[k, m] = f"far outside the domain (more than {FAR_FACTOR:g}x its size from the centre)"
    # Freeze diverged runs at their last finite point, and blank what follows.
    after = steps_idx[None, None, :] >= first_bad[..., None]
    last_good = np.clip(first_bad - 1, 0, steps)
    frozen = np.take_along_axis(positions, last_good[..., None, None].repeat(2, -1), axis=2)
    positions = np.where(after[..., None], frozen, positions)

    with np.errstate(all="ignore"):
        grads = surface.grad_np(positions)
        grad_norms = np.hypot(grads[..., 0], grads[..., 1])
        update_norms = np.zeros_like(losses)
        steps_moved = np.diff(positions, axis=2)
        update_norms[..., 1:] = np.hypot(steps_moved[..., 0], steps_moved[..., 1])
        distances = surface.distance_to_minimum(positions)
    losses = np.where(after, np.nan, losses)
    grad_norms = np.where(after, np.nan, grad_norms)
    update_norms = np.where(after, np.nan, update_norms)
    distances = np.where(after, np.nan, distances)

    # Converged: first point within tolerance of a known minimum (gradient norm on surfaces without one).
    near = (distances <= tolerance) if surface.minima else (grad_norms <= tolerance)
    near &= ~after
    conv = near.any(-1) & (status == RunStatus.RUNNING.value)
    first_near = near.argmax(-1)
    for k, m in zip(*np.nonzero(conv), strict=True):
        status[k, m] = RunStatus.CONVERGED.value
        stopped[k, m] = int(first_near[k, m])

    return RaceResult(
        configs=configs,
        starts=starts,
        positions=positions,
        losses=losses,
        grad_norms=grad_norms,
        update_norms=update_norms,
        distances=distances,
        status=status,
        stopped_at=stopped,
        reasons=reasons,
        steps=steps,
        seed=seed,
        tolerance=tolerance,
        engines=engines,
        learning_rates=race_lrs(configs, steps),
    )
