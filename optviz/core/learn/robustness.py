"""The robustness test: what each optimizer does when one step's real gradient goes bad, with and without
gradient clipping.

Every optimizer trains the zoo model as `optviz train` would (same seed, same batches for all), once untouched
(the baseline) and once per case, where at step `at_step` the case is applied to the gradient tensors after
backward and before the optimizer step:

- exploding: every entry x1e3;            - vanishing: every entry x1e-6;
- sparse: 90 % of the entries zeroed by a dense mask on the dense gradient (a sparse tensor would be refused
  as a dense parameter's grad);
- nan / inf: one entry (the first of the first parameter) set to NaN or +inf.

With clipping, `clip_grad_norm_` runs at every step of the run, baseline included (it is a training setting,
not a patch for the event), right after the case, so it sees the bad gradient.

A run's loss at step t is the batch loss before update t (as `optviz train` records it), compared with its own
baseline's at the same step (the same batch): "worse" means more than `tolerance` % above it, or not finite.
The outcome, judged from the step after the event to the judgement step `at_step + after`:

- "stayed finite": never worse, weights finite;
- "recovered": worse after the event, within the tolerance again at the judgement step;
- "not recovered": weights finite, but worse at the judgement step;
- "weights became NaN": some weight became NaN or infinite (the run stops there);
- "the step raised: <message>": the library raised; no exception escapes a case.

`robustness_test` is a plain function for a worker thread: `progress(done, total, text)` after each step and
`cancelled()` checked before each one (raising `Cancelled`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from optviz.core.errors import OptvizError, ValueOutOfRangeError
from optviz.core.jsonsafe import finite_list, finite_or_none, json_text
from optviz.core.learn.config import MAX_STEPS, OptimizerRun
from optviz.core.learn.control import Cancelled
from optviz.core.learn.training import unique_labels
from optviz.core.learn.trial import GradHook, TrialData, TrialSetup, seeded_rng, short_label, state_finite

EXPLODE, VANISH, SPARSE_SHARE = 1e3, 1e-6, 0.9
#: Steps before the event kept in each run's window of the loss curve.
WINDOW_BEFORE = 10

STAYED, RECOVERED, NOT_RECOVERED, NAN_WEIGHTS, RAISED = (
    "stayed finite",
    "recovered",
    "not recovered",
    "weights became NaN",
    "the step raised",
)
BASELINE_FAILED = "baseline failed"
#: The table's word for each outcome.
SHORT = {
    STAYED: "ok",
    RECOVERED: "recovered",
    NOT_RECOVERED: "worse",
    NAN_WEIGHTS: "NaN",
    RAISED: "raised",
    BASELINE_FAILED: "no-base",
}

Progress = Callable[[int, int, str], None]


def _scale(factor: float) -> Callable[[list[torch.Tensor], torch.Generator], None]:
    def apply(grads: list[torch.Tensor], _rng: torch.Generator) -> None:
        for g in grads:
            g.mul_(factor)

    return apply


def _sparsify(grads: list[torch.Tensor], rng: torch.Generator) -> None:
    for g in grads:
        keep = torch.rand(g.shape, generator=rng) >= SPARSE_SHARE
        g.mul_(keep.to(device=g.device, dtype=g.dtype))


def _one_entry(value: float) -> Callable[[list[torch.Tensor], torch.Generator], None]:
    def apply(grads: list[torch.Tensor], _rng: torch.Generator) -> None:
        if grads:
            grads[0].view(-1)[0] = value

    return apply


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    apply: Callable[[list[torch.Tensor], torch.Generator], None] = field(repr=False)


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("exploding", f"every gradient entry x{EXPLODE:g}", _scale(EXPLODE)),
        Case("vanishing", f"every gradient entry x{VANISH:g}", _scale(VANISH)),
        Case("sparse", f"{SPARSE_SHARE:.0%} of the gradient entries zeroed (a dense mask)", _sparsify),
        Case("nan", "one gradient entry set to NaN", _one_entry(math.nan)),
        Case("inf", "one gradient entry set to +inf", _one_entry(math.inf)),
    )
}


@dataclass(frozen=True)
class RobustnessConfig:
    """One robustness test: the set-up, the optimizers, the event step, the judgement window, clipping."""

    setup: TrialSetup
    optimizers: tuple[OptimizerRun, ...]
    at_step: int = 20
    after: int = 30
    steps: int = 0  # 0: at_step + after (the judgement step is the last)
    tolerance: float = 10.0  # percent above the baseline's loss
    clip: float | None = 1.0  # None: no clipped runs
    cases: tuple[str, ...] = tuple(CASES)

    def __post_init__(self) -> None:
        if not self.optimizers:
            raise OptvizError("give at least one optimizer")
        if self.at_step < 1:
            raise ValueOutOfRangeError(f"the event step must be at least 1, got {self.at_step}")
        if self.after < 1:
            raise ValueOutOfRangeError(f"the steps after the event must be at least 1, got {self.after}")
        if self.steps and self.steps < self.judged_at:
            raise ValueOutOfRangeError(
                f"steps={self.steps} ends before the judgement step {self.judged_at} (at-step + after)"
            )
        if self.total_steps > MAX_STEPS:
            raise ValueOutOfRangeError(f"steps={self.total_steps} is out of range (1 to {MAX_STEPS})")
        if not (self.tolerance > 0 and math.isfinite(self.tolerance)):
            raise ValueOutOfRangeError(f"the tolerance must be a finite percentage above 0, got {self.tolerance}")
        if self.clip is not None and not (self.clip > 0 and math.isfinite(self.clip)):
            raise ValueOutOfRangeError(f"the clipping norm must be finite and above 0, got {self.clip}")
        for name in self.cases:
            if name not in CASES:
                raise ValueOutOfRangeError(f"unknown case {name!r}; choose from: {', '.join(CASES)}")

    @property
    def judged_at(self) -> int:
        return self.at_step + self.after

    @property
    def total_steps(self) -> int:
        return self.steps or self.judged_at

    @property
    def clips(self) -> tuple[float | None, ...]:
        return (None,) if self.clip is None else (None, self.clip)


@dataclass
class RunTrace:
    """One training run: its loss per step (step 1 first), where weights first went non-finite, its end."""

    losses: list[float] = field(default_factory=list)
    first_nonfinite_step: int | None = None
    state_finite: bool | None = None
    error: str = ""  # the step raised: "TypeName at step k: first line"

    def failure(self) -> str:
        """Why this run cannot serve as a baseline ("" when it can)."""
        if self.error:
            return self.error
        if self.first_nonfinite_step is not None:
            return f"weights became NaN at step {self.first_nonfinite_step}"
        bad = next((i + 1 for i, v in enumerate(self.losses) if not math.isfinite(v)), None)
        return f"loss became non-finite at step {bad}" if bad is not None else ""


@dataclass
class CaseResult:
    case: str
    clip: float | None
    outcome: str  # one of the module doc's outcomes ("the step raised: ..." carries the message)
    window_steps: list[int]
    loss: list[float]
    baseline_loss: list[float]
    state_finite: bool | None
    first_nonfinite_step: int | None
    recovered_at: int | None  # the first step within tolerance again, when it recovered
    final_loss: float  # at the judgement step (NaN when the run stopped before it)
    baseline_final_loss: float

    @property
    def short(self) -> str:
        """The table's word; a star where the weights stayed finite but the optimizer's state did not (Lion's
        momentum holding a NaN its sign step hides: that coordinate never moves again)."""
        word = SHORT[self.outcome.split(":")[0]]
        hidden = self.state_finite is False and self.outcome in (STAYED, RECOVERED, NOT_RECOVERED)
        return word + "*" if hidden else word

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "clip": self.clip,
            "outcome": self.outcome,
            "short": self.short,
            "window_steps": self.window_steps,
            "loss": finite_list(self.loss),
            "baseline_loss": finite_list(self.baseline_loss),
            "optimizer_state_finite": self.state_finite,
            "first_nonfinite_step": self.first_nonfinite_step,
            "recovered_at": self.recovered_at,
            "final_loss": finite_or_none(self.final_loss),
            "baseline_final_loss": finite_or_none(self.baseline_final_loss),
        }


@dataclass
class OptimizerRobustness:
    label: str
    name: str
    hp: dict[str, Any]
    baselines: dict[float | None, RunTrace]  # by clipping norm (None: off)
    cases: list[CaseResult]

    def result(self, case: str, clip: float | None) -> CaseResult:
        return next(r for r in self.cases if r.case == case and r.clip == clip)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "optimizer": self.name,
            "hyperparameters": self.hp,
            "baselines": [
                {"clip": clip, "loss": finite_list(trace.losses), "failure": trace.failure() or None}
                for clip, trace in self.baselines.items()
            ],
            "cases": [r.to_dict() for r in self.cases],
        }


@dataclass
class RobustnessReport:
    config: RobustnessConfig
    device: str
    optimizers: list[OptimizerRobustness]

    def to_dict(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "format": "optviz-robustness",
            "version": 1,
            "model": cfg.setup.model,
            "dataset": cfg.setup.dataset,
            "batch_size": cfg.setup.batch_size,
            "seed": cfg.setup.seed,
            "device": self.device,
            "at_step": cfg.at_step,
            "after": cfg.after,
            "judged_at": cfg.judged_at,
            "steps": cfg.total_steps,
            "tolerance_percent": cfg.tolerance,
            "clip_norms": list(cfg.clips),
            "cases": {name: CASES[name].description for name in cfg.cases},
            "outcomes": list(SHORT),
            "torch": torch.__version__,
            "optimizers": [o.to_dict() for o in self.optimizers],
        }

    def to_json(self) -> str:
        return json_text(self.to_dict())


def robustness_test(
    config: RobustnessConfig,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RobustnessReport:
    """Run the test (see the module doc). Every name and value is checked before the first step."""
    data = TrialData(config.setup)
    resolved = [data.check(entry) for entry in config.optimizers]
    labels = unique_labels([entry.label or short_label(entry) for entry in config.optimizers])
    runs_each = len(config.clips) * (1 + len(config.cases))
    total = len(config.optimizers) * runs_each * config.total_steps
    done = 0

    def run(entry: OptimizerRun, label: str, case: str | None, clip: float | None) -> RunTrace:
        nonlocal done
        what = f"{label}: {case or 'baseline'}{'' if clip is None else f', clip {clip:g}'}"
        trace = _train(data, entry, config, None if case is None else CASES[case], clip, cancelled)
        done += config.total_steps  # a run that stopped early still counts whole: the bar moves evenly
        if progress is not None:
            progress(done, total, what)
        return trace

    out = []
    for entry, label, (spec, hp) in zip(config.optimizers, labels, resolved, strict=True):
        baselines = {clip: run(entry, label, None, clip) for clip in config.clips}
        results = []
        for clip in config.clips:
            for case in config.cases:
                trace = run(entry, label, case, clip)
                results.append(judge(case, clip, trace, baselines[clip], config))
        out.append(OptimizerRobustness(label, spec.name, dict(hp), baselines, results))
    return RobustnessReport(config, data.device, out)


def _train(
    data: TrialData,
    entry: OptimizerRun,
    config: RobustnessConfig,
    case: Case | None,
    clip: float | None,
    cancelled: Callable[[], bool] | None,
) -> RunTrace:
    """One run; the event (if any) at `config.at_step`. Never raises, except `Cancelled`."""
    trace = RunTrace()
    step = 0
    seed = config.setup.seed
    mask_rng = torch.Generator().manual_seed(seed)
    try:
        with seeded_rng(seed, data.device):
            trial = data.trial(entry)
            for step in range(1, config.total_steps + 1):
                if cancelled is not None and cancelled():
                    raise Cancelled("robustness test cancelled")
                hook: GradHook | None = None
                if case is not None and step == config.at_step:
                    hook = lambda grads: case.apply(grads, mask_rng)  # noqa: E731
                trace.losses.append(trial.step(hook, clip or 0.0))
                if not trial.weights_finite():
                    trace.first_nonfinite_step = step
                    break
            trace.state_finite = state_finite(trial.opt)
    except Cancelled:
        raise
    except Exception as exc:  # the library's own failure is the outcome, whatever it is
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        trace.error = f"{type(exc).__name__} at step {step}: {first_line}"
    return trace


def judge(case: str, clip: float | None, trace: RunTrace, baseline: RunTrace, config: RobustnessConfig) -> CaseResult:
    """The outcome of one case against its baseline (see the module doc)."""
    at, end = config.at_step, config.judged_at
    first = max(1, at - WINDOW_BEFORE)
    window = list(range(first, end + 1))

    def curve(losses: list[float]) -> list[float]:
        return [losses[s - 1] if s <= len(losses) else math.nan for s in window]

    loss, base = curve(trace.losses), curve(baseline.losses)
    recovered_at = None
    if trace.error:
        outcome = f"{RAISED}: {trace.error}"
    elif trace.first_nonfinite_step is not None:
        outcome = NAN_WEIGHTS
    elif baseline.failure():
        outcome = f"{BASELINE_FAILED}: {baseline.failure()}"
    else:
        limit = 1.0 + config.tolerance / 100.0
        worse = [
            s
            for s, v, b in zip(window, loss, base, strict=True)
            if s > at and not (math.isfinite(v) and v <= b * limit)
        ]
        if not worse:
            outcome = STAYED
        elif worse[-1] == end:
            outcome = NOT_RECOVERED
        else:
            outcome, recovered_at = RECOVERED, worse[-1] + 1
    return CaseResult(
        case=case,
        clip=clip,
        outcome=outcome,
        window_steps=window,
        loss=loss,
        baseline_loss=base,
        state_finite=trace.state_finite,
        first_nonfinite_step=trace.first_nonfinite_step,
        recovered_at=recovered_at,
        final_loss=loss[-1],
        baseline_final_loss=base[-1],
    )


def format_table(report: RobustnessReport) -> str:
    """Optimizer rows (one per clipping setting) x case columns, one short word per cell, and a key."""
    cases = list(report.config.cases)
    rows = []
    for opt in report.optimizers:
        for clip in report.config.clips:
            name = opt.label if clip is None else f"{opt.label} + clip {clip:g}"
            rows.append((name, [opt.result(case, clip).short for case in cases]))
    width = max([len("optimizer")] + [len(name) for name, _ in rows])
    cols = [max(len(case), *(len(cells[i]) for _, cells in rows)) for i, case in enumerate(cases)]
    header = f"{'optimizer':<{width}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(cases, cols, strict=True))
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for name, cells in rows:
        lines.append((f"{name:<{width}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(cells, cols, strict=True))).rstrip())
    cfg = report.config
    lines.append(
        f"event at step {cfg.at_step}, judged at step {cfg.judged_at} against the untouched run "
        f"(tolerance {cfg.tolerance:g} %)"
    )
    lines.append(
        "ok = stayed finite, worse = not recovered, NaN = weights became NaN, raised = the step raised, "
        "no-base = the untouched run failed; * = the optimizer's state holds NaN or inf"
    )
    return "\n".join(lines) + "\n"
