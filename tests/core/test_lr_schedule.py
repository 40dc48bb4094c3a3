"""Learning-rate schedules on surfaces: the fast path equals the library stepped with torch's own scheduler
(float64, one start and a batch, state included), the learning rates it uses are the scheduler's, and the
schedule is parsed, stored and refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.mathlib import NUMPY
from optviz.core.optimizers import get_optimizer, surface_optimizers
from optviz.core.race import RunConfig, run_race
from optviz.core.race.lr_schedule import (
    SCHEDULE_KINDS,
    LrSchedule,
    lr_values,
    parse_schedule,
    scheduled,
    with_scheduler,
)
from optviz.core.surfaces import get_surface

STEPS = 90
SURFACE = get_surface("rosenbrock")
STARTS = np.array([SURFACE.start, [0.5, 1.5], [-1.0, 0.5]])
SCHEDULES = {
    "warmup-cosine": LrSchedule("warmup-cosine", {"warmup": 0.2}),
    "step": LrSchedule("step", {"every": 0.2, "gamma": 0.5}),
    "exponential": LrSchedule("exponential", {"gamma": 0.97}),
    "one-cycle": LrSchedule("one-cycle"),
    "restarts": LrSchedule("restarts", {"period": 0.3, "mult": 2}),
}
#: Every optimizer that races with a fast rule and has a learning rate, each under one of the schedules in turn
#: (all five for a few whose rules use the lr in different places: inside the update, in the state's first
#: value (Rprop), in a running sum (ASGD's eta, Schedule-Free's weights), in a line search (L-BFGS), around a
#: LAPACK call (Shampoo)).
SCHEDULABLE = [s.name for s in surface_optimizers() if s.fast is not None and "lr" in s.schema.names]
ALL_KINDS_FOR = ("adam", "momentum", "rprop", "asgd", "sfadamw", "lbfgs", "shampoo")
CASES = [(name, list(SCHEDULES)[i % len(SCHEDULES)]) for i, name in enumerate(SCHEDULABLE)] + [
    (name, kind) for name in ALL_KINDS_FOR for kind in SCHEDULES if name in SCHEDULABLE
]


def both_paths(name: str, schedule: LrSchedule, starts: np.ndarray):
    config = RunConfig(name, get_optimizer(name).defaults_for("rosenbrock"), schedule=schedule)
    fast = run_race(SURFACE, [config], starts, STEPS, engine="fast")
    library = run_race(SURFACE, [config], starts, STEPS, engine="library")
    return fast, library


@pytest.mark.parametrize(("name", "kind"), sorted(set(CASES)))
def test_fast_path_equals_the_library_with_its_scheduler(name, kind):
    for starts in (STARTS[:1], STARTS):  # the scalar loop and the numpy loop
        fast, library = both_paths(name, SCHEDULES[kind], starts)
        a, b = fast.positions, library.positions
        assert fast.engines == ["fast"] and library.engines == ["library"]
        assert np.array_equal(np.isfinite(a), np.isfinite(b))
        both = np.isfinite(a) & np.isfinite(b)
        assert np.abs(a - b)[both].max(initial=0.0) <= 1e-9, (name, kind, len(starts))
        assert fast.status.tolist() == library.status.tolist()


def test_every_kind_is_tested():
    assert set(SCHEDULES) == set(SCHEDULE_KINDS) - {"constant"}


def test_a_schedule_changes_the_path():
    """The truth test would pass for a schedule that does nothing: each must act."""
    plain = run_race(SURFACE, [RunConfig("adam", get_optimizer("adam").defaults_for("rosenbrock"))], STARTS, STEPS)
    for kind, schedule in SCHEDULES.items():
        ours, _ = both_paths("adam", schedule, STARTS)
        assert not np.array_equal(plain.positions, ours.positions, equal_nan=True), kind


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_lr_values_are_the_ones_sgd_steps_with(kind):
    """Plain SGD moves by lr_t * gradient: the learning rate the fast path used at each step, read off its path,
    is the scheduler's (and the race result reports the same)."""
    surface = get_surface("quadratic") if "quadratic" in _names() else SURFACE
    hp = get_optimizer("sgd").defaults_for(surface.name)
    result = run_race(surface, [RunConfig("sgd", hp, schedule=SCHEDULES[kind])], STARTS[:1], 40, engine="fast")
    path = result.positions[0, 0]
    grads = surface.grad_np(path[:-1])
    used = (path[:-1, 0] - path[1:, 0]) / grads[:, 0]
    want = _torch_lrs(SCHEDULES[kind], hp["lr"], 40)
    np.testing.assert_allclose(used, want, rtol=1e-6)  # read off a difference of positions: round-off
    np.testing.assert_array_equal(result.learning_rates[0, 1:], want)
    assert result.learning_rates[0, 0] == want[0]


def _names():
    from optviz.core.surfaces import SURFACES

    return set(SURFACES)


