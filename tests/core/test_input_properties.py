"""Property tests (Hypothesis) of what reads user text: the formula parser and the scene loader.

Whatever a user types or a file holds, the answer is a value or one line naming the problem: never another
exception, never an unbounded echo of the input.
"""

from __future__ import annotations

import math

import numpy as np
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optviz.core.errors import FormulaError, OptvizError, SceneError
from optviz.core.mathlib import NUMPY, SCALAR
from optviz.core.optimizers import REGISTRY
from optviz.core.race.clip import CLIP_KINDS, THRESHOLD_RANGE, Clip, parse_clip
from optviz.core.race.perturb import KINDS as PERTURB_KINDS
from optviz.core.race.perturb import SCHEMAS as PERTURB_SCHEMAS
from optviz.core.race.perturb import Perturbation, parse_perturbation
from optviz.core.scene import COLORMAPS, Camera, OptimizerEntry, Scene, ViewOptions, scene_from_toml, scene_to_toml
from optviz.core.surfaces import SURFACES, parse_formula

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- formulas ---------------------------------------------------------------------------------------------

_ATOMS = st.sampled_from(["x", "y", "0", "1", "2.5", "1e-3", "pi", "e", "1e308", "0.0"])
_UNARY = st.sampled_from(["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh"])
_BINARY = st.sampled_from(["+", "-", "*", "/", "^"])


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _ATOMS,
        lambda inner: st.one_of(
            st.tuples(inner, _BINARY, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(_UNARY, inner).map(lambda t: f"{t[0]}({t[1]})"),
            inner.map(lambda s: f"-{s}"),
            st.tuples(inner, inner).map(lambda t: f"min({t[0]}, {t[1]})"),
        ),
        max_leaves=12,
    )


def _one_line(message: str) -> None:
    assert "\n" not in message and len(message) < 400, message


@FAST
@given(st.text(max_size=200))
def test_any_text_parses_or_is_one_formula_error(text: str) -> None:
    try:
        formula = parse_formula(text)
    except FormulaError as exc:
        _one_line(str(exc))
        assert 0 <= exc.position <= len(text)
        return
    formula.value_and_grad(0.5, -0.25, SCALAR)  # whatever parsed evaluates without raising


@FAST
@given(_expressions(), st.floats(-3, 3), st.floats(-3, 3))
def test_well_formed_formulas_evaluate_on_floats_and_arrays_alike(text: str, x: float, y: float) -> None:
    formula = parse_formula(text)
    scalar = formula.value_and_grad(x, y, SCALAR)
    arrays = formula.value_and_grad(np.array([x]), np.array([y]), NUMPY)
    for a, b in zip(scalar, arrays, strict=True):
        b = float(np.asarray(b).reshape(-1)[0])
        # Same classification (finite, infinite, NaN) on both backends; finite values agree closely.
        if math.isfinite(a) and math.isfinite(b):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (text, a, b)
        else:
            assert (math.isnan(a), math.isinf(a)) == (math.isnan(b), math.isinf(b)), (text, a, b)


