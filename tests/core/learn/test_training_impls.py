"""Implementations are offered from what torch really runs, and the registry records the CPU answer."""

from __future__ import annotations

import pytest

from optviz.core.errors import OptvizError
from optviz.core.learn.implementations import implementation_kwargs, supported_implementations
from optviz.core.optimizers import REGISTRY

TRAINABLE = [name for name, spec in REGISTRY.items() if not spec.training_unavailable]


@pytest.mark.parametrize("name", TRAINABLE)
def test_registry_implementations_are_what_torch_runs_on_cpu(name):
    assert supported_implementations(name, "cpu") == REGISTRY[name].implementations


def test_fused_is_offered_exactly_where_torch_has_cpu_kernels():
    fused = {n for n in TRAINABLE if "fused" in supported_implementations(n, "cpu")}
    assert fused == {"sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw", "adagrad"}


def test_other_libraries_run_their_single_path():
    for name in ("lamb", "lion", "adam8bit", "schedulefree_adamw", "prodigy"):
        assert supported_implementations(name, "cpu") == ("for-loop",)
        assert implementation_kwargs(REGISTRY[name], "for-loop") == {}


def test_unknown_implementation_is_refused():
    with pytest.raises(OptvizError, match="unknown implementation"):
        implementation_kwargs(REGISTRY["adam"], "vectorised")
