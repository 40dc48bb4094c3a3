"""Per-step optimizer state of one run: what the step inspector and `optviz inspect` show.

One run (one optimizer from one start) is stepped by the library optimizer itself in float64, the way the race
engine's library path steps it (the same analytic gradient, the same noise, `torch.manual_seed(seed)` first), so
what is recorded is the library's truth by construction. After step n (1-based) a `StepRecord` holds the drawn
point before and after, the gradient the optimizer was given (noise included) and where it was taken, and every
entry of `optimizer.state[p]` by torch's own name, cloned (plus the parameter-group values a registry row names
in `group_state`, Prodigy's d).

Memory: races record nothing. A `StepInspector` re-runs its one run lazily, up to the step asked for, and keeps
the records of the last `window` steps before it (at most `WINDOW_BYTES` of them) plus a copy of the optimizer
every `checkpoint_every` steps, so a jump back re-runs at most that many steps and what it holds stays flat in the
run's length: at step 10,000 about 0.6 MB for Adam or Shampoo, 6 MB for L-BFGS (100 pairs of history per record),
where recording every step would take 10 MB and 490 MB.
"""

from __future__ import annotations

import copy
import sys
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.mathlib import torch_math
from optviz.core.optimizers import OptimizerSpec, get_optimizer
from optviz.core.race.engine import escape_radius
from optviz.core.race.library_path import NUMERIC_ERRORS
from optviz.core.race.lr_schedule import lr_values
from optviz.core.race.result import RunConfig
from optviz.core.surfaces.base import Surface

if TYPE_CHECKING:
    from optviz.core.scene import Scene

#: Steps between copies of the optimizer: a jump back re-runs at most this many library steps (Adam: ~25 ms).
CHECKPOINT_EVERY = 256
#: Records kept around the last step asked for (a cursor scrubbing back and forth finds them ready), and the
#: bytes they may take: L-BFGS's history makes one record ~50 KB, where Adam's or Shampoo's take ~1 KB.
WINDOW = 512
WINDOW_BYTES = 4 * 2**20


