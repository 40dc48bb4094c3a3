"""Training sessions: every offered optimizer x implementation learns, implementations agree, runs are seeded,
and the session's set-up (schedule, weight decay groups, device and precision checks) does what it says."""

from __future__ import annotations

import warnings

import pytest
import torch

from optviz.core.errors import OptvizError
from optviz.core.learn.config import OptimizerRun, TrainConfig, resolve_device
from optviz.core.learn.datasets import load_dataset
from optviz.core.learn.implementations import supported_implementations
from optviz.core.learn.models import model_spec
from optviz.core.learn.schedules import ScheduleConfig, preview
from optviz.core.learn.training import TrainingSession, parameter_groups
from optviz.core.optimizers import REGISTRY

warnings.filterwarnings("ignore", category=UserWarning)

TRAINABLE = [name for name, spec in REGISTRY.items() if not spec.training_unavailable]
OFFERED = [(name, impl) for name in TRAINABLE for impl in supported_implementations(name, "cpu")]
MULTI_IMPL = [name for name in TRAINABLE if len(supported_implementations(name, "cpu")) > 1]


def session(*runs: OptimizerRun, **setup) -> TrainingSession:
    base = dict(model="mlp", dataset="moons", batch_size=512, steps=12, device="cpu", seed=0)
    base.update(setup)
    return TrainingSession(TrainConfig(optimizers=tuple(runs), **base))


@pytest.mark.parametrize(("name", "impl"), OFFERED)
def test_every_offered_optimizer_and_implementation_learns(name, impl):
    # Full batch: the loss at step 1 and at the end are measured on the same data, so "falls" is meaningful.
    (summary,) = session(OptimizerRun(name, impl=impl)).run_all()
    assert summary.status == "done", summary.message
    assert len(summary.train_loss) == 12
    assert summary.train_loss[-1] < summary.train_loss[0]
    assert summary.val_loss and summary.val_accuracy


@pytest.mark.parametrize("name", MULTI_IMPL)
def test_for_loop_foreach_and_fused_give_the_same_weights(name):
    impls = supported_implementations(name, "cpu")
    runs = [OptimizerRun(name, impl=impl) for impl in impls]
    summaries = session(*runs, keep_weights=True, batch_size=64, steps=8, model="mlp-wide").run_all()
    reference = summaries[0].final_weights
    for summary in summaries[1:]:
        assert summary.status == "done"
        torch.testing.assert_close(summary.final_weights, reference, rtol=1e-4, atol=1e-6)


def test_a_seed_gives_the_same_run_and_other_runs_do_not_disturb_it():
    alone = session(OptimizerRun("adahessian"), steps=6, batch_size=32).run_all()[0]
    again = session(OptimizerRun("sgd"), OptimizerRun("adahessian"), steps=6, batch_size=32).run_all()[1]
    assert alone.train_loss == again.train_loss and alone.val_loss == again.val_loss
    other_seed = session(OptimizerRun("adahessian"), steps=6, batch_size=32, seed=1).run_all()[0]
    assert other_seed.train_loss != alone.train_loss


def test_session_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    session(OptimizerRun("adam"), steps=3).run_all()
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize("name", ["constant", "warmup-cosine", "step"])
def test_the_schedule_preview_is_the_learning_rate_the_run_uses(name):
    steps = 20
    (summary,) = session(OptimizerRun("sgd", {"lr": 0.1}), steps=steps, schedule=ScheduleConfig(name)).run_all()
    expected = [0.1 * f for f in preview(ScheduleConfig(name), steps)]
    assert summary.lr == pytest.approx(expected)


def test_warmup_cosine_and_step_shapes():
    warm = preview(ScheduleConfig("warmup-cosine"), 100)
    assert warm[0] < warm[5] < warm[9] and max(warm) == pytest.approx(1.0, abs=0.01) and warm[-1] < 0.01
    step = preview(ScheduleConfig("step"), 30)
    assert step[0] == 1.0 and step[10] == pytest.approx(0.1) and step[29] == pytest.approx(0.01)


def test_weight_decay_reaches_weights_only():
    model = model_spec("transformer").build(load_dataset("modadd"))
    groups = parameter_groups(model, 0.1)
    decayed, kept = groups
    assert decayed["weight_decay"] == 0.1 and kept["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and all(p.ndim == 1 for p in kept["params"])
    norm_ids = {id(p) for m in model.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters()}
    assert norm_ids and norm_ids <= {id(p) for p in kept["params"]}


def test_biases_keep_their_values_under_pure_weight_decay():
    """With zero gradients' effect removed (lr tiny for the Adam part is not enough), use SGD whose update is
    lr·(g + λθ): a bias moves by its gradient only, so compare against a run without decay."""
    runs = [OptimizerRun("sgd", {"lr": 0.1}, label="no decay"), OptimizerRun("sgd", {"lr": 0.1}, label="decay")]
    base = session(runs[0], steps=1, keep_weights=True, weight_decay=0.0).run_all()[0].final_weights
    decayed = session(runs[1], steps=1, keep_weights=True, weight_decay=0.5).run_all()[0].final_weights
    model = model_spec("mlp").build(load_dataset("moons"))
    offset, changed = 0, {}
    for name, p in model.named_parameters():
        part = slice(offset, offset + p.numel())
        changed[name] = not torch.equal(base[part], decayed[part])
        offset += p.numel()
    assert all(changed[n] for n in changed if n.endswith("weight"))
    assert not any(changed[n] for n in changed if n.endswith("bias"))


def test_transformer_on_modular_addition_trains():
    (summary,) = session(OptimizerRun("adamw", {"lr": 3e-3}), model="transformer", dataset="modadd", steps=15).run_all()
    assert summary.status == "done" and summary.train_loss[-1] < summary.train_loss[0]


def test_bf16_autocast_runs_on_cpu():
    (summary,) = session(OptimizerRun("adam", {"lr": 1e-2}), precision="bf16", steps=10).run_all()
    assert summary.status == "done" and summary.train_loss[-1] < summary.train_loss[0]


def test_eight_bit_on_a_small_model_says_its_state_stays_fp32():
    small = session(OptimizerRun("adam8bit"), steps=1)
    wide = session(OptimizerRun("adam8bit"), steps=1, model="mlp-wide")
    assert "4,096" in small.summaries[0].note and wide.summaries[0].note == ""


@pytest.mark.parametrize(
    ("runs", "setup", "fragment"),
    [
        ([OptimizerRun("muon")], {}, "2-D parameters"),
        ([OptimizerRun("sparse_adam")], {}, "sparse gradients"),
        ([OptimizerRun("rmsprop", impl="fused")], {}, "no fused implementation"),
        ([OptimizerRun("lamb", impl="foreach")], {}, "no foreach implementation"),
        ([OptimizerRun("adam")], {"precision": "fp16"}, "CUDA only"),
        ([OptimizerRun("adam")], {"model": "cnn"}, "does not fit"),
        ([OptimizerRun("adam", {"lr": -1})], {}, "out of range"),
        ([], {}, "at least one optimizer"),
    ],
)
def test_unsupported_combinations_are_one_clear_line(runs, setup, fragment):
    with pytest.raises(OptvizError, match=fragment) as info:
        session(*runs, **setup)
    assert "\n" not in str(info.value)


def test_cuda_request_without_cuda_is_refused_and_auto_says_why():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(OptvizError, match="CUDA is not available"):
        resolve_device("cuda")
    choice = resolve_device("auto")
    assert choice.device == "cpu" and "auto" in choice.reason
