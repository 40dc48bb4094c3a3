"""The training job pauses, resumes and stops between steps; a failing run ends alone; the GradScaler guard."""

from __future__ import annotations

import queue
import threading
import warnings

import torch

from optviz.core.learn.amp import scaled_step
from optviz.core.learn.config import OptimizerRun, TrainConfig
from optviz.core.learn.control import RunControl
from optviz.core.learn.records import RunEnded, StepRecord
from optviz.core.learn.training import TrainingSession

warnings.filterwarnings("ignore", category=UserWarning)

RUNS = (OptimizerRun("adam"), OptimizerRun("sgd", {"lr": 0.05, "momentum": 0.9}))


def config(steps=30) -> TrainConfig:
    return TrainConfig(model="mlp", dataset="moons", optimizers=RUNS, steps=steps, batch_size=32, device="cpu")


def start_in_thread(session: TrainingSession) -> tuple[queue.Queue, threading.Thread]:
    events: queue.Queue = queue.Queue()

    def work():
        for event in session.events():
            events.put(event)
        events.put(None)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return events, thread


def drain(events: queue.Queue, until=lambda e: e is None, limit=60.0) -> list:
    out = []
    while True:
        event = events.get(timeout=limit)
        if event is None:
            return out
        out.append(event)
        if until(event):
            return out


class WatchedControl(RunControl):
    """RunControl that tells the test when the job reaches a checkpoint while paused (where it then blocks)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked = threading.Event()

    def checkpoint(self) -> bool:
        if self.paused:
            self.blocked.set()
        return super().checkpoint()


def wait_blocked(control: WatchedControl, events: queue.Queue) -> int:
    """Queue size once the paused job sits in its checkpoint (every event it yielded is queued by then)."""
    assert control.blocked.wait(60), "the paused job never reached a checkpoint"
    return events.qsize()


def test_pause_blocks_between_steps_and_resume_finishes_the_same_run():
    expected = TrainingSession(config()).run_all()
    control = WatchedControl()
    session = TrainingSession(config(), control)
    events, thread = start_in_thread(session)
    seen = drain(events, until=lambda e: isinstance(e, StepRecord) and e.step == 5)
    control.pause()
    assert control.paused
    queued = wait_blocked(control, events)
    assert thread.is_alive() and queued < 2 * 30 - 10  # blocked, far from the end
    assert events.qsize() == queued and thread.is_alive()
    control.resume()
    seen += drain(events)
    thread.join(10)
    assert not thread.is_alive()
    for ours, theirs in zip(session.summaries, expected, strict=True):
        assert ours.status == "done" and ours.train_loss == theirs.train_loss and ours.val_loss == theirs.val_loss
    assert sum(isinstance(e, RunEnded) for e in seen) == 2


def test_stop_ends_every_run_early_even_when_paused():
    control = WatchedControl()
    session = TrainingSession(config(), control)
    events, thread = start_in_thread(session)
    drain(events, until=lambda e: isinstance(e, StepRecord) and e.step == 3)
    control.pause()
    wait_blocked(control, events)
    assert thread.is_alive()
    control.stop()
    rest = drain(events)
    thread.join(10)
    ends = [e for e in rest if isinstance(e, RunEnded)]
    assert [e.status for e in ends] == ["stopped", "stopped"]
    assert all(0 < len(s.train_loss) < 30 for s in session.summaries)
    assert all(s.memory is not None for s in session.summaries)


def test_out_of_memory_stops_that_run_and_the_others_go_on(monkeypatch):
    original = torch.optim.SGD.step
    calls = {"n": 0}

    def exploding_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", exploding_step)
    session = TrainingSession(config(steps=10))
    events = list(session.events())
    adam, sgd = session.summaries
    assert adam.status == "done" and len(adam.train_loss) == 10
    assert sgd.status == "oom" and len(sgd.train_loss) == 3
    assert "out of memory at step 4" in sgd.message and "others go on" in sgd.message
    assert "\n" not in sgd.message
    assert [e.status for e in events if isinstance(e, RunEnded)] == ["oom", "done"]


def test_a_diverging_run_ends_alone():
    runs = (OptimizerRun("sgd", {"lr": 10.0, "momentum": 0.99}), OptimizerRun("adam"))
    cfg = TrainConfig(model="mlp", dataset="moons", optimizers=runs, steps=60, batch_size=32, device="cpu")
    wild, calm = TrainingSession(cfg).run_all()
    assert wild.status == "diverged" and "lower the learning rate" in wild.message
    assert calm.status == "done"


def _scaler_run(impl_kwargs: dict, guard: bool) -> tuple[dict, torch.Tensor]:
    """SGD with momentum under a GradScaler whose first step overflows.

    Returns the optimizer state the skipped first step left behind (tensor names), and the weights after step 2."""
    param = torch.nn.Parameter(torch.ones(1000))
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9, **impl_kwargs)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    left: dict = {}
    for loss_scale in (float("inf"), 1.0):
        opt.zero_grad()
        scaler.scale((param * loss_scale).sum()).backward()
        if guard:
            skipped = scaled_step(opt, scaler)
            assert skipped == (loss_scale == float("inf"))
        else:
            scaler.step(opt)
            scaler.update()
        if loss_scale == float("inf"):
            left = {name for state in opt.state.values() for name in state}
    return left, param.detach().clone()


def test_gradscaler_guard_makes_fused_sgd_match_the_for_loop_after_an_overflowing_first_step():
    left, reference = _scaler_run({"foreach": False}, guard=False)
    assert left == set()  # the scaler never called step: the state of an optimizer before its first step
    assert torch.allclose(reference, torch.full((1000,), 0.9))  # skipped, then a plain first momentum step
    left, guarded = _scaler_run({"fused": True}, guard=True)
    assert left == set()
    torch.testing.assert_close(guarded, reference)


def test_fused_sgd_without_the_guard_keeps_a_buffer_from_the_skipped_step_or_matches_the_for_loop():
    """What the guard is for, checked on the state: the buffer torch keeps was never written, so the weights
    after it are wrong only when that memory happened to hold something other than zeros (chance).
    Every torch with fused SGD keeps it (2.13 included); on a torch that fixes it the guard has nothing to do,
    and fused SGD alone must then match the for-loop."""
    left, unguarded = _scaler_run({"fused": True}, guard=False)
    _, reference = _scaler_run({"foreach": False}, guard=False)
    if left:
        assert left == {"momentum_buffer"}
    else:
        torch.testing.assert_close(unguarded, reference)
