"""What the registry records about one optimizer (`OptimizerSpec`) and the shape of its fast elementwise rule
(`FastRule`, made by a `FastRuleFactory` from the hyperparameters)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, Literal, Protocol

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.params import Schema, Value

#: How the race engine puts M start points into library optimizers:
#: - "stack": one (M, 2) parameter. Exact only for elementwise updates.
#: - "per_tensor": M parameters of shape (2,) in one optimizer. Exact when the update only couples
#:   values within a tensor (layer-wise norms: LAMB, NovoGrad, Adafactor, Shampoo).
#: - "separate": one optimizer per start, run one after another (L-BFGS, Prodigy and others whose state is
#:   shared across all parameters; also those that draw random numbers, so each start sees the draws it
#:   would see alone).
Batching = Literal["stack", "per_tensor", "separate"]


@dataclass(frozen=True)
class FastRule:
    """An elementwise update rule written against a math namespace `xp` (floats or numpy arrays), its
    hyperparameters already bound (a `FastRuleFactory` made it; see `fast_rules/`).

    It must reproduce the library optimizer to float64 round-off (tests/core/test_fast_rules.py checks every
    rule against the library for 300 steps). `p` is the optimizer's own parameter (the point where the
    gradient is taken); for a scalar backend it is one coordinate, for numpy an (M, 2) array.

    - `init(p, xp) -> state`: a dict of state values shaped like `p` (and plain Python scalars), keyed by the
      library's own state names.
    - `step(p, g, state, t, xp) -> p_new`: one update at step t = 1, 2, ...; may reassign entries of
      `state` (never mutates arrays it did not create, so scalars and arrays behave alike).
    - `display(p, state, xp) -> point`: the point drawn and scored, when it is not `p` (Schedule-Free
      draws its averaged point x, as `.eval()` would give).
    """

    init: Callable[[Any, SimpleNamespace], dict[str, Any]]
    step: Callable[[Any, Any, dict[str, Any], int, SimpleNamespace], Any]
    display: Callable[[Any, dict[str, Any], SimpleNamespace], Any] | None = None


class SurfaceProbe(Protocol):
    """What a `PairRule` may ask of the surface beyond the gradient it is given: what the library's closure and
    autograd give the library optimizer. Built by the race engine for the current step (`race/probe.py`)."""

    xp: SimpleNamespace
    #: The race seed: the library draws its random numbers (Hutchinson probes) after `torch.manual_seed(seed)`,
    #: once per start, so every start of a run sees the same draws.
    seed: int

    def grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        """The gradient a closure would set at (x, y) this step, noise included."""

    def loss(self, x: Any, y: Any) -> Any:
        """The loss a closure would return at (x, y) this step (noise's linear term included)."""

    def hvp(self, x: Any, y: Any, vx: Any, vy: Any) -> tuple[Any, Any]:
        """The Hessian of the loss at (x, y) times (vx, vy), as torch's double backward gives it."""


@dataclass(frozen=True)
class PairRule:
    """An update that couples a point's two coordinates: layer-wise norms (LAMB, NovoGrad, Adafactor), a 2 x 2
    preconditioner (Shampoo, SOAP), Newton-Schulz on a 1 x 2 matrix (Muon), curvature (AdaHessian, Sophia-H),
    a line search (L-BFGS), a global estimate (Prodigy).

    The library sees one start as one 2-element tensor; the rule sees it as its two coordinates `x`, `y`, each
    a Python float (one start) or an (M,) numpy array (M starts, one row each), so a reduction over the tensor
    is an expression in x and y (‖g‖ = sqrt(gx² + gy²)) and one piece of code serves both backends.

    - `init(x, y, probe) -> state`, keyed by the library's state names. A value is a number (the library's
      0-dim tensor or Python scalar; an (M,) array on numpy) or a tuple of the library tensor's elements in
      row-major order (a vector: (x part, y part); a 2 x 2 matrix: (a00, a01, a10, a11)), so tests can compare
      state one to one.
    - `step(x, y, gx, gy, state, t, probe) -> (x_new, y_new)` at t = 1, 2, ...; may reassign entries of
      `state`, never mutates arrays it did not create. `probe.xp` is the math namespace.
    """

    init: Callable[[Any, Any, SurfaceProbe], dict[str, Any]]
    step: Callable[[Any, Any, Any, Any, dict[str, Any], int, SurfaceProbe], tuple[Any, Any]]


#: Makes an optimizer's `FastRule` from its resolved hyperparameters (like optax's `adam(lr, b1, ...)`): reads
#: them once, by name, and closes over the constants worked out from them.
FastRuleFactory = Callable[[Mapping[str, Value]], FastRule | PairRule]

#: Works out what a step inspector shows beside the raw state (Adam: m̂, v̂, the denominator, the step per
#: coordinate) from `(hp, state, gradient, point, t)`: the resolved hyperparameters, the library's state after
#: step t (numpy arrays by torch's names, `core/race/inspect.py`), the gradient the optimizer was given and the
#: parameter it stepped from. Returns name -> value (arrays shaped like the parameter).
DerivedRule = Callable[[Mapping[str, Value], Mapping[str, Any], Any, Any, int], dict[str, Any]]


@dataclass(frozen=True)
class OptimizerSpec:
    """One row of the optimizer registry. Sliders, CLI, scenes, docs and tests all read these fields."""

    name: str
    title: str
    family: str
    source: str  # the library a user would import it from, e.g. "torch.optim", "pytorch_optimizer"
    description: str  # one line
    update_rule: str  # the update written out, plain text with unicode maths
    schema: Schema
    #: Builds the library optimizer for a list of tensors (or parameter groups) from our flat hyperparameters
    #: (betas split in parts): `build(params, hp)`, or `build(params, hp, extra)` where `extra` holds keyword
    #: arguments that override the fixed ones (the training panel's `foreach=True` / `fused=True`).
    build: Callable[..., Any] = field(repr=False)
    elementwise: bool = True
    batching: Batching = "stack"
    needs_closure: bool = False
    needs_hvp: bool = False  # backward(create_graph=True) before step (AdaHessian, Sophia)
    needs_2d: bool = False  # parameters must be matrices (Muon): a surface point becomes a 1 x 2 matrix
    min_numel: int = 0  # below this the optimizer behaves differently (8-bit state) or not at all
    #: Why it cannot race on a 2-parameter surface (None when it can). Still used by the training panel.
    surface_unavailable: str | None = None
    #: Learning rates that make a sensible race, per surface name; other surfaces use the schema default.
    surface_lr: Mapping[str, float] = field(default_factory=dict)
    #: The fast rule, as a factory: `fast(hp)` is the rule for these resolved hyperparameters, a `FastRule`
    #: (elementwise) or a `PairRule` (coupled coordinates). None: the race engine steps the library optimizer
    #: itself. Presets share their base optimizer's.
    fast: FastRuleFactory | None = field(default=None, repr=False)
    #: Whether the fast rule computes with per-run hyperparameter arrays (`fast_rules/ops.num`). When False, a
    #: batch with per-run values runs one batch per distinct value combination: exact, but not batched.
    per_run: bool = True
    #: For presets (momentum, nesterov, amsgrad): the registry entry this one is a preset of.
    preset_of: str | None = None
    #: Implementations torch offers for it (for the training panel): subset of for-loop, foreach, fused.
    implementations: tuple[str, ...] = ("for-loop",)
    #: Called after each library step with (optimizer, params) to read the points to draw, one tensor per
    #: parameter (Schedule-Free: what `.eval()` puts in the parameters). None: the parameters themselves.
    eval_point: Callable[[Any, list[Any]], list[Any]] | None = field(default=None, repr=False)
    #: Called before stepping (Schedule-Free: `.train()`).
    before_step: Callable[[Any], None] | None = field(default=None, repr=False)
    #: Bytes of optimizer state per parameter in fp32, the textbook figure (Adam: 8).
    state_bytes_per_param: float = 0.0
    #: Where the state size depends on hyperparameters (SGD keeps no buffer without momentum, AMSGrad keeps a
    #: third moment): hp -> bytes per parameter. None: `state_bytes_per_param` always holds.
    state_bytes_rule: Callable[[Mapping[str, Value]], float] | None = field(default=None, repr=False)
    #: Why the training panel cannot train the zoo's models with it (None when it can).
    training_unavailable: str | None = None
    #: Constraints between hyperparameters that no single range can say: (check, message) pairs, `check(hp)`
    #: true when the resolved values are fine; `message` is formatted with them (Rprop: step_min <= step_max).
    constraints: tuple[tuple[Callable[[Mapping[str, Value]], bool], str], ...] = ()
    #: Two plain sentences on what one step of it shows in the step inspector ("" where none is written yet);
    #: written in `step_notes.py`, joined in here at import.
    step_note: str = ""
    #: Quantities the step inspector works out from the state where they are cheap (None: the raw state only).
    derived: DerivedRule | None = field(default=None, repr=False)
    #: Values the library keeps in its parameter group rather than in `optimizer.state[p]` that belong to the
    #: run all the same (Prodigy's distance estimate d): recorded and compared with the state.
    group_state: tuple[str, ...] = ()

    def state_bytes(self, hp: Mapping[str, Value] | None = None) -> float:
        """Theoretical optimizer-state bytes per parameter for these hyperparameters (defaults when None)."""
        if self.state_bytes_rule is None:
            return self.state_bytes_per_param
        return float(self.state_bytes_rule(self.resolve(hp or {})))

    @property
    def on_surfaces(self) -> bool:
        return self.surface_unavailable is None

    def default_lr(self, surface: str | None) -> float | None:
        if "lr" not in self.schema.names:
            return None
        if surface is not None and surface in self.surface_lr:
            return self.surface_lr[surface]
        return float(self.schema.get("lr").default)

    def defaults_for(self, surface: str | None) -> dict[str, Value]:
        """Schema defaults with the per-surface learning rate applied."""
        values = self.schema.defaults()
        lr = self.default_lr(surface)
        if lr is not None:
            values["lr"] = lr
        return values

    def resolve(self, overrides: Mapping[str, object], surface: str | None = None) -> dict[str, Value]:
        """Every hyperparameter value used: per-surface defaults updated with validated overrides."""
        values = self.defaults_for(surface)
        for name, value in overrides.items():
            values[name] = self.schema.check(name, value)
        for check, message in self.constraints:
            if not check(values):
                raise ValueOutOfRangeError(f"{self.name}: {message.format(**values)}")
        return values

    def step(self, opt: Any, closure: Callable[[], Any]) -> None:
        """One step of a library optimizer built by `build`, the way this optimizer must be stepped.

        `closure` sets the gradients (and returns the loss): L-BFGS calls it itself, possibly several
        times; the others get it called once first. Schedule-Free is put in train mode before stepping.
        """
        if self.before_step is not None:
            self.before_step(opt)
        if self.needs_closure:
            opt.step(closure)
        else:
            closure()
            opt.step()

    def check_with_library(self, hp: Mapping[str, Value]) -> None:
        """Let the library's own constructor judge combinations our schema cannot (Nesterov needs momentum).

        The fast path never constructs the library optimizer, so the engine calls this first: the same
        settings are rejected with the same one-line message on both paths.
        """
        import torch

        shape = (1, 2) if self.needs_2d else (2,)
        self.build([torch.zeros(shape, dtype=torch.float64, requires_grad=True)], hp)

    def preset(self, name: str, title: str, description: str, **defaults: Value) -> OptimizerSpec:
        """A named preset of this optimizer (e.g. `momentum` = `sgd` with momentum=0.9)."""
        params = tuple(replace(p, default=defaults[p.name]) if p.name in defaults else p for p in self.schema)
        return replace(
            self,
            name=name,
            title=title,
            description=description,
            schema=Schema(name, params),
            preset_of=self.name,
        )
