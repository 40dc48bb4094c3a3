"""Valid JSON everywhere: NaN and infinities become null, finite values are written exactly as before."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from optviz.core.jsonsafe import finite_list, finite_or_none, json_ready, json_text


def _strict(text: str):
    def reject(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def test_non_finite_values_become_none_at_any_depth():
    data = {"loss": [1.5, math.nan, (math.inf, -math.inf)], "nested": {"x": np.float64("nan"), "n": 3, "s": "NaN"}}
    assert json_ready(data) == {"loss": [1.5, None, [None, None]], "nested": {"x": None, "n": 3, "s": "NaN"}}


def test_json_text_is_strict_json_and_keeps_finite_numbers_exact():
    data = {"values": [0.1, 1e-300, 2.5e300, np.float64(0.7)], "bad": [math.nan, math.inf], "flag": True}
    text = json_text(data)
    assert _strict(text) == {"values": [0.1, 1e-300, 2.5e300, 0.7], "bad": [None, None], "flag": True}
    assert text == json.dumps({**data, "bad": [None, None]}, indent=1)


def test_json_text_still_refuses_what_json_cannot_write():
    with pytest.raises(TypeError):
        json_text({"x": object()})


def test_finite_helpers():
    assert finite_or_none(np.float32(2.0)) == 2.0 and finite_or_none(-math.inf) is None
    assert finite_list(np.array([1.0, np.nan, np.inf])) == [1.0, None, None]
