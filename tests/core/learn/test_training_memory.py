"""Optimizer-state bytes measured from the state tensors match the registry's bytes per parameter."""

from __future__ import annotations

import warnings

import pytest
import torch

from optviz.core.learn.config import OptimizerRun, TrainConfig
from optviz.core.learn.memory import state_bytes, state_bytes_by_parameter, tensor_bytes
from optviz.core.learn.training import TrainingSession
from optviz.core.optimizers import REGISTRY

warnings.filterwarnings("ignore", category=UserWarning)

#: State that grows with a tensor's shape or with time, not with its element count: Shampoo and SOAP keep
#: per-dimension matrices, L-BFGS a history that fills over steps, Adafactor row and column sums.
NOT_PER_ELEMENT = {"shampoo", "soap", "lbfgs", "adafactor"}
PER_ELEMENT = [n for n, s in REGISTRY.items() if not s.training_unavailable and n not in NOT_PER_ELEMENT]


def stepped(name: str, hp=None, shape=(512, 512)):
    spec = REGISTRY[name]
    param = torch.nn.Parameter(torch.randn(shape, generator=torch.Generator().manual_seed(0)))
    opt = spec.build([param], spec.resolve(hp or {}))

    def closure():
        opt.zero_grad()
        loss = (param**2).sum() * 1e-3
        loss.backward(create_graph=spec.needs_hvp)
        return loss

    for _ in range(2):
        spec.step(opt, closure)
    return spec, param, opt


@pytest.mark.parametrize("name", PER_ELEMENT)
def test_measured_state_matches_the_registry(name):
    spec, param, opt = stepped(name)
    measured = state_bytes(opt) / param.numel()
    # Step counters and 8-bit block scales add a little on top of the textbook figure.
    assert measured == pytest.approx(spec.state_bytes(), abs=0.1), name


@pytest.mark.parametrize(
    ("name", "hp", "expected"),
    [
        ("sgd", {"momentum": 0.0}, 0.0),
        ("sgd", {"momentum": 0.9}, 4.0),
        ("adam", {"amsgrad": True}, 12.0),
        ("rmsprop", {"momentum": 0.9, "centered": True}, 12.0),
    ],
)
def test_state_bytes_follow_the_hyperparameters(name, hp, expected):
    spec, param, opt = stepped(name, hp)
    assert spec.state_bytes(hp) == expected
    assert state_bytes(opt) / param.numel() == pytest.approx(expected, abs=0.01)


def test_eight_bit_state_is_counted_by_its_inner_tensors():
    _, param, opt = stepped("adam8bit")
    exp_avg = opt.state[param]["exp_avg"]
    assert type(exp_avg) is not torch.Tensor  # torchao's subclass: it *reports* fp32 of the parameter's shape
    assert exp_avg.numel() * exp_avg.element_size() == 4 * param.numel()
    assert tensor_bytes([exp_avg]) < 1.1 * param.numel()  # 1-byte codes + a scale per 256 + the code map


def test_small_tensors_keep_fp32_state_under_8_bit():
    _, param, opt = stepped("adam8bit", shape=(32, 32))
    assert state_bytes(opt) / param.numel() == pytest.approx(8.0, abs=0.1)


def test_adafactor_factors_matrices_and_keeps_vectors_whole():
    _, matrix, opt = stepped("adafactor", shape=(256, 256))
    assert state_bytes_by_parameter(opt)[id(matrix)] == pytest.approx((256 + 256) * 4, abs=8)
    _, _vector, opt = stepped("adafactor", shape=(256,))
    assert state_bytes(opt) == pytest.approx(256 * 4, abs=8)


def test_session_reports_memory_for_8_bit_and_adafactor_on_mlp_wide():
    runs = (OptimizerRun("adamw"), OptimizerRun("adam8bit"), OptimizerRun("adafactor"))
    config = TrainConfig(model="mlp-wide", dataset="moons", optimizers=runs, steps=2, device="cpu")
    adamw, eight, factor = (s.memory for s in TrainingSession(config).run_all())
    assert adamw.state == pytest.approx(adamw.theoretical_state, rel=0.01)
    assert eight.state < 0.35 * adamw.state  # fp32 state remains for the small first/last layers and biases
    assert factor.state < 0.05 * adamw.state
    for memory in (adamw, eight, factor):
        assert memory.peak == memory.parameter_bytes + memory.gradient_bytes + memory.state
        assert memory.parameter_bytes == 4 * memory.parameters
