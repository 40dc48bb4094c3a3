"""pytorch_optimizer's `foreach` paths against its for-loop paths, for every class in our registry that has both.

The race (and every fast rule) mirrors the for-loop path (`foreach=False`); on CPU most of these classes default
to the foreach path. What was found with pytorch_optimizer 4.1.0 on torch 2.13, pinned here so that an upstream
change shows up as a failing test rather than as a silent change in what the race draws:

- Every class but `Lamb` takes bit-identical steps on both paths (300 steps, three surfaces).
- `Lamb`'s two paths are the same algorithm rounded differently: one step from the same state agrees to about
  one ulp (the foreach path multiplies by the reciprocal of √v + ε where the for-loop path divides, and folds
  the trust ratio into the update before adding it). Neither follows You et al. (2020) more closely than the
  other; both depart from the paper's Algorithm 2 in the same ways (the step is lr/(1 − β₁ᵗ)·‖θ‖·u/(‖u‖ + ε)
  with u = m/(√v + ε), neither moment bias-corrected inside the trust ratio, decoupled weight decay, ‖θ‖ clamped
  to 10). The 0.4 gap between the paths after 200 steps on Himmelblau from (-1, 1) at lr 0.05 is that path's
  chaos amplifying round-off: the for-loop path itself, started one ulp away, ends as far off.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch

from optviz.core.mathlib import torch_math
from optviz.core.optimizers import REGISTRY, get_optimizer
from optviz.core.optimizers.library import import_class
from optviz.core.surfaces import get_surface

#: Registry name -> what its foreach path does relative to its for-loop path.
FINDINGS = {
    "lamb": "rounded differently",
    "novograd": "bit-identical",
    "lion": "bit-identical",
    "adahessian": "bit-identical",
    "sophiah": "bit-identical",
    "ademamix": "bit-identical",
    "prodigy": "bit-identical",
    "adopt": "bit-identical",
    "signsgd": "bit-identical",
    "adabelief": "bit-identical",
    "yogi": "bit-identical",
    "adan": "bit-identical",
}
IDENTICAL = [name for name, finding in FINDINGS.items() if finding == "bit-identical"]
STARTS = {"himmelblau": (-1.0, 1.0), "rosenbrock": (-1.5, 2.0), "beale": (1.0, 1.0)}
STEPS = 300
ULP = 2.0**-52


def _set_grad(spec, surface, p) -> torch.Tensor:
    with torch.set_grad_enabled(spec.needs_hvp):
        flat = p.reshape(2)
        gx, gy = surface.grad(flat[0], flat[1], torch_math())
        p.grad = torch.stack([gx, gy]).reshape(p.shape)
        return surface.value_torch(flat).detach()


def path(name: str, surface_name: str, foreach: bool, start, steps: int, **overrides) -> np.ndarray:
    """(steps, 2) positions of the library optimizer on one float64 parameter, on the chosen path."""
    spec = get_optimizer(name)
    surface = get_surface(surface_name)
    hp = spec.resolve(overrides, surface_name)
    torch.manual_seed(0)
    p = torch.tensor(start, dtype=torch.float64).reshape((1, 2) if spec.needs_2d else (2,)).requires_grad_(True)
    opt = spec.build([p], hp, {"foreach": foreach})
    points = np.empty((steps, 2))
    for t in range(steps):
        spec.step(opt, lambda: _set_grad(spec, surface, p))
        points[t] = p.detach().numpy().reshape(2)
    return points


def test_the_findings_cover_every_pytorch_optimizer_class_with_a_foreach_path():
    with_foreach = {
        name
        for name, spec in REGISTRY.items()
        if spec.source == "pytorch_optimizer"
        and spec.preset_of is None
        and spec.on_surfaces
        and "foreach" in inspect.signature(import_class(spec.build.class_path).__init__).parameters
    }
    assert with_foreach == set(FINDINGS), "compare the new class's foreach and for-loop paths and pin the finding"


@pytest.mark.parametrize("surface", list(STARTS))
@pytest.mark.parametrize("name", IDENTICAL)
def test_foreach_path_takes_the_for_loop_paths_steps_bit_for_bit(name: str, surface: str):
    loop = path(name, surface, False, STARTS[surface], STEPS)
    foreach = path(name, surface, True, STARTS[surface], STEPS)
    assert np.array_equal(loop, foreach, equal_nan=True), (
        f"pytorch_optimizer's foreach path of {name} now leaves its for-loop path (which the race and its fast "
        "rule mirror): find out whether it is round-off or a different algorithm, and which follows the paper"
    )


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_lamb_paths_are_one_step_rounded_differently(weight_decay: float):
    """Along the for-loop path, one step of each path from the same state: a few ulps apart, not identical."""
    spec = get_optimizer("lamb")
    surface = get_surface("himmelblau")
    hp = spec.resolve({"lr": 0.05, "weight_decay": weight_decay})
    p = torch.tensor(STARTS["himmelblau"], dtype=torch.float64, requires_grad=True)
    loop = spec.build([p], hp, {"foreach": False})
    worst, differ = 0.0, 0
    for _ in range(200):
        _set_grad(spec, surface, p)
        q = p.detach().clone().requires_grad_(True)
        q.grad = p.grad.clone()
        foreach = spec.build([q], hp, {"foreach": True})
        foreach.load_state_dict(copy.deepcopy(loop.state_dict()))  # loading shares tensors: copy them
        foreach.param_groups[0]["foreach"] = True  # loading restored the for-loop group's flag
        foreach.step()
        loop.step()
        gap = float((q - p).detach().abs().max() / p.detach().abs().max())
        worst, differ = max(worst, gap), differ + (gap > 0.0)
    assert worst <= 4 * ULP, f"LAMB's foreach step is no longer the for-loop step up to round-off ({worst:.3g})"
    assert differ > 0, "LAMB's two paths now step bit for bit: move lamb to the bit-identical findings"


def test_lamb_paths_part_on_himmelblau_as_far_as_a_one_ulp_nudge_moves_the_for_loop_path():
    """The issue's observation, explained: the gap between the paths is no larger than round-off alone makes."""
    start = STARTS["himmelblau"]
    nudged = (start[0], float(np.nextafter(start[1], 2.0)))
    loop = path("lamb", "himmelblau", False, start, 200, lr=0.05)
    foreach = path("lamb", "himmelblau", True, start, 200, lr=0.05)
    loop_nudged = path("lamb", "himmelblau", False, nudged, 200, lr=0.05)
    gap = np.abs(loop[-1] - foreach[-1]).max()
    nudge_gap = np.abs(loop[-1] - loop_nudged[-1]).max()
    assert gap > 0.1, f"LAMB's paths now stay together on Himmelblau ({gap:.3g}): the pinned finding changed"
    assert nudge_gap > 0.1 and nudge_gap > 0.5 * gap, (gap, nudge_gap)
    # Early on, before chaos amplifies it, the gap is round-off sized.
    assert np.abs(loop[:40] - foreach[:40]).max() < 1e-12
