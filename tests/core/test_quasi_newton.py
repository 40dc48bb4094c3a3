"""L-BFGS's pair rule on a noisy surface: its closure's loss carries the noise's linear term, which the strong-Wolfe
trial compares, so the engine's fast path must equal the library path with noise too (test_race_truth.py runs
noiseless surfaces only)."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.optimizers import get_optimizer
from optviz.core.race import RunConfig, run_race
from optviz.core.surfaces import get_surface


@pytest.mark.parametrize("line_search", ["none", "strong_wolfe"])
def test_lbfgs_fast_equals_library_on_a_noisy_surface(line_search: str):
    surface = get_surface("rosenbrock", {"noise": 0.5})
    hp = get_optimizer("lbfgs").resolve({"line_search_fn": line_search, "history_size": 5}, "rosenbrock")
    rng = np.random.default_rng(2)
    starts = np.column_stack([rng.uniform(-1.5, 1.5, 4), rng.uniform(-0.5, 2.5, 4)])
    for batch in (starts[:1], starts):
        fast = run_race(surface, [RunConfig("lbfgs", hp)], batch, 150, seed=3, engine="fast")
        lib = run_race(surface, [RunConfig("lbfgs", hp)], batch, 150, seed=3, engine="library")
        assert fast.engines == ["fast"] and lib.engines == ["library"]
        np.testing.assert_allclose(fast.positions, lib.positions, rtol=1e-9, atol=1e-9)
