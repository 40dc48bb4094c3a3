"""Tiny studies for the tests: a small MLP on moons, a few steps per trial, journal files in tmp_path."""

from __future__ import annotations

import pytest

from optviz.core.study.setup import StudyOptimizer, StudySetup
from optviz.core.study.space import parse_tune


def tiny_setup(name: str = "tiny", optimizers=("adamw", "momentum"), **overrides) -> StudySetup:
    values = dict(
        name=name,
        optimizers=tuple(StudyOptimizer(o) for o in optimizers),
        tune=parse_tune("lr,beta2"),
        trials=3,
        model="mlp",
        dataset="moons",
        steps=8,
        batch_size=32,
        seeds=2,
        device="cpu",
    )
    values.update(overrides)
    return StudySetup(**values)


@pytest.fixture
def journal(tmp_path):
    """A fresh journal file's path and its storage."""
    from optviz.core.study.storage import open_storage

    path = str(tmp_path / "study.journal")
    return path, open_storage(path)


@pytest.fixture
def make_setup():
    """make_setup(name=..., optimizers=..., **fields) -> a tiny `StudySetup`."""
    return tiny_setup
