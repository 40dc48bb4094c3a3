"""The optimizer registry: one entry per optimizer, read by sliders, CLI, scenes, docs and tests.

Each row says everything about its optimizer: how to build and step the library optimizer, its fast rule's
factory where an exact elementwise one exists (`fast_rules/`; presets share their base's), and its state bytes
per parameter. Defaults are the library's own, so what a person sees is what `import` would give them; only the
learning rate is tuned per surface (`default_lrs.toml`, written by `tools/tune_default_lrs.py`, joined into each
row's `surface_lr` at import) so a race is worth watching. Where the registry and a library disagree, the library
wins: `tests/core/test_registry.py` checks every default against the library's signature.
"""

from __future__ import annotations

from optviz.core.optimizers import derived
from optviz.core.optimizers.fast_rules import (
    curvature,
    layerwise,
    matrix,
    pytorch_optimizer,
    quasi_newton,
    schedulefree,
    torch_optim,
)
from optviz.core.optimizers.library import builder
from optviz.core.optimizers.spec import DerivedRule, FastRuleFactory, OptimizerSpec
from optviz.core.params import Param, Schema

# --- Shared hyperparameter definitions (same meaning everywhere, so one definition each) -------------------


def lr(default: float) -> Param:
    return Param("lr", default, low=1e-8, high=10.0, scale="log", help="learning rate (step size)")


def beta1(default: float = 0.9, low: float = 0.0) -> Param:
    return Param("beta1", default, low=low, high=0.9999, help="decay of the first-moment (momentum) average")


def beta2(default: float = 0.999) -> Param:
    return Param("beta2", default, low=0.0, high=0.99999, help="decay of the second-moment average")


def eps(default: float = 1e-8, low: float = 1e-16) -> Param:
    return Param("eps", default, low=low, high=1.0, scale="log", help="added to the denominator for stability")


def weight_decay(default: float = 0.0) -> Param:
    return Param("weight_decay", default, low=0.0, high=1.0, help="pull of the weights toward zero")


def momentum(default: float = 0.0) -> Param:
    return Param("momentum", default, low=0.0, high=0.9999, help="fraction of the last update carried forward")


def flag(name: str, default: bool, text: str) -> Param:
    return Param(name, default, kind="bool", help=text)


def schedule_free_params() -> tuple[Param, ...]:
    """The averaging knobs both Schedule-Free optimizers share."""
    return (
        Param("warmup_steps", 0, kind="int", low=0, high=10000, help="linear learning-rate warm-up"),
        Param("r", 0.0, low=0.0, high=10.0, help="polynomial weighting power of the average"),
        Param("weight_lr_power", 2.0, low=0.0, high=10.0, help="how strongly the lr weights the average"),
    )


def schema(name: str, *params: Param) -> Schema:
    return Schema(name, params)


ADAM_RULE = "m ← β₁·m + (1−β₁)·g;  v ← β₂·v + (1−β₂)·g²;  m̂ = m/(1−β₁ᵗ);  v̂ = v/(1−β₂ᵗ);  θ ← θ − lr·m̂/(√v̂ + ε)"

_FOR_LOOP = {"foreach": False}  # the single-tensor path: the one our fast rules mirror operation by operation


def _adam_family(
    name: str,
    title: str,
    cls: str,
    description: str,
    rule: str,
    wd: float,
    lr_: float,
    fast: FastRuleFactory,
    parts: DerivedRule,
) -> OptimizerSpec:
    return OptimizerSpec(
        name=name,
        title=title,
        family="adaptive",
        source="torch.optim",
        description=description,
        update_rule=rule,
        schema=schema(
            name, lr(lr_), beta1(), beta2(), eps(), weight_decay(wd), flag("amsgrad", False, "keep the max of v̂")
        ),
        build=builder(cls, _FOR_LOOP),
        fast=fast,
        derived=parts,
        implementations=("for-loop", "foreach", "fused"),
        state_bytes_per_param=8.0,
        state_bytes_rule=lambda hp: 12.0 if hp["amsgrad"] else 8.0,  # AMSGrad keeps max v̂ too
    )