def _torch_lrs(schedule: LrSchedule, lr: float, steps: int) -> np.ndarray:
    """The learning rate torch's SGD holds before each of `steps` steps under the real scheduler."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    advance = with_scheduler(schedule, opt, steps)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones_like(p)
        opt.step()
        advance()
    return np.array(out)


def test_per_run_learning_rates_each_follow_their_own_schedule():
    """A sweep's rows (one lr each) get the scheduler's values for their own lr."""
    lrs = np.array([[1e-3], [1e-2], [1e-3], [0.1]])
    got = lr_values(SCHEDULES["one-cycle"], lrs, 30)
    assert got.shape == (30, 4, 1)
    for row, lr in enumerate(lrs[:, 0]):
        np.testing.assert_array_equal(got[:, row, 0], _torch_lrs(SCHEDULES["one-cycle"], lr, 30))


def test_sweep_rows_with_a_schedule_equal_single_runs():
    spec = get_optimizer("adam")
    hp = {**spec.defaults_for("rosenbrock"), "lr": np.array([0.01, 0.05, 0.2])}
    schedule = SCHEDULES["warmup-cosine"]
    batch = run_race(SURFACE, [RunConfig("adam", hp, schedule=schedule)], np.repeat(STARTS[:1], 3, 0), STEPS)
    for row, lr in enumerate(hp["lr"]):
        one = {**hp, "lr": float(lr)}
        alone = run_race(SURFACE, [RunConfig("adam", one, schedule=schedule)], STARTS[:1], STEPS, engine="library")
        np.testing.assert_allclose(batch.positions[0, row], alone.positions[0, 0], atol=1e-9)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "rprop", "asgd", "adagrad", "lion"])
def test_state_after_a_scheduled_run_is_the_librarys(name):
    """Fast rule state (numpy, one start) against the library optimizer's state under the same scheduler."""
    spec = get_optimizer(name)
    hp = spec.defaults_for("rosenbrock")
    schedule = SCHEDULES["one-cycle"]
    rule = scheduled(spec.fast, hp, lr_values(schedule, hp["lr"], STEPS))
    p = STARTS[:1].copy()
    state = rule.init(p, NUMPY)
    param = torch.tensor(STARTS[0], dtype=torch.float64, requires_grad=True)
    opt = spec.build([param], hp)
    advance = with_scheduler(schedule, opt, STEPS)
    for t in range(1, STEPS + 1):
        g = np.stack(SURFACE.grad(p[:, 0], p[:, 1], NUMPY), -1)
        p = rule.step(p, g, state, t, NUMPY)
        param.grad = torch.tensor(SURFACE.grad_np(param.detach().numpy()), dtype=torch.float64)
        opt.step()
        advance()
    np.testing.assert_allclose(p[0], param.detach().numpy(), atol=1e-9)
    library = opt.state[param]
    shared = [k for k in state if k in library and isinstance(library[k], torch.Tensor)]
    assert shared, name
    for key in shared:
        np.testing.assert_allclose(
            np.asarray(state[key], dtype=np.float64).reshape(-1),
            library[key].detach().numpy().astype(np.float64).reshape(-1),
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"{name} {key}",
        )


def test_parse_and_text_round_trip():
    assert parse_schedule("off") is None and parse_schedule("constant") is None
    schedule = parse_schedule("step:every=0.3,gamma=0.5")
    assert schedule == LrSchedule("step", {"every": 0.3, "gamma": 0.5})
    assert parse_schedule(schedule.to_text()) == schedule
    assert LrSchedule("one-cycle").to_text() == "one-cycle"
    assert hash(LrSchedule("step")) == hash(LrSchedule("step", {"every": 0.25}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warm", "schedule 'warm' is not one of"),
        ("step:gamma=3", "gamma=3 is out of range"),
        ("step:every=x", "every='x' is not a number"),
        ("exponential:foo=1", "has no parameter 'foo'"),
        ("restarts:mult=2.5", "is not an integer"),
        ("step:gamma", "is not key=value"),
    ],
)
def test_bad_schedules_are_one_line(text, message):
    with pytest.raises(OptvizError, match=message.replace("(", r"\(")) as info:
        parse_schedule(text)
    assert "\n" not in str(info.value)


def test_scene_files_keep_the_schedule_and_refuse_a_bad_one(tmp_path):
    from optviz.core.errors import SceneError
    from optviz.core.scene import OptimizerEntry, default_scene, load_scene, save_scene

    scene = default_scene()
    scene.optimizers = [OptimizerEntry("adam", schedule=SCHEDULES["restarts"]), OptimizerEntry("sgd")]
    path = tmp_path / "s.toml"
    save_scene(scene, path)
    back = load_scene(path)
    assert [e.schedule for e in back.optimizers] == [SCHEDULES["restarts"], None]
    assert back.run_config(0).schedule == SCHEDULES["restarts"]
    path.write_text(path.read_text().replace('kind = "restarts"', 'kind = "sometimes"'))
    with pytest.raises(SceneError, match=r"optimizers\[0\]\.schedule.*'sometimes' is not one of"):
        load_scene(path)


@pytest.mark.parametrize("name", ["adam", "shampoo", "rprop"])
def test_the_step_inspector_replays_the_schedule(name):
    """The inspector's record of step n under a schedule holds the library's state after n steps with the real
    scheduler, the step's learning rate, and the race's points."""
    from optviz.core.race.inspect import StepInspector

    spec = get_optimizer(name)
    hp = spec.defaults_for("rosenbrock")
    schedule = SCHEDULES["warmup-cosine"]
    config = RunConfig(name, hp, schedule=schedule)
    inspector = StepInspector(SURFACE, config, STARTS[0], limit=STEPS)
    race = run_race(SURFACE, [config], STARTS[:1], STEPS, engine="library")
    param = torch.tensor(STARTS[0], dtype=torch.float64, requires_grad=True)
    opt = spec.build([param], hp)
    advance = with_scheduler(schedule, opt, STEPS)
    lrs = lr_values(schedule, hp["lr"], STEPS)
    for n in range(1, 31):
        param.grad = torch.tensor(SURFACE.grad_np(param.detach().numpy()), dtype=torch.float64)
        opt.step()
        advance()
        if n in (1, 9, 30):
            record = inspector.record(n)
            assert record.lr == lrs[n - 1]
            np.testing.assert_array_equal(record.after, race.positions[0, 0, n])
            for key, value in opt.state[param].items():
                np.testing.assert_array_equal(np.asarray(record.state[key]), value.detach().numpy(), err_msg=key)
