"""Every trajectory we draw is the library's: the engine equals the library optimizer stepped alone.

For each optimizer that races on surfaces, on rosenbrock, beale and saddle, for one start and for a batch
of 64: the engine's positions equal those of the library optimizer stepping a single 2-element float64
parameter from the same start, within 1e-9, for 300 steps (or until the run stops).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.core.optimizers import surface_optimizers
from optviz.core.race import RunConfig, run_race
from optviz.core.surfaces import get_surface

STEPS = 300
SURFACES = ("rosenbrock", "beale", "saddle")
OPTIMIZERS = [s.name for s in surface_optimizers()]


def library_alone(spec, hp, surface, start, steps, seed=0):
    """The reference: the library optimizer on ONE parameter, written independently of the engine."""
    torch.manual_seed(seed)
    p = torch.tensor(start, dtype=torch.float64).reshape((1, 2) if spec.needs_2d else (2,)).requires_grad_(True)
    opt = spec.build([p], hp)

    def closure():
        opt.zero_grad()
        loss = surface.value_torch(p.reshape(2))
        loss.backward(create_graph=spec.needs_hvp)
        return loss

    path = [np.asarray(start, dtype=np.float64)]
    for _ in range(steps):
        if spec.before_step:
            spec.before_step(opt)
        if spec.needs_closure:
            opt.step(closure)
        else:
            closure()
            opt.step()
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


def assert_same_paths(spec, hp, surface, starts):
    result = run_race(surface, [RunConfig(spec.name, hp)], starts, STEPS)
    for m, start in enumerate(starts):
        ref = library_alone(spec, hp, surface, start, STEPS)
        n = min(result.valid_length(0, m), len(ref))
        ours = result.positions[0, m, :n]
        finite = np.isfinite(ref[:n]).all(-1)
        np.testing.assert_allclose(
            ours[finite], ref[:n][finite], rtol=0, atol=1e-9, err_msg=f"{spec.name} start {m} on {surface.name}"
        )


@pytest.mark.parametrize("surface_name", SURFACES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_single_start_matches_library(name, surface_name):
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(name)
    surface = get_surface(surface_name)
    assert_same_paths(spec, spec.defaults_for(surface_name), surface, starts_for(surface, 1))


@pytest.mark.parametrize("surface_name", SURFACES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_batch_of_64_matches_library(name, surface_name):
    from optviz.core.optimizers import get_optimizer

    spec = get_optimizer(name)
    surface = get_surface(surface_name)
    assert_same_paths(spec, spec.defaults_for(surface_name), surface, starts_for(surface, 64))