def _schedule_free_x(opt, params):
    """Schedule-Free's averaged point x, exactly what `.eval()` writes into each parameter (y.lerp(z, 1 − 1/β₁)).

    Computed on copies, because calling `.eval()` and `.train()` every step would round y back and forth and
    move the trajectory by round-off.
    """
    points = []
    for group in opt.param_groups:
        beta1 = group["betas"][0] if "betas" in group else group["momentum"]
        for p in group["params"]:
            z = opt.state[p].get("z")
            points.append(p.detach().clone() if z is None else p.detach().lerp(z, 1 - 1 / beta1))
    return points


SGD = OptimizerSpec(
    name="sgd",
    title="SGD",
    family="sgd",
    source="torch.optim",
    description="Stochastic gradient descent, with optional (Nesterov) momentum.",
    update_rule="b ← μ·b + (1−τ)·g;  g' = g + μ·b if Nesterov else b;  θ ← θ − lr·g'",
    schema=schema(
        "sgd",
        lr(1e-3),
        momentum(0.0),
        Param("dampening", 0.0, low=0.0, high=1.0, help="τ: fraction of the gradient left out of the momentum"),
        weight_decay(),
        flag("nesterov", False, "evaluate the momentum step ahead (needs momentum > 0, dampening 0)"),
    ),
    build=builder("torch.optim.SGD", _FOR_LOOP),
    fast=torch_optim.sgd,
    derived=derived.sgd,
    implementations=("for-loop", "foreach", "fused"),
    state_bytes_per_param=4.0,
    state_bytes_rule=lambda hp: 4.0 if hp["momentum"] > 0 else 0.0,  # no momentum: no buffer at all
)

ADAM = _adam_family(
    "adam",
    "Adam",
    "torch.optim.Adam",
    "Adaptive moments: momentum divided by a running RMS of the gradient (Kingma & Ba, 2015).",
    ADAM_RULE + ";  weight decay adds λθ to g",
    0.0,
    1e-3,
    torch_optim.adam,
    derived.adam,
)

ADAMW = _adam_family(
    "adamw",
    "AdamW",
    "torch.optim.AdamW",
    "Adam with decoupled weight decay (Loshchilov & Hutter, 2019).",
    "θ ← θ·(1 − lr·λ);  then the Adam step: " + ADAM_RULE,
    0.01,
    1e-3,
    torch_optim.adamw,
    derived.adamw,
)