@settings(max_examples=20, deadline=None)
@given(st.integers(200, 5000), st.sampled_from(["$", ")", "x x", "sni("]))
def test_errors_in_long_formulas_echo_a_window_with_the_caret_on_the_culprit(size: int, bad: str) -> None:
    text = "x + " * (size // 4) + bad + " + y" * (size // 4)
    try:
        parse_formula(text)
    except FormulaError as exc:
        _one_line(str(exc))
        excerpt, caret = exc.pointer().split("\n")
        assert len(excerpt) <= FormulaError.ECHO + 2
        assert excerpt[len(caret) - 1] == text[exc.position]
    else:
        raise AssertionError(f"{bad!r} should not parse")


# ---- scenes -----------------------------------------------------------------------------------------------

_TOML_VALUES = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
_SECTIONS = st.sampled_from(
    ["surface", "race", "view", "learned", "title", "optimizers", "format", "version", "perturbation"]
)


@FAST
@given(st.text(max_size=300))
def test_any_text_is_a_scene_or_one_scene_error(text: str) -> None:
    try:
        scene_from_toml(text, "s.toml")
    except SceneError as exc:
        _one_line(str(exc))


@FAST
@given(st.dictionaries(_SECTIONS, _TOML_VALUES, max_size=4))
def test_any_toml_is_a_scene_or_one_scene_error(overrides: dict) -> None:
    data = {"format": "optviz-scene", "version": 1, "optimizers": [{"name": "adam"}], **overrides}
    try:
        scene_from_toml(tomli_w.dumps(data), "s.toml")
    except SceneError as exc:
        _one_line(str(exc))


_SURFACE_OPTIMIZERS = sorted(spec.name for spec in REGISTRY.values() if spec.on_surfaces)
_ANALYTIC = sorted(name for name in SURFACES if name not in ("custom",))


@st.composite
def _perturbations(draw) -> Perturbation:
    """Any kind with any valid values of its parameters."""
    kind = draw(st.sampled_from(PERTURB_KINDS))
    values = {}
    for param in PERTURB_SCHEMAS[kind]:
        if draw(st.booleans()):
            low, high = param.low, param.high
            number = st.integers(int(low), int(high)) if param.kind == "int" else st.floats(low, high)
            values[param.name] = draw(number)
    return Perturbation.make(kind, values)


@FAST
@given(st.text(max_size=60))
def test_any_perturb_or_clip_text_parses_or_is_one_error(text: str) -> None:
    """What `--perturb` and `--clip` accept: a perturbation, or one line naming what is wrong."""
    for parse in (parse_perturbation, parse_clip):
        try:
            parse(text)
        except OptvizError as exc:
            _one_line(str(exc))


@FAST
@given(_perturbations())
def test_perturbation_text_round_trips(perturbation: Perturbation) -> None:
    assert parse_perturbation(perturbation.to_text()) == perturbation


@FAST
@given(st.sampled_from(PERTURB_KINDS), st.dictionaries(st.text(min_size=1, max_size=8), _TOML_VALUES, max_size=3))
def test_any_perturbation_table_is_a_scene_or_one_scene_error(kind: str, values: dict) -> None:
    data = {"format": "optviz-scene", "version": 1, "optimizers": [{"name": "adam"}]}
    data["perturbation"] = {"kind": kind, **values}
    try:
        scene_from_toml(tomli_w.dumps(data), "s.toml")
    except SceneError as exc:
        _one_line(str(exc))


@st.composite
def _scenes(draw) -> Scene:
    names = draw(st.lists(st.sampled_from(_SURFACE_OPTIMIZERS), min_size=1, max_size=4))
    optimizers = [
        OptimizerEntry(
            name,
            label=draw(st.text(max_size=8)),
            color=draw(st.sampled_from(["", "#12ab9f", "#FFFFFF"])),
            enabled=draw(st.booleans()),
            clip=draw(st.one_of(st.none(), st.builds(Clip, st.sampled_from(CLIP_KINDS), st.floats(*THRESHOLD_RANGE)))),
        )
        for name in names
    ]
    grid = draw(st.one_of(st.none(), st.tuples(st.integers(1, 16), st.integers(1, 16))))
    starts = [] if grid else draw(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), max_size=3))
    return Scene(
        surface=draw(st.sampled_from(_ANALYTIC)),
        optimizers=optimizers,
        starts=starts,
        grid=grid,
        steps=draw(st.integers(1, 100_000)),
        seed=draw(st.integers(0, 2**31)),
        tolerance=draw(st.floats(1e-12, 1.0)),
        title=draw(st.text(max_size=20)),
        perturbation=draw(st.one_of(st.none(), _perturbations())),
        view=ViewOptions(
            log_scale=draw(st.one_of(st.none(), st.booleans())),
            colormap=draw(st.sampled_from(COLORMAPS)),
            top_down=draw(st.booleans()),
            camera=Camera(draw(st.floats(0.1, 1000.0)), draw(st.floats(-90, 90)), draw(st.floats(-720, 720))),
        ),
    )


@FAST
@given(_scenes())
def test_valid_scenes_round_trip_exactly(scene: Scene) -> None:
    assert scene_from_toml(scene_to_toml(scene)) == scene
