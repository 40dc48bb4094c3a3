"""The interactive level of detail drawn while the camera moves (optviz.render.view, `motion_lod`): frames
of continuous motion use the coarse surface, the first frame with the camera stopped is full quality and
exactly the frame it would have been without the motion, and read-backs for export never see the coarse
mesh unless asked."""

from __future__ import annotations

import numpy as np
import pytest

from tests.render.conftest import H, Rosenbrock, W, non_background


def _line(a, b, n=60):
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(a) * (1 - t) + np.asarray(b) * t


@pytest.fixture
def moving_scene(scene):
    scene.set_surface(Rosenbrock(), resolution=96)
    scene.set_trails([_line((-1.5, 2.5), (1.0, 1.0)), _line((1.5, -0.5), (1.0, 1.0))])
    scene.view.motion_lod = True
    return scene


def test_the_full_quality_frame_after_motion_is_identical_to_before(moving_scene):
    scene = moving_scene
    scene.render_image()
    still = scene.render_image()  # the still frame, as a user sees it before touching the mouse
    before = dict(scene.view.layer_stats)
    for _ in range(3):
        scene.orbit(4.0)
        scene.render_image()
    scene.orbit(-12.0)
    moving = scene.render_image()  # back where it started, but still moving
    assert scene.view.layer_stats["lod"] - before["lod"] == 4
    after = scene.render_image()  # the camera stopped
    assert scene.view.layer_stats["lod"] - before["lod"] == 4
    assert np.array_equal(after, still)
    # The moving frame is the same picture at reduced detail.
    diff = np.abs(moving.astype(int) - still)[..., :3].sum(-1)
    assert diff.mean() < 3.0
    assert abs(non_background(moving).mean() - non_background(still).mean()) < 0.01


def test_a_camera_change_after_a_pause_is_drawn_at_full_quality(moving_scene):
    scene = moving_scene
    scene.render_image()
    scene.view.motion_window_s = 0.0  # every frame comes "long" after the previous one
    before = scene.view.layer_stats["lod"]
    scene.orbit(5.0)
    scene.render_image()
    assert scene.view.layer_stats["lod"] == before


def test_offscreen_views_render_every_frame_in_full_by_default(scene):
    scene.set_surface(Rosenbrock(), resolution=64)
    assert scene.view.motion_lod is False  # exports of an orbiting camera stay full quality
    for _ in range(3):
        scene.orbit(3.0)
        scene.render_image()
    assert scene.view.layer_stats["lod"] == 0


def test_a_widget_uses_it_on_screen_but_never_in_read_backs(qtbot):
    from optviz.render import SceneView

    view = SceneView(size=(W, H))
    qtbot.addWidget(view.widget)
    view.set_surface(Rosenbrock(), resolution=64)
    view.widget.show()
    qtbot.waitExposed(view.widget)
    assert view.view.motion_lod is True
    view.widget.grabFramebuffer()
    before = view.view.layer_stats["lod"]
    for _ in range(3):
        view.orbit(3.0)
        view.render_image()
        view.widget.grabFramebuffer()
    assert view.view.layer_stats["lod"] == before
    view.close()


def test_the_coarse_mesh_is_every_other_node_of_the_full_one():
    from optviz.render.height import grid_indices
    from optviz.render.surface_item import coarse_grid_vertices, coarse_nodes, wall_geometry

    assert coarse_nodes(256).tolist() == [*range(0, 256, 2), 255]
    assert coarse_nodes(5).tolist() == [0, 2, 4]
    ci, cj = coarse_nodes(256), coarse_nodes(128)
    verts = coarse_grid_vertices(ci, cj)
    assert verts.shape == (len(ci) * len(cj), 2)
    idx = grid_indices(len(ci), len(cj))
    assert idx.max() == len(verts) - 1
    # The corners of the full grid are corners of the coarse one (the block keeps its footprint).
    corners = {tuple(v) for v in verts[[0, len(ci) - 1, len(verts) - len(ci), len(verts) - 1]].tolist()}
    assert corners == {(0.0, 0.0), (255.0, 0.0), (0.0, 127.0), (255.0, 127.0)}
    walls, wall_idx = wall_geometry(256, 128, ci, cj)
    assert len(walls) == 2 * 2 * (len(ci) + len(cj)) and wall_idx.max() == len(walls) - 1
    full_walls, _ = wall_geometry(256, 128)
    assert len(full_walls) == 2 * 2 * (256 + 128)