OPTIMIZERS: tuple[OptimizerSpec, ...] = (
    SGD,
    SGD.preset("momentum", "SGD + momentum", "SGD with heavy-ball momentum 0.9 (Polyak, 1964).", momentum=0.9),
    SGD.preset(
        "nesterov",
        "Nesterov",
        "SGD with Nesterov momentum 0.9: the gradient step looks ahead along the momentum.",
        momentum=0.9,
        nesterov=True,
    ),
    OptimizerSpec(
        name="adagrad",
        title="AdaGrad",
        family="adaptive",
        source="torch.optim",
        description="Per-coordinate steps shrinking with the sum of all past squared gradients (Duchi et al., 2011).",
        update_rule="s ← s + g²;  θ ← θ − lr/(1 + (t−1)·decay) · g/(√s + ε)",
        schema=schema(
            "adagrad",
            lr(1e-2),
            Param("lr_decay", 0.0, low=0.0, high=1.0, help="learning-rate decay per step"),
            weight_decay(),
            Param("initial_accumulator_value", 0.0, low=0.0, high=10.0, help="starting value of s"),
            eps(1e-10),
        ),
        build=builder("torch.optim.Adagrad", _FOR_LOOP),
        fast=torch_optim.adagrad,
        derived=derived.adagrad,
        implementations=("for-loop", "foreach", "fused"),
        state_bytes_per_param=4.0,
    ),
    OptimizerSpec(
        name="rmsprop",
        title="RMSProp",
        family="adaptive",
        source="torch.optim",
        description="Gradient divided by a running RMS of recent gradients (Hinton, 2012).",
        update_rule="v ← α·v + (1−α)·g²;  θ ← θ − lr·g/(√v + ε)  (centered: v − ḡ²; momentum: buffered)",
        schema=schema(
            "rmsprop",
            lr(1e-2),
            Param("alpha", 0.99, low=0.0, high=0.9999, help="decay of the squared-gradient average"),
            eps(),
            weight_decay(),
            momentum(0.0),
            flag("centered", False, "divide by the variance instead of the raw second moment"),
        ),
        build=builder("torch.optim.RMSprop", _FOR_LOOP),
        fast=torch_optim.rmsprop,
        derived=derived.rmsprop,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=4.0,
        # v, plus a momentum buffer and the centred mean ḡ when those are on
        state_bytes_rule=lambda hp: 4.0 + 4.0 * (hp["momentum"] > 0) + 4.0 * bool(hp["centered"]),
    ),
    OptimizerSpec(
        name="adadelta",
        title="Adadelta",
        family="adaptive",
        source="torch.optim",
        description="RMSProp with units fixed by a running RMS of past updates (Zeiler, 2012).",
        update_rule="v ← ρv + (1−ρ)g²;  Δ = √(u+ε)/√(v+ε)·g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − lr·Δ",
        schema=schema(
            "adadelta",
            lr(1.0),
            Param("rho", 0.9, low=0.0, high=0.9999, help="decay of both running averages"),
            eps(1e-6),
            weight_decay(),
        ),
        build=builder("torch.optim.Adadelta", _FOR_LOOP),
        fast=torch_optim.adadelta,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=8.0,
    ),
    ADAM,
    ADAM.preset(
        "amsgrad",
        "AMSGrad",
        "Adam that never lets its denominator shrink: v̂ is the running max (Reddi et al., 2018).",
        amsgrad=True,
    ),
    ADAMW,
    OptimizerSpec(
        name="adamax",
        title="Adamax",
        family="adaptive",
        source="torch.optim",
        description="Adam with the infinity norm in place of the RMS (Kingma & Ba, 2015).",
        update_rule="m ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ − lr/(1−β₁ᵗ) · m/u",
        schema=schema("adamax", lr(2e-3), beta1(), beta2(), eps(), weight_decay()),
        build=builder("torch.optim.Adamax", _FOR_LOOP),
        fast=torch_optim.adamax,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="nadam",
        title="NAdam",
        family="adaptive",
        source="torch.optim",
        description="Adam with Nesterov momentum (Dozat, 2016).",
        update_rule="Adam whose step mixes the look-ahead momentum μₜ₊₁·m̂ with (1−μₜ)·g, μₜ = β₁(1 − ½·0.96^(t·ψ))",
        schema=schema(
            "nadam",
            lr(2e-3),
            beta1(),
            beta2(),
            eps(),
            weight_decay(),
            Param("momentum_decay", 4e-3, low=0.0, high=1.0, help="ψ: how fast the momentum schedule warms up"),
            flag("decoupled_weight_decay", False, "decay the weights directly, as AdamW does"),
        ),
        build=builder("torch.optim.NAdam", _FOR_LOOP),
        fast=torch_optim.nadam,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="radam",
        title="RAdam",
        family="adaptive",
        source="torch.optim",
        description="Adam that starts as momentum SGD until the variance estimate can be trusted (Liu et al., 2020).",
        update_rule="ρₜ = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ);  ρₜ > 5: Adam step × rectification rₜ;  else θ ← θ − lr·m̂",
        schema=schema(
            "radam",
            lr(1e-3),
            beta1(),
            beta2(),
            eps(),
            weight_decay(),
            flag("decoupled_weight_decay", False, "decay the weights directly, as AdamW does"),
        ),
        build=builder("torch.optim.RAdam", _FOR_LOOP),
        fast=torch_optim.radam,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="adafactor",
        title="Adafactor",
        family="memory-efficient",
        source="torch.optim",
        description="Factored second moments (row and column sums) with relative step sizes (Shazeer & Stern, 2018).",
        update_rule="v ← β₂ₜv + (1−β₂ₜ)g², β₂ₜ = 1 − t^decay (factored for matrices);  u = g/√v, "
        "clipped to RMS ≤ d;  θ ← θ − max(ε₂, RMS(θ))·lr·u",
        schema=schema(
            "adafactor",
            lr(1e-2),
            Param("beta2_decay", -0.8, low=-1.0, high=0.0, help="exponent of the β₂ schedule 1 − t^decay"),
            Param("eps2", 1e-3, low=1e-8, high=1.0, scale="log", help="smallest relative step scale"),
            Param("d", 1.0, low=1.0, high=10.0, scale="log", help="clipping threshold on the update RMS (>= 1)"),
            weight_decay(),
        ),
        build=builder(
            "torch.optim.Adafactor",
            _FOR_LOOP,
            translate=lambda kw: {**{k: v for k, v in kw.items() if k != "eps2"}, "eps": (None, kw["eps2"])},
        ),
        fast=layerwise.adafactor,
        elementwise=False,
        batching="per_tensor",
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=0.0,  # O(rows + columns) for matrices; a vector keeps one full accumulator
    ),
    OptimizerSpec(
        name="lamb",
        title="LAMB",
        family="layer-wise",
        source="pytorch_optimizer",
        # pytorch_optimizer's foreach path (its CPU default) is the same step rounded differently
        # (tests/core/test_foreach_paths.py); the race draws the for-loop path, which the fast rule mirrors.
        description="Adam with a layer-wise trust ratio ‖θ‖/‖update‖ for large batches (You et al., 2020); drawn: "
        "pytorch_optimizer's for-loop path (its foreach path is the same step, rounded differently).",
        update_rule="m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← (1 − lr·λ)θ;  u = m/(√v + ε);  "
        "θ ← θ − lr/(1−β₁ᵗ) · min(‖θ‖, 10)/(‖u‖ + ε) · u",
        schema=schema("lamb", lr(1e-3), beta1(), beta2(), eps(1e-6), weight_decay()),
        build=builder("pytorch_optimizer.Lamb", _FOR_LOOP),
        fast=layerwise.lamb,
        elementwise=False,
        batching="per_tensor",
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="novograd",
        title="NovoGrad",
        family="layer-wise",
        source="pytorch_optimizer",
        description="Layer-wise second moment (one scalar per tensor), normalised gradients (Ginsburg et al., 2019).",
        update_rule="v ← β₂v + (1−β₂)‖g‖²;  m ← β₁m + g/√(v+ε) + λθ;  θ ← θ − lr·m",
        schema=schema(
            "novograd",
            lr(1e-3),
            beta1(0.95),
            beta2(0.98),
            eps(),
            weight_decay(),
            flag("grad_averaging", False, "scale the normalised gradient by 1 − β₁"),
        ),
        build=builder("pytorch_optimizer.NovoGrad", _FOR_LOOP),
        fast=layerwise.novograd,
        elementwise=False,
        batching="per_tensor",
        state_bytes_per_param=4.0,
    ),
    OptimizerSpec(
        name="lion",
        title="Lion",
        family="sign",
        source="pytorch_optimizer",
        description="Sign of an interpolated momentum: every coordinate moves by exactly lr (Chen et al., 2023).",
        update_rule="c = β₁m + (1−β₁)g;  θ ← θ − lr·(sign(c) + λθ);  m ← β₂m + (1−β₂)g",
        schema=schema("lion", lr(1e-4), beta1(0.9), beta2(0.99), weight_decay()),
        build=builder("pytorch_optimizer.Lion", _FOR_LOOP),
        fast=pytorch_optimizer.lion,
        state_bytes_per_param=4.0,
    ),
    OptimizerSpec(
        name="adam8bit",
        title="8-bit AdamW",
        family="memory-efficient",
        source="torchao",
        description="AdamW with block-wise 8-bit moments (Dettmers et al., 2022): 2 bytes of state per weight.",
        update_rule="AdamW, with m and v stored as 8-bit codes plus one scale per block of 256",
        schema=schema("adam8bit", lr(1e-3), beta1(), beta2(), eps(), weight_decay(0.01)),
        build=builder("torchao.optim.AdamW8bit"),
        elementwise=False,
        min_numel=4096,
        surface_unavailable="8-bit state exists only for tensors of 4,096+ elements; on a 2-parameter surface "
        "it would be plain fp32 AdamW (the training panel uses it)",
        state_bytes_per_param=2.0,
    ),
    OptimizerSpec(
        name="shampoo",
        title="Shampoo",
        family="second-order",
        source="pytorch_optimizer",
        description="Full-matrix preconditioning per tensor dimension, L^(-1/4) G R^(-1/4) (Gupta et al., 2018).",
        update_rule="L ← L + GGᵀ;  R ← R + GᵀG;  θ ← θ − lr · L^(−¼) G R^(−¼)  (a vector: (Σggᵀ)^(−½) g)",
        schema=schema(
            "shampoo",
            lr(1e-3),
            momentum(0.0),
            weight_decay(),
            Param("matrix_eps", 1e-6, low=1e-12, high=1.0, scale="log", help="ridge added before the inverse root"),
        ),
        build=builder("pytorch_optimizer.Shampoo"),
        fast=matrix.shampoo,
        elementwise=False,
        batching="per_tensor",
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="adahessian",
        title="AdaHessian",
        family="second-order",
        source="pytorch_optimizer",
        description="Adam with the Hessian diagonal (Hutchinson estimate) in place of g² (Yao et al., 2021).",
        update_rule="D = z ⊙ (Hz), z Rademacher;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)D²;  θ ← θ − lr·m̂/(v̂^(k/2) + ε)",
        schema=schema(
            "adahessian",
            lr(0.1),
            beta1(),
            beta2(),
            eps(1e-16, low=1e-20),
            weight_decay(),
            Param("hessian_power", 1.0, low=0.0, high=1.0, open_low=True, help="k: how much of the curvature to trust"),
        ),
        build=builder("pytorch_optimizer.AdaHessian"),
        fast=curvature.adahessian,
        elementwise=False,
        batching="separate",
        needs_hvp=True,
        state_bytes_per_param=12.0,
    ),
    OptimizerSpec(
        name="sophiah",
        title="Sophia-H",
        family="second-order",
        source="pytorch_optimizer",
        description="Clipped Newton-like steps with a Hutchinson Hessian-diagonal estimate (Liu et al., 2023).",
        update_rule="h ← β₂h + (1−β₂)·z⊙Hz every k steps;  m ← β₁m + (1−β₁)g;  θ ← θ − lr·clip(m/max(h, ε), ±p)",
        schema=schema(
            "sophiah",
            lr(0.06),
            beta1(0.96),
            beta2(0.99),
            eps(1e-12, low=1e-20),
            weight_decay(),
            Param("p", 0.01, low=1e-4, high=10.0, scale="log", help="clipping threshold ρ"),
            Param("update_period", 10, kind="int", low=1, high=100, help="steps between Hessian estimates"),
        ),
        build=builder("pytorch_optimizer.SophiaH"),
        fast=curvature.sophiah,
        elementwise=False,
        batching="separate",
        needs_hvp=True,
        state_bytes_per_param=12.0,  # m, h and the latest Hessian-diagonal estimate
    ),
    OptimizerSpec(
        name="schedulefree_adamw",
        title="Schedule-Free AdamW",
        family="schedule-free",
        source="schedulefree",
        description="AdamW without a schedule: gradients at an interpolation y, weights averaged into x "
        "(Defazio et al., 2024). The drawn point is x, what `.eval()` gives.",
        update_rule="y = (1−β₁)z + β₁x;  z ← z − lr·g(y)/(√v̂+ε);  x ← (1−cₜ)x + cₜz, cₜ = lr²ᵗ-weighted average",
        schema=schema(
            "schedulefree_adamw",
            lr(2.5e-3),
            beta1(low=0.01),  # x = y.lerp(z, 1 − 1/β₁) is undefined at 0
            beta2(),
            eps(),
            weight_decay(),
            *schedule_free_params(),
        ),
        build=builder("schedulefree.AdamWScheduleFree", _FOR_LOOP),
        fast=schedulefree.schedulefree_adamw,
        state_bytes_per_param=8.0,  # z and v; x lives in the parameters themselves
        before_step=lambda opt: opt.train(),
        eval_point=_schedule_free_x,
    ),
    OptimizerSpec(
        name="rprop",
        title="Rprop",
        family="sign",
        source="torch.optim",
        description="Per-coordinate step sizes that grow while the gradient's sign holds and shrink when it flips.",
        update_rule="s ← s·η₊ if g·g_prev > 0, s·η₋ if < 0 (clamped);  θ ← θ − s·sign(g)",
        schema=schema(
            "rprop",
            lr(1e-2),
            Param("eta_minus", 0.5, low=0.01, high=0.99, help="η₋: shrink factor on a sign flip"),
            Param("eta_plus", 1.2, low=1.01, high=5.0, help="η₊: growth factor while the sign holds"),
            Param("step_min", 1e-6, low=1e-12, high=1.0, scale="log", help="smallest step size"),
            Param("step_max", 50.0, low=1e-3, high=1000.0, scale="log", help="largest step size"),
        ),
        build=builder("torch.optim.Rprop", _FOR_LOOP),
        constraints=(
            (lambda hp: hp["step_min"] <= hp["step_max"], "step_min={step_min:g} is more than step_max={step_max:g}"),
        ),
        fast=torch_optim.rprop,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=8.0,  # the previous gradient and the step sizes
    ),
    OptimizerSpec(
        name="asgd",
        title="ASGD",
        family="sgd",
        source="torch.optim",
        description="Averaged SGD with a decaying step (Polyak & Juditsky, 1992); the drawn point is the iterate, "
        "so the averaging start t0 is left at torch's default.",
        update_rule="θ ← θ(1 − λη) − η·g;  η = lr/(1 + λ·lr·t)^α;  ā ← ā + μ(θ − ā)",
        schema=schema(
            "asgd",
            lr(1e-2),
            Param("lambd", 1e-4, low=0.0, high=1.0, help="λ: decay term"),
            Param("alpha", 0.75, low=0.0, high=2.0, help="power of the step-size decay"),
            weight_decay(),
        ),
        build=builder("torch.optim.ASGD", _FOR_LOOP),
        fast=torch_optim.asgd,
        implementations=("for-loop", "foreach"),
        state_bytes_per_param=4.0,  # the average ā; η and μ are scalars
    ),
    OptimizerSpec(
        name="lbfgs",
        title="L-BFGS",
        family="quasi-newton",
        source="torch.optim",
        description="Quasi-Newton steps from a short history of gradient differences (Liu & Nocedal, 1989).",
        update_rule="d = −H̃g (two-loop recursion over the last m pairs (s, y));  θ ← θ + lr·d (or a Wolfe line search)",
        schema=schema(
            "lbfgs",
            lr(1.0),
            Param("history_size", 100, kind="int", low=1, high=1000, help="m: pairs kept"),
            Param(
                "line_search_fn",
                "none",
                kind="choice",
                choices=("none", "strong_wolfe"),
                help="strong_wolfe searches along d",
            ),
        ),
        build=builder(
            "torch.optim.LBFGS",
            {"max_iter": 1},  # one iteration per call: one step of the race
            translate=lambda kw: {**kw, "line_search_fn": None if kw["line_search_fn"] == "none" else "strong_wolfe"},
        ),
        fast=quasi_newton.lbfgs,
        elementwise=False,
        batching="separate",
        needs_closure=True,
        state_bytes_per_param=1600.0,  # 2·m vectors of history at m = 100
    ),
    OptimizerSpec(
        name="sparse_adam",
        title="SparseAdam",
        family="adaptive",
        source="torch.optim",
        description="Adam that updates only the rows an embedding lookup touched (lazy moments).",
        update_rule=ADAM_RULE + ", applied only where the sparse gradient has entries",
        schema=schema("sparse_adam", lr(1e-3), beta1(), beta2(), eps()),
        build=builder("torch.optim.SparseAdam"),
        surface_unavailable="needs sparse gradients (embedding layers); a surface's gradient is dense",
        training_unavailable="needs sparse gradients; the model zoo's layers give dense ones",
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="muon",
        title="Muon",
        family="orthogonal",
        source="torch.optim",
        description="Momentum orthogonalised by Newton-Schulz iterations, for matrices (Jordan et al., 2024). "
        "A surface point is a 1×2 matrix, so the step has fixed length lr.",
        update_rule="B ← μB + G;  O = NewtonSchulz5(G + μB if Nesterov else B);  θ ← θ(1 − lr·λ) − lr·O",
        schema=schema(
            "muon",
            lr(1e-3),
            weight_decay(0.1),
            momentum(0.95),
            flag("nesterov", True, "use the Nesterov look-ahead momentum"),
            Param("ns_steps", 5, kind="int", low=1, high=20, help="Newton-Schulz iterations"),
        ),
        build=builder("torch.optim.Muon"),
        fast=matrix.muon,
        elementwise=False,
        batching="per_tensor",
        needs_2d=True,
        training_unavailable="takes 2-D parameters only; every model in the zoo has biases and norm vectors",
        state_bytes_per_param=4.0,
    ),
    OptimizerSpec(
        name="soap",
        title="SOAP",
        family="second-order",
        source="pytorch_optimizer",
        description="Adam run in Shampoo's eigenbasis (Vyas et al., 2024). A surface point is one vector, so "
        "precondition_1d is on by default: otherwise SOAP would be plain Adam here.",
        update_rule="Q = eigenvectors of Σggᵀ (every k steps);  Adam step on Qᵀg;  θ ← θ − lr·Q·step",
        schema=schema(
            "soap",
            lr(3e-3),
            beta1(0.95),
            beta2(0.95),
            eps(),
            weight_decay(0.01),
            Param("precondition_frequency", 10, kind="int", low=1, high=1000, help="k: steps between eigenbases"),
            flag("precondition_1d", True, "precondition vectors too"),
        ),
        build=builder("pytorch_optimizer.SOAP"),
        fast=matrix.soap,
        elementwise=False,
        batching="per_tensor",
        state_bytes_per_param=16.0,
    ),
    OptimizerSpec(
        name="ademamix",
        title="AdEMAMix",
        family="adaptive",
        source="pytorch_optimizer",
        description="Adam plus a second, very slow momentum mixed in with weight α (Pagliardini et al., 2024).",
        update_rule="m₁ ← β₁m₁ + (1−β₁)g;  m₂ ← β₃m₂ + (1−β₃)g;  θ ← θ − lr·(m̂₁ + α·m₂)/(√v̂ + ε)",
        schema=schema(
            "ademamix",
            lr(1e-3),
            beta1(),
            beta2(),
            Param("beta3", 0.9999, low=0.0, high=0.99999, help="decay of the slow momentum"),
            Param("alpha", 5.0, low=0.0, high=100.0, help="weight of the slow momentum"),
            eps(),
            weight_decay(),
        ),
        build=builder("pytorch_optimizer.AdEMAMix", _FOR_LOOP),
        fast=pytorch_optimizer.ademamix,
        state_bytes_per_param=12.0,
    ),
    OptimizerSpec(
        name="prodigy",
        title="Prodigy",
        family="parameter-free",
        source="pytorch_optimizer",
        description="Learning-rate-free Adam: estimates the distance to the solution D as it goes (Mishchenko & "
        "Defazio, 2024); lr is a multiplier on the estimate.",
        update_rule="d ← max(d, Σ⟨g, θ₀−θ⟩-based estimate);  Adam step with step size d·lr",
        schema=schema(
            "prodigy",
            lr(1.0),
            beta1(),
            beta2(),
            Param("d0", 1e-6, low=1e-12, high=1.0, scale="log", help="initial estimate of D"),
            Param("d_coef", 1.0, low=0.01, high=100.0, scale="log", help="multiplier on the estimate"),
            weight_decay(),
            flag("safeguard_warmup", False, "avoid over-estimating D during warm-up"),
            flag("bias_correction", False, "Adam-style bias correction"),
        ),
        build=builder("pytorch_optimizer.Prodigy", _FOR_LOOP),
        fast=layerwise.prodigy,
        elementwise=False,
        batching="separate",
        group_state=("d", "d_max", "d_hat", "d_numerator", "d_de_nom"),
        state_bytes_per_param=16.0,
    ),
    OptimizerSpec(
        name="adopt",
        title="ADOPT",
        family="adaptive",
        source="pytorch_optimizer",
        description="Adam normalised by the PREVIOUS second moment: converges for any β₂ (Taniguchi et al., 2024).",
        update_rule="m ← β₁m + (1−β₁)·clip(g/max(√v, ε), t^¼);  θ ← θ − lr·m;  v ← β₂v + (1−β₂)g²",
        schema=schema("adopt", lr(1e-3), beta1(), beta2(0.9999), eps(1e-6), weight_decay()),
        build=builder("pytorch_optimizer.ADOPT", _FOR_LOOP),
        fast=pytorch_optimizer.adopt,
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="schedulefree_sgd",
        title="Schedule-Free SGD",
        family="schedule-free",
        source="schedulefree",
        description="SGD without a schedule: gradients at an interpolation y of the iterate z and the average x "
        "(Defazio et al., 2024). The drawn point is x.",
        update_rule="y = (1−β)z + βx;  z ← z − lr·g(y);  x ← (1−cₜ)x + cₜz",
        schema=schema(
            "schedulefree_sgd",
            lr(1.0),
            Param("momentum", 0.9, low=0.01, high=0.9999, help="β: interpolation between average and iterate"),
            weight_decay(),
            *schedule_free_params(),
        ),
        build=builder("schedulefree.SGDScheduleFree", _FOR_LOOP),
        fast=schedulefree.schedulefree_sgd,
        state_bytes_per_param=4.0,  # z; x lives in the parameters
        before_step=lambda opt: opt.train(),
        eval_point=_schedule_free_x,
    ),
    OptimizerSpec(
        name="signsgd",
        title="signSGD (Signum)",
        family="sign",
        source="pytorch_optimizer",
        description="The sign of the (momentum-averaged) gradient: Signum, or signSGD at momentum 0 "
        "(Bernstein et al., 2018).",
        update_rule="m ← μm + (1−μ)g;  θ ← θ − lr·sign(m)",
        schema=schema("signsgd", lr(1e-3), momentum(0.9), weight_decay()),
        build=builder("pytorch_optimizer.SignSGD", _FOR_LOOP),
        fast=pytorch_optimizer.signsgd,
        state_bytes_per_param=4.0,
    ),
    OptimizerSpec(
        name="adabelief",
        title="AdaBelief",
        family="adaptive",
        source="pytorch_optimizer",
        description="Adam whose step shrinks when the gradient differs from its prediction m (Zhuang et al., 2020).",
        update_rule="m ← β₁m + (1−β₁)g;  s ← β₂s + (1−β₂)(g − m)² + ε;  θ ← θ − lr·m̂/(√ŝ + ε)",
        schema=schema("adabelief", lr(1e-3), beta1(), beta2(), eps(1e-16, low=1e-20), weight_decay()),
        build=builder("pytorch_optimizer.AdaBelief", _FOR_LOOP),
        fast=pytorch_optimizer.adabelief,
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="yogi",
        title="Yogi",
        family="adaptive",
        source="pytorch_optimizer",
        description="Adam whose second moment grows additively, so it cannot forget too fast (Zaheer et al., 2018).",
        update_rule="v ← v − (1−β₂)·sign(v − g²)·g²;  θ ← θ − lr·m̂/(√v̂ + ε)",
        schema=schema(
            "yogi",
            lr(1e-2),
            beta1(),
            beta2(),
            eps(1e-3),
            weight_decay(),
            Param("initial_accumulator", 1e-6, low=1e-10, high=1.0, scale="log", help="starting value of m and v"),
        ),
        build=builder("pytorch_optimizer.Yogi", _FOR_LOOP),
        fast=pytorch_optimizer.yogi,
        state_bytes_per_param=8.0,
    ),
    OptimizerSpec(
        name="adan",
        title="Adan",
        family="adaptive",
        source="pytorch_optimizer",
        description="Adaptive Nesterov momentum from gradient differences (Xie et al., 2024).",
        update_rule="m ← β₁m + (1−β₁)g;  d ← β₂d + (1−β₂)(g − g₋);  n ← β₃n + (1−β₃)(g + β₂(g − g₋))²;  "
        "θ ← θ − lr·(m + β₂d)/(√n + ε)",
        schema=schema(
            "adan",
            lr(1e-3),
            beta1(0.98),
            beta2(0.92),
            Param("beta3", 0.99, low=0.0, high=0.9999, help="decay of the second moment"),
            eps(),
            weight_decay(),
        ),
        build=builder("pytorch_optimizer.Adan", {**_FOR_LOOP, "max_grad_norm": 0.0}),
        fast=pytorch_optimizer.adan,
        state_bytes_per_param=16.0,
    ),
)
