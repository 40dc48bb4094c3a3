"""Per-step optimizer state (`optviz.core.race.inspect`): the library's own state after step n, the race's own
positions, records that survive a jump back through a checkpoint, derived quantities that add up to the update,
and the registry's step notes.

Every optimizer that races on a surface is checked for a few steps only: one start, so this stays fast.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.mathlib import NUMPY, torch_math
from optviz.core.optimizers import REGISTRY, get_optimizer, surface_optimizers
from optviz.core.optimizers.step_notes import STEP_NOTES
from optviz.core.race.inspect import StepInspector, race_noise, record_steps, scene_inspector
from optviz.core.race.result import RunConfig
from optviz.core.scene import OptimizerEntry, Scene
from optviz.core.surfaces import get_surface

NAMES = [spec.name for spec in surface_optimizers()]
START = np.array([-1.2, 1.6])
STEPS = 6


def config(name: str, surface: str = "rosenbrock", **overrides) -> RunConfig:
    return RunConfig(name, get_optimizer(name).resolve(overrides, surface))


def library_state(name: str, steps: int) -> dict:
    """The library optimizer's state (plus its `group_state` values) after `steps` steps from START, stepped here
    independently of the recorder: one float64 tensor, the analytic gradient, `torch.manual_seed(0)` first."""
    spec = get_optimizer(name)
    surface = get_surface("rosenbrock")
    torch.manual_seed(0)
    p = torch.tensor(START, dtype=torch.float64).reshape((1, 2) if spec.needs_2d else (2,)).requires_grad_(True)
    opt = spec.build([p], config(name).hyperparams)

    def closure():
        with torch.set_grad_enabled(spec.needs_hvp):
            flat = p.reshape(2)
            gx, gy = surface.grad(flat[0], flat[1], torch_math())
            p.grad = torch.stack([gx, gy]).reshape(p.shape)
            return surface.value_torch(flat).detach()

    for _ in range(steps):
        spec.step(opt, closure)
    group = {k: opt.param_groups[0][k] for k in spec.group_state}
    return {**group, **opt.state[p]}


def assert_same(got, want, where: str) -> None:
    """Recorded value == library value (a tensor, or an earlier record's array), bit for bit (NaN equal to NaN),
    dtype included; lists element by element."""
    if isinstance(want, torch.Tensor):
        want = want.detach().numpy()
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype, f"{where}: {got!r} vs {want!r}"
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, list | tuple):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert got == want or (got != got and want != want), f"{where}: {got!r} vs {want!r}"


@pytest.mark.parametrize("name", NAMES)
def test_recorded_state_is_the_library_state_after_step_n(name):
    records = record_steps(get_surface("rosenbrock"), config(name), START, STEPS)
    assert [r.step for r in records] == list(range(1, STEPS + 1))
    for n in (2, STEPS):  # an early step too: a record must hold a copy, not the live state
        want = library_state(name, n)
        assert set(records[n - 1].state) == set(want), name
        for key, value in want.items():
            assert_same(records[n - 1].state[key], value, f"{name} step {n} {key}")


@pytest.mark.parametrize("name", NAMES)
def test_recorded_points_are_the_race_trajectory(name):
    """Two starts on a noisy surface: start 2's record sees start 2's noise and lies on the race's path (the fast
    path where the optimizer has one), and each step's update is after − before."""
    scene = Scene(
        surface="rosenbrock",
        surface_params={"noise": 0.5},
        optimizers=[OptimizerEntry(name)],
        starts=[(0.5, -0.5), tuple(START)],
        steps=STEPS,
        seed=3,
    )
    path = scene.run().positions[0, 1]
    inspector = scene_inspector(scene, 0, 1)
    noise = race_noise(get_surface("rosenbrock", {"noise": 0.5}), 2, STEPS, 3, 1)
    for n in range(1, STEPS + 1):
        record = inspector.record(n)
        np.testing.assert_allclose(record.before, path[n - 1], rtol=1e-9, atol=1e-12, err_msg=f"{name} {n}")
        np.testing.assert_allclose(record.after, path[n], rtol=1e-9, atol=1e-12, err_msg=f"{name} {n}")
        np.testing.assert_array_equal(record.update, record.after - record.before)
        x, y = record.gradient_at
        clean = np.array(get_surface("rosenbrock").grad(x, y, NUMPY), dtype=float)
        np.testing.assert_allclose(record.gradient, clean + noise[n - 1], rtol=1e-12, err_msg=name)


def test_race_noise_is_the_race_draw():
    surface = get_surface("rastrigin", {"noise": 2})
    from optviz.core.race.engine import gradient_noise

    whole = gradient_noise(surface, 5, 40, 7)
    for m in (0, 3, 4):
        np.testing.assert_array_equal(race_noise(surface, 5, 40, 7, m), whole[m])
    assert race_noise(get_surface("rastrigin"), 5, 40, 7, 2) is None


