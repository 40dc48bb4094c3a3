"""What one step of an optimizer shows, in two plain sentences, for the step inspector (`OptimizerSpec.step_note`).

Kept apart from the table so its rows stay readable; joined into the registry at import, by registry name
(presets included). `tests/core/test_inspect.py` checks every key names a registry row.
"""

from __future__ import annotations

STEP_NOTES: dict[str, str] = {
    "sgd": "Each step moves against the gradient by lr times its length, so every coordinate moves in proportion "
    "to its own slope and the step shrinks as the ground flattens. In a narrow valley the steep coordinate "
    "dominates, so the step points across the valley more than along it.",
    "momentum": "The step is lr times the momentum buffer, which adds up past gradients (each 0.9 times the one "
    "after it), so on a steady slope it grows toward ten plain SGD steps. That stored speed carries the point "
    "past the valley floor: it overshoots, and turns only after the gradient has pointed back for several steps.",
    "nesterov": "Like momentum, but the step adds the current gradient once more on top of the buffer (g + μ·b), "
    "as if it had looked ahead to where the momentum is taking it. It builds the same speed on a steady slope "
    "but reacts sooner when the gradient turns, so it overshoots the valley floor less.",
    "adagrad": "Each coordinate's gradient is divided by the root of the sum of all its past squared gradients, "
    "so the first step is about lr in every coordinate that has a slope. The sum only grows, so steps shrink for "
    "good: coordinates with large early gradients slow down most, and long runs can stall.",
    "rmsprop": "The gradient is divided by a running RMS of recent gradients (square_avg), so steep and flat "
    "coordinates take steps of similar size. The average starts at zero, so the first steps are up to "
    "1/√(1−α) times lr (10 times at α = 0.99) until it catches up.",
    "adam": "The step is lr·m̂/(√v̂ + ε): the averaged gradient divided by its own RMS, so while a coordinate's "
    "gradient keeps its sign it moves by about lr, however steep or flat it is. It moves less only where the "
    "gradient's sign keeps changing (m̂ averages out) or where v̂ still remembers larger gradients.",
    "amsgrad": "Adam's step, but divided by the largest v̂ seen so far rather than the current one, so a "
    "coordinate that once had a large gradient keeps taking small steps. Its denominator never decreases, "
    "which makes the steps steadier and often slower than Adam's.",
    "adamw": "An Adam step (about lr per coordinate while the gradient keeps its sign) plus a separate pull of "
    "lr·λ·θ toward the origin, shown as decay. The pull does not pass through m̂ and v̂, so unlike Adam's L2 "
    "decay it is not rescaled by the gradient's RMS.",
    "lion": "The step is lr times the sign of a blend of the momentum and the gradient, so every coordinate "
    "moves by exactly lr in every step (plus weight decay). It never slows down by itself near a minimum but "
    "hops across it in steps of lr, which is why its lr is set lower than Adam's.",
    "lamb": "An Adam-like direction u is rescaled as a whole by the trust ratio ‖θ‖/‖u‖ (trust_ratio in the "
    "state), so the step's length is about lr times the size of the weights rather than lr per coordinate. "
    "Near the origin, where ‖θ‖ is small, the steps get small too.",
    "adafactor": "The gradient is divided by the root of a running average of its square (a plain vector here; "
    "factored for matrices) and clipped to an RMS of at most d: about ±1 per coordinate, like Adam without "
    "momentum. That is scaled by lr·max(ε₂, RMS(θ)), a step relative to the size of the weights.",
}
