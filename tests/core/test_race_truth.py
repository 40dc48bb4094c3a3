"""Every trajectory we draw is the library's: the engine equals the library optimizer stepped alone.

For each optimizer that races on surfaces, on rosenbrock, beale and saddle, for one start and for a batch
of BATCH starts: the engine's positions equal those of the library optimizer stepping a single 2-element float64
parameter from the same start, within 1e-9, for 300 steps (or until the run stops).

One exception, measured rather than assumed: where the library's OWN path moves by more than 1e-9 when its
start moves by one unit in the last place, the path is chaotic (bouncing across Beale's cliffs, say) and is
not determined to 1e-9 by anything; torch's float64 square root on CPU is itself one ulp off in about 1% of
calls, which no other implementation can mirror. Such starts are excused, and they must stay a minority.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.core.mathlib import torch_math
from optviz.core.optimizers import surface_optimizers
from optviz.core.race import RunConfig, run_race
from optviz.core.surfaces import get_surface

STEPS = 300
# Any batch larger than one proves batching (the engine steps every start of a run as one tensor): 8 starts
# prove what 64 do, at an eighth of the reference's cost.
BATCH = 8
SURFACES = ("rosenbrock", "beale", "saddle")
OPTIMIZERS = [s.name for s in surface_optimizers()]


def library_alone(spec, hp, surface, start, steps, seed=0):
    """The reference: the library optimizer on ONE parameter, written independently of the engine.

    The gradient is the surface's analytic gradient (tested against autograd and finite differences in
    test_surfaces.py), evaluated in torch and kept differentiable for Hessian-vector products.
    """
    torch.manual_seed(seed)
    p = torch.tensor(start, dtype=torch.float64).reshape((1, 2) if spec.needs_2d else (2,)).requires_grad_(True)
    opt = spec.build([p], hp)

    def closure():
        with torch.set_grad_enabled(spec.needs_hvp):
            flat = p.reshape(2)
            gx, gy = surface.grad(flat[0], flat[1], torch_math())
            p.grad = torch.stack([gx, gy]).reshape(p.shape)
            return surface.value_torch(flat).detach()

    path = [np.asarray(start, dtype=np.float64)]
    for _ in range(steps):
        spec.step(opt, closure)
        point = spec.eval_point(opt, [p])[0] if spec.eval_point else p
        xy = point.detach().numpy().reshape(2).copy()
        path.append(xy)
        if not np.isfinite(xy).all() or np.abs(xy).max() > 1e6:
            break
    return np.array(path)


def starts_for(surface, count, seed=1):
    """The suggested start first, then random starts over the domain."""
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    random = np.stack([rng.uniform(x0, x1, count - 1), rng.uniform(y0, y1, count - 1)], -1)
    return np.concatenate([np.asarray([surface.start]), random])


def max_difference(ours, ref):
    n = min(len(ours), len(ref))
    finite = np.isfinite(ref[:n]).all(-1) & np.isfinite(ours[:n]).all(-1)
    return float(np.abs(ours[:n][finite] - ref[:n][finite]).max(initial=0.0))


def library_is_chaotic(spec, hp, surface, start, ref):
    """True when the library's own path moves by more than 1e-9 if the start moves by one ulp."""
    for direction in (np.inf, -np.inf):
        nudged = library_alone(spec, hp, surface, np.nextafter(start, direction), STEPS)
        if max_difference(nudged, ref) > 1e-9:
            return True
    return False


def assert_same_paths(spec, hp, surface, starts):
    result = run_race(surface, [RunConfig(spec.name, hp)], starts, STEPS)
    excused = []
    for m, start in enumerate(starts):
        ref = library_alone(spec, hp, surface, start, STEPS)
        ours = result.positions[0, m, : result.valid_length(0, m)]
        diff = max_difference(ours, ref)
        if diff <= 1e-9:
            continue
        assert library_is_chaotic(spec, hp, surface, start, ref), (
            f"{spec.name} start {m} {start} on {surface.name}: differs from the library by {diff:.3g}"
        )
        excused.append(m)
    assert len(excused) <= len(starts) // 4, f"{spec.name} on {surface.name}: {len(excused)} chaotic starts"


@pytest.mark.parametrize("surface_name", SURFACES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_single_start_matches_library(name, surface_name):
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(name)
    surface = get_surface(surface_name)
    assert_same_paths(spec, spec.defaults_for(surface_name), surface, starts_for(surface, 1))


@pytest.mark.parametrize("surface_name", SURFACES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_batch_matches_library(name, surface_name):
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(name)
    surface = get_surface(surface_name)
    assert_same_paths(spec, spec.defaults_for(surface_name), surface, starts_for(surface, BATCH))
