"""State glyphs are the state they draw: the vectors are the record's gradient, update and first moment, and the
scaling shape maps the (averaged) gradient onto the step the library took."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.core.optimizers import get_optimizer
from optviz.core.race.glyphs import TARGET_SHARE, arrow_polyline, kind_scales, shape_polyline, step_glyphs
from optviz.core.race.inspect import record_steps
from optviz.core.race.result import RunConfig
from optviz.core.scene import default_scene, scene_from_toml, scene_to_toml
from optviz.core.surfaces import get_kind

START = np.array([-1.5, 2.0])


def _glyphs(name: str, hp: dict | None = None, step: int = 4):
    surface = get_kind("rosenbrock").make({})
    spec = get_optimizer(name)
    resolved = spec.resolve(dict(hp or {}))
    record = record_steps(surface, RunConfig(name, resolved), START, step)[-1]
    return spec, resolved, record, step_glyphs(spec, resolved, record)


def test_vectors_are_the_record_s_gradient_update_and_first_moment():
    _, _, record, g = _glyphs("adam", {"lr": 0.05})
    np.testing.assert_array_equal(g.origin, record.before)
    np.testing.assert_array_equal(g.gradient, -record.gradient)
    np.testing.assert_array_equal(g.update, record.after - record.before)
    np.testing.assert_array_equal(g.momentum, -np.asarray(record.state["exp_avg"]))
    _, _, record, g = _glyphs("momentum", {"lr": 1e-3})
    np.testing.assert_array_equal(g.momentum, -np.asarray(record.state["momentum_buffer"]))
    assert g.scaling is None and g.scaling_shape == ""  # SGD keeps no per-coordinate scaling
    assert _glyphs("sgd", {"lr": 1e-3})[3].momentum is None  # plain SGD keeps nothing


def test_adam_s_ellipse_half_axes_are_lr_over_its_denominators_and_map_m_hat_onto_the_step():
    spec, hp, record, g = _glyphs("adam", {"lr": 0.05})
    derived = record.derived(spec, hp)
    assert g.scaling_shape == "ellipse"
    np.testing.assert_allclose(np.diag(g.scaling), 0.05 / derived["denominator"], rtol=1e-15)
    assert g.scaling[0, 1] == g.scaling[1, 0] == 0.0  # axis-aligned
    np.testing.assert_allclose(g.scaling @ derived["m_hat"], -record.update, rtol=1e-12)


def test_rmsprop_and_adagrad_ellipses_map_the_gradient_onto_the_step():
    for name in ("rmsprop", "adagrad"):
        _, _, record, g = _glyphs(name, {"lr": 0.01})
        np.testing.assert_allclose(g.scaling @ record.gradient, -record.update, rtol=1e-12, err_msg=name)


def test_lion_and_signsgd_get_the_sign_step_box():
    for name in ("lion", "signsgd"):
        _, _, record, g = _glyphs(name, {"lr": 0.02})
        assert g.scaling_shape == "box"
        np.testing.assert_array_equal(g.scaling, np.diag([0.02, 0.02]))
        np.testing.assert_allclose(np.abs(record.update), 0.02, rtol=1e-12, err_msg=name)  # the box's corner


def test_shampoo_and_soap_get_rotated_ellipses_from_their_preconditioners():
    _, _, record, g = _glyphs("shampoo", {"lr": 0.01})
    np.testing.assert_array_equal(g.scaling, 0.01 * np.asarray(record.state["inv_pre_cond_0"]))
    assert abs(g.scaling[0, 1]) > 0  # rotated: the preconditioner couples x and y on Rosenbrock
    _, _, record, g = _glyphs("soap", {"lr": 0.003}, step=12)
    q = np.asarray(record.state["Q"]).reshape(2, 2)
    rotated = q.T @ g.scaling @ q  # diagonal in SOAP's eigenbasis
    assert abs(rotated[0, 1]) < 1e-6 * np.abs(rotated).max()  # Q comes from a float32 QR
    np.testing.assert_allclose(g.scaling, g.scaling.T, rtol=1e-12)


def test_one_scale_per_kind_gradient_and_momentum_share_theirs():
    glyphs = [_glyphs(name, {"lr": lr})[3] for name, lr in (("adam", 0.05), ("momentum", 1e-3), ("lion", 0.02))]
    scales = kind_scales(glyphs, 4.0)
    longest = max(max(g.size("gradient"), g.size("momentum")) for g in glyphs)
    assert scales["gradient"] == scales["momentum"] == pytest.approx(TARGET_SHARE * 4.0 / longest)
    assert max(g.size("update") for g in glyphs) * scales["update"] == pytest.approx(TARGET_SHARE * 4.0)
    assert kind_scales([_glyphs("sgd", {"lr": 1e-3})[3]], 4.0, ["scaling"]) == {"scaling": 0.0}


def test_polylines_draw_the_vector_and_the_shape():
    shaft, head = arrow_polyline(np.array([1.0, 2.0]), np.array([0.3, -0.4]))
    np.testing.assert_allclose(shaft[[0, -1]], [[1.0, 2.0], [1.3, 1.6]])
    np.testing.assert_allclose(head[1], [1.3, 1.6])  # the head's point is the tip
    ellipse = shape_polyline(np.zeros(2), np.diag([2.0, 0.5]), "ellipse")
    np.testing.assert_allclose(np.abs(ellipse).max(axis=0), [2.0, 0.5], rtol=1e-3)
    box = shape_polyline(np.zeros(2), np.diag([1.0, 1.0]), "box")
    assert {tuple(p) for p in box} == {(1, 1), (-1, 1), (-1, -1), (1, -1)}


def test_scene_files_keep_the_glyphs_and_refuse_unknown_ones():
    from optviz.core.scene import SceneError

    scene = default_scene()
    scene.view.glyphs = ["gradient", "scaling"]
    assert scene_from_toml(scene_to_toml(scene)).view.glyphs == ["gradient", "scaling"]
    scene.view.glyphs = ["gradient", "curl"]
    with pytest.raises(SceneError, match=r"view\.glyphs"):
        scene.validate()