@pytest.mark.parametrize("name", NAMES)
def test_jumping_back_through_checkpoints_gives_the_same_records(name):
    straight = record_steps(get_surface("rosenbrock"), config(name), START, 12)
    inspector = StepInspector(get_surface("rosenbrock"), config(name), START, limit=12, checkpoint_every=3, window=2)
    for n in (12, 2, 7, 12, 5, 6):
        got, want = inspector.record(n), straight[n - 1]
        np.testing.assert_array_equal(got.after, want.after, err_msg=f"{name} step {n}")
        np.testing.assert_array_equal(got.gradient, want.gradient, err_msg=f"{name} step {n}")
        for key, value in want.state.items():
            assert_same(got.state[key], value, f"{name} step {n} {key}")


def test_memory_stays_a_window_and_checkpoints():
    inspector = StepInspector(get_surface("rosenbrock"), config("adam"), START, checkpoint_every=100, window=50)
    inspector.record(400)
    assert inspector.held_steps == list(range(351, 401))
    early = inspector.nbytes
    inspector.record(600)
    assert inspector.held_steps == list(range(551, 601))
    # Only two more checkpoints (Adam's state: three small arrays) on top of the same 50 records.
    assert 0 < inspector.nbytes - early < 2 * 1000


def test_heavy_records_are_kept_within_the_byte_budget():
    """L-BFGS keeps 100 pairs of history: its records are big, so fewer of them are held."""
    inspector = StepInspector(get_surface("rosenbrock"), config("lbfgs"), START, window=100, window_bytes=300_000)
    inspector.record(130)
    held = inspector.held_steps
    assert held[-1] == 130 and held == list(range(held[0], 131)) and 1 < len(held) < 100
    assert sum(inspector.record(n).nbytes for n in held) <= 300_000


def test_steps_that_do_not_exist_are_refused_in_one_line():
    diverging = StepInspector(get_surface("rosenbrock"), config("sgd", lr=1.0), START, limit=50)
    with pytest.raises(OptvizError, match="divergence at step 1"):
        diverging.record(2)
    assert diverging.record(1).after[0] < -50  # the step that broke it is still shown
    assert diverging.diverged_at == 1 and diverging.reason == "far outside the domain"
    with pytest.raises(OptvizError, match="count from 1"):
        diverging.record(0)
    with pytest.raises(OptvizError, match="beyond the race's 50 steps"):
        diverging.record(51)


DERIVED_CASES = [
    ("adam", {}),
    ("adam", {"weight_decay": 0.1, "lr": 0.01}),
    ("amsgrad", {"beta2": 0.5, "lr": 0.05}),  # v falls below its running max within a few steps
    ("adamw", {"weight_decay": 0.5, "lr": 0.01}),
    ("sgd", {}),
    ("sgd", {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
    ("nesterov", {}),
    ("rmsprop", {}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", {"lr_decay": 0.1, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("name", "overrides"), DERIVED_CASES)
def test_derived_step_is_the_update(name, overrides):
    """The derived step (plus AdamW's decay) is the move the library made, to round-off."""
    spec, cfg = get_optimizer(name), config(name, **overrides)
    for record in record_steps(get_surface("rosenbrock"), cfg, START, STEPS):
        parts = record.derived(spec, cfg.hyperparams)
        moved = parts["step"] + parts.get("decay", 0.0)
        np.testing.assert_allclose(moved, record.update, rtol=1e-9, atol=1e-14, err_msg=f"{name} step {record.step}")


def test_the_ten_common_optimizers_have_two_sentence_notes():
    assert set(STEP_NOTES) <= set(REGISTRY)
    common = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "lion", "lamb", "adafactor"}
    for name in common:
        note = REGISTRY[name].step_note
        assert len(re.findall(r"[.!?](\s|$)", note)) == 2, f"{name}: {note!r}"
    assert "lr" in REGISTRY["adam"].step_note and "overshoot" in REGISTRY["momentum"].step_note


def test_a_perturbed_or_clipped_race_is_refused_rather_than_shown_as_another_run():
    from optviz.core.race.clip import Clip
    from optviz.core.race.inspect import scene_inspector
    from optviz.core.race.perturb import parse_perturbation
    from optviz.core.scene import default_scene

    scene = default_scene()
    scene.optimizers[0].clip = Clip("norm", 1.0)
    with pytest.raises(OptvizError, match="clipping"):
        scene_inspector(scene, 0, 0)
    scene_inspector(scene, 1, 0)  # the others are inspected as before
    scene.perturbation = parse_perturbation("spike:factor=1e3")
    with pytest.raises(OptvizError, match="pathology"):
        scene_inspector(scene, 1, 0)
