"""The race memory guard (`optviz.core.race.memory`): the estimate, the limit, and refusals that come
before anything is allocated, in the engine and in the app's session alike."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.errors import OptvizError
from optviz.core.race import engine, memory, session
from optviz.core.race.memory import (
    BYTES_PER_POINT,
    HARD_LIMIT,
    check_race_memory,
    format_bytes,
    race_memory_bytes,
    race_memory_limit,
)
from optviz.core.race.result import RunConfig
from optviz.core.race.session import RunCache, compute_race
from optviz.core.scene import OptimizerEntry, Scene
from optviz.core.surfaces import get_surface


def test_the_estimate_is_optimizers_times_starts_times_points_kept():
    assert race_memory_bytes(4, 1, 199) == 4 * 1 * 200 * BYTES_PER_POINT
    assert race_memory_bytes(0, 10, 10) == 0
    # The request: grid:512x512, 1,000 steps, four optimizers is far beyond any laptop.
    assert race_memory_bytes(4, 512 * 512, 1000) > 100 * 2**30


def test_the_limit_is_the_smaller_of_the_hard_cap_and_half_the_available_memory(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 2 * 2**30)
    assert race_memory_limit() == 2**30
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * 2**30)
    assert race_memory_limit() == HARD_LIMIT
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    assert race_memory_limit() == HARD_LIMIT


def test_available_memory_reads_a_number_or_none():
    value = memory.available_memory()
    assert value is None or value > 0


def test_the_refusal_is_one_line_naming_the_estimate_and_the_limit():
    with pytest.raises(OptvizError) as info:
        check_race_memory(4, 512 * 512, 1000, limit=4 * 2**30)
    text = str(info.value)
    assert "\n" not in text
    assert format_bytes(race_memory_bytes(4, 512 * 512, 1000)) in text and "4.0 GiB" in text
    assert "262144 start(s)" in text and "1000 steps" in text
    check_race_memory(4, 1, 200, limit=4 * 2**30)  # an ordinary race passes


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(4 * 2**30) == "4.0 GiB"
    assert format_bytes(3 * 2**40) == "3.0 TiB"


@pytest.fixture
def nothing_simulated(monkeypatch):
    def boom(*_args, **_kwargs):
        raise AssertionError("simulated before the memory check")

    monkeypatch.setattr(engine, "simulate", boom)
    monkeypatch.setattr(session, "simulate", boom)
    monkeypatch.setattr(memory, "race_memory_limit", lambda: 10 * 2**20)


def test_run_race_refuses_before_simulating(nothing_simulated):
    surface = get_surface("rosenbrock")
    starts = np.zeros((100_000, 2))
    with pytest.raises(OptvizError, match=r"more than the 10\.0 MiB allowed"):
        engine.run_race(surface, [RunConfig("adam", {})], starts, steps=1000)


def test_the_apps_session_reports_the_refusal_inline(nothing_simulated):
    scene = Scene(surface="rosenbrock", optimizers=[OptimizerEntry("adam")], grid=(300, 300), steps=1000)
    outcome = compute_race(scene, RunCache())
    assert outcome.result is None and "more than the 10.0 MiB allowed" in outcome.error