@dataclass(frozen=True)
class StepRecord:
    """Step n of one run, after the step was taken. Points are what the race draws (Schedule-Free: its averaged
    x), so `before` and `after` are the race's positions n − 1 and n."""

    step: int
    before: np.ndarray  # (2,)
    after: np.ndarray  # (2,)
    gradient: np.ndarray  # (2,): what the optimizer was given, gradient noise included
    gradient_at: np.ndarray  # (2,): the parameter the gradient was taken at (differs from `before` for Schedule-Free)
    #: torch's state names -> numpy arrays (shapes kept; 0-dim for the library's scalar tensors), Python numbers,
    #: or lists of them (L-BFGS's history).
    state: dict[str, Any]
    #: The learning rate this step used, where a schedule set it (None: the optimizer's own, every step).
    lr: float | None = None

    def step_hp(self, hp: Mapping[str, Any]) -> Mapping[str, Any]:
        """The hyperparameters this step ran with: `hp`, with the scheduled learning rate where there is one."""
        return hp if self.lr is None else {**hp, "lr": self.lr}

    @property
    def update(self) -> np.ndarray:
        """The move the step made: after − before."""
        return self.after - self.before

    @property
    def nbytes(self) -> int:
        """Bytes it holds, Python objects included (`sys.getsizeof`)."""
        return _nbytes([self.before, self.after, self.gradient, self.gradient_at, *self.state.values()])

    def derived(self, spec: OptimizerSpec, hp: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The registry's derived quantities for this step (Adam: m̂, v̂, the denominator, the step), or {}."""
        if spec.derived is None:
            return {}
        return spec.derived(self.step_hp(hp), self.state, self.gradient, self.gradient_at, self.step)


def _nbytes(value: Any) -> int:
    if isinstance(value, list):
        return sys.getsizeof(value) + sum(_nbytes(v) for v in value)
    return sys.getsizeof(value)


def _snapshot(value: Any) -> Any:
    """A library state value as plain data, cloned: tensors as numpy arrays, lists element by element."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, list | tuple):
        return [_snapshot(v) for v in value]
    return value


class _Run:
    """One library optimizer on one start: steps one at a time, and copies itself for a checkpoint."""

    def __init__(
        self,
        spec: OptimizerSpec,
        hp: Mapping[str, Any],
        surface: Surface,
        start: np.ndarray,
        noise,
        seed: int,
        lrs: np.ndarray | None = None,
    ) -> None:
        """`lrs[t]`: the learning rate step t + 1 takes (a schedule's `lr_values`), written into the parameter
        group before the step as the scheduler writes it after the step before; None: no schedule."""
        import torch

        self.spec, self.hp, self.surface, self.noise, self.lrs = spec, hp, surface, noise, lrs
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the draws the library path's run of this start makes (AdaHessian's probes)
            self.rng = torch.get_rng_state()
        shape = (1, 2) if spec.needs_2d else (2,)
        self.param = torch.tensor(start, dtype=torch.float64).reshape(shape).requires_grad_(True)
        self.opt = spec.build([self.param], hp)
        self.t = 0
        self.point = np.asarray(start, dtype=np.float64).copy()  # the drawn point after step t

    def copy(self) -> _Run:
        """An independent run at the same step: the optimizer rebuilt, its state and group values deep-copied in.

        Neither a deep copy of the optimizer object (torch pickles only defaults, state and groups, so what a
        plug-in optimizer sets in its constructor is lost) nor `load_state_dict` (it casts float32 state such as
        NAdam's mu_product to the parameter's float64) would step on bit for bit."""
        clone = copy.copy(self)
        clone.param = self.param.detach().clone().requires_grad_(True)
        clone.opt = self.spec.build([clone.param], self.hp)
        clone.opt.state[clone.param] = copy.deepcopy(self.opt.state[self.param])
        for new, old in zip(clone.opt.param_groups, self.opt.param_groups, strict=True):
            new.update({k: copy.deepcopy(v) for k, v in old.items() if k != "params"})
        clone.rng = self.rng.clone()
        clone.point = self.point.copy()
        return clone

    def step(self, keep: bool = True) -> StepRecord | None:
        """Take step t + 1 and return its record (None when not `keep`: snapshotting L-BFGS's history costs more
        than its step); raises one of the library's numeric errors where the library does."""
        import torch

        spec, surface, param = self.spec, self.surface, self.param
        T = torch_math()
        noise = None if self.noise is None else torch.as_tensor(self.noise[self.t])
        seen: list = []  # (point, gradient) of each closure call: the first is what the step started from

        def closure() -> torch.Tensor:
            with torch.set_grad_enabled(spec.needs_hvp):
                flat = param.reshape(2)
                gx, gy = surface.grad(flat[0], flat[1], T)
                grad = torch.stack(torch.broadcast_tensors(gx, gy))
                loss = surface.value_torch(flat.reshape(1, 2)).sum()
                if noise is not None:
                    grad = grad + noise
                    loss = loss + (noise * flat).sum()  # keeps a line search consistent with the gradient
            seen.append((flat.detach().numpy().copy(), grad.detach().numpy().copy()))
            param.grad = grad.reshape(param.shape)
            return loss.detach()

        lr = None
        if self.lrs is not None:
            lr = float(self.lrs[self.t])
            for group in self.opt.param_groups:
                group["lr"] = lr
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.rng)
            spec.step(self.opt, closure)
            self.rng = torch.get_rng_state()
        with torch.no_grad():
            drawn = spec.eval_point(self.opt, [param])[0] if spec.eval_point is not None else param
            after = drawn.detach().numpy().reshape(2).copy()
        self.t += 1
        before, self.point = self.point, after
        if not keep:
            return None
        state = {k: self.opt.param_groups[0][k] for k in spec.group_state if k in self.opt.param_groups[0]}
        state.update(self.opt.state[param])
        return StepRecord(
            step=self.t,
            before=before,
            after=after,
            gradient=seen[0][1],
            gradient_at=seen[0][0],
            state={k: _snapshot(v) for k, v in state.items()},
            lr=lr,
        )


class StepInspector:
    """Records of one run, made on demand (see the module doc): `record(n)` is step n.

    `limit` is the last step that may be asked for (the race's step count); `noise` (limit, 2) is the gradient
    noise this start sees in its race (`race_noise`). It keeps at most `window` records and `window_bytes` of
    them (always the one asked for last)."""

    def __init__(
        self,
        surface: Surface,
        config: RunConfig,
        start: np.ndarray,
        seed: int = 0,
        noise: np.ndarray | None = None,
        limit: int | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
        window: int = WINDOW,
        window_bytes: int = WINDOW_BYTES,
    ) -> None:
        self.spec = get_optimizer(config.optimizer)
        if not self.spec.on_surfaces:
            raise OptvizError(f"{self.spec.name} cannot race on a surface: {self.spec.surface_unavailable}")
        self.spec.check_with_library(config.hyperparams)
        self.config = config
        self.limit = limit
        self.checkpoint_every = max(1, checkpoint_every)
        self.window = max(1, window)
        self.window_bytes = window_bytes
        self._held_bytes = 0
        self._box = escape_radius(surface)
        lrs = None
        if config.schedule is not None:
            if limit is None:
                raise OptvizError("a scheduled run needs its race's step count (the schedule spans the race)")
            lrs = lr_values(config.schedule, config.hyperparams["lr"], limit)
        start = np.asarray(start, dtype=np.float64)
        self._live = _Run(self.spec, config.hyperparams, surface, start, noise, seed, lrs)
        self._checkpoints: dict[int, _Run] = {0: self._live.copy()}
        self._records: OrderedDict[int, StepRecord] = OrderedDict()
        #: The first step where the run broke (a library error: no record; a bad point: its record is the last),
        #: and why; None while none has been seen.
        self.diverged_at: int | None = None
        self.reason = ""
        self._last_step: int | None = None  # the last step that has a record, once the run has broken

    def record(self, n: int) -> StepRecord:
        """Step n (1-based) of the run; an `OptvizError` naming the problem when there is no such step."""
        if n < 1:
            raise OptvizError(f"step {n} does not exist: steps count from 1")
        if self.limit is not None and n > self.limit:
            raise OptvizError(f"step {n} is beyond the race's {self.limit} steps")
        self._refuse_beyond_divergence(n)
        hit = self._records.get(n)
        if hit is not None:
            self._records.move_to_end(n)
            return hit
        base = max(t for t in self._checkpoints if t < n)
        if not base <= self._live.t < n:  # the live run is not the nearest run ahead of n: start from the copy
            self._live = self._checkpoints[base].copy()
        while self._live.t < n:
            # Steps more than a window before n would be dropped at once: not recorded at all.
            self._step_live(keep=n - self._live.t <= self.window)
            self._refuse_beyond_divergence(n)
        return self._records[n]

    def _step_live(self, keep: bool) -> None:
        t = self._live.t + 1
        try:
            record = self._live.step(keep)
        except NUMERIC_ERRORS as exc:
            self._diverged(t - 1, t, f"{self.spec.title} raised {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            return
        if t % self.checkpoint_every == 0 and t not in self._checkpoints:
            self._checkpoints[t] = self._live.copy()
        reason = self._bad_point(self._live.point)
        if reason:
            self._diverged(t, t, reason)
        if record is None:
            return
        old = self._records.pop(t, None)  # a step re-run from a checkpoint replaces its earlier record
        self._held_bytes += record.nbytes - (old.nbytes if old is not None else 0)
        self._records[t] = record
        while len(self._records) > 1 and (len(self._records) > self.window or self._held_bytes > self.window_bytes):
            self._held_bytes -= self._records.popitem(last=False)[1].nbytes

    def _bad_point(self, point: np.ndarray) -> str:
        """Why the race counts this point as diverged ("" when it does not): its test in `engine.score`."""
        if np.isnan(point).any():
            return "NaN"
        if np.isinf(point).any():
            return "infinity"
        centre, half = self._box
        if (np.abs(point - centre) > half).any():
            return "far outside the domain"
        return ""

    def _diverged(self, last_step: int, at: int, reason: str) -> None:
        if self.diverged_at is None:
            self.diverged_at, self.reason, self._last_step = at, reason, last_step

    def _refuse_beyond_divergence(self, n: int) -> None:
        if self._last_step is not None and n > self._last_step:
            last = f"the last step is {self._last_step}" if self._last_step else "it took no step"
            raise OptvizError(
                f"step {n} is beyond the run's divergence at step {self.diverged_at} ({self.reason}); {last}"
            )

    @property
    def held_steps(self) -> list[int]:
        """The steps whose records it holds now (at most `window`)."""
        return sorted(self._records)

    @property
    def nbytes(self) -> int:
        """Bytes of the records and checkpoints it holds now (state arrays' data)."""
        per_checkpoint = _nbytes([_snapshot(v) for v in self._live.opt.state[self._live.param].values()])
        return self._held_bytes + len(self._checkpoints) * per_checkpoint


def record_steps(
    surface: Surface,
    config: RunConfig,
    start: np.ndarray,
    steps: int,
    seed: int = 0,
    noise: np.ndarray | None = None,
) -> list[StepRecord]:
    """Every step 1..`steps` of one run, or up to the step where it broke (a library error ends the list
    before that step; a bad point ends it with that step's record)."""
    inspector = StepInspector(
        surface, config, start, seed, noise, limit=steps, window=max(1, steps), window_bytes=sys.maxsize
    )
    records = []
    for n in range(1, steps + 1):
        try:
            records.append(inspector.record(n))
        except OptvizError:
            break
    return records


def race_noise(surface: Surface, m_count: int, steps: int, seed: int, m: int) -> np.ndarray | None:
    """(steps, 2): the gradient noise start m of an `m_count`-start race sees (`engine.gradient_noise`), or None.

    The race draws (m_count, steps, 2) normals in one go; numpy's generator yields them one after another, so
    the first m + 1 starts' draws are that array's first rows whatever m_count is, and only those are drawn."""
    from optviz.core.race.engine import gradient_noise

    if not 0 <= m < m_count:
        raise OptvizError(f"start {m + 1} does not exist: the race has {m_count} start(s)")
    noise = gradient_noise(surface, m + 1, steps, seed)
    return None if noise is None else noise[m]


def scene_inspector(scene: Scene, k: int, m: int) -> StepInspector:
    """The inspector of optimizer k's run from start m of an analytic `scene`'s race (0-based indices)."""
    if scene.is_learned:
        raise OptvizError("the step inspector works on analytic surfaces; a learned race trains real models")
    if not 0 <= k < len(scene.optimizers):
        raise OptvizError(f"optimizer {k + 1} does not exist: the scene has {len(scene.optimizers)}")
    # The inspector re-steps the library with the surface's gradient and noise only: a perturbed or clipped
    # gradient would give another run than the race's, so it says so instead of showing that other run.
    if scene.perturbation is not None:
        raise OptvizError("the step inspector does not replay a gradient pathology yet: set it to none to inspect")
    if scene.optimizers[k].clip is not None:
        raise OptvizError("the step inspector does not replay gradient clipping yet: turn clipping off to inspect")
    surface = scene.build_surface()
    starts = scene.start_points(surface)
    noise = race_noise(surface, len(starts), scene.steps, scene.seed, m)
    return StepInspector(surface, scene.run_config(k), starts[m], scene.seed, noise, limit=scene.steps)
