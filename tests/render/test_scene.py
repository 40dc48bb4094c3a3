"""Rendered frames: pixel statistics with tolerances (Mesa llvmpipe under Xvfb), never exact hashes."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.render.colormaps import colormap_table
from tests.render.conftest import BG, H, Hill, Paraboloid, Rosenbrock, W, near_color, non_background

RED = (255, 40, 40)
BLUE = (40, 110, 255)
MAGENTA = (255, 0, 255)


def _chroma_distances(image: np.ndarray, mask: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per pixel: angle to the nearest colormap colour, brightness ignored (lighting scales colours)."""
    px = image[mask][:, :3].astype(float)
    px /= np.linalg.norm(px, axis=1, keepdims=True) + 1e-9
    tab = table / (np.linalg.norm(table, axis=1, keepdims=True) + 1e-9)
    return np.arccos(np.clip(px @ tab.T, -1, 1).max(axis=1))


def _colourful(img: np.ndarray) -> np.ndarray:
    return non_background(img) & (img[..., :3].max(-1).astype(int) - img[..., :3].min(-1) > 40)


def test_surface_renders_with_colormap_colours(scene):
    scene.set_surface(Paraboloid(), resolution=64)
    img = scene.render_image()
    assert img.shape == (H, W, 4) and img.dtype == np.uint8
    assert (img[..., 3] == 255).all()
    covered = non_background(img)
    assert 0.25 < covered.mean() < 0.9
    np.testing.assert_array_equal(img[0, 0, :3], BG)  # corners stay background
    viridis, magma = colormap_table("viridis"), colormap_table("magma")
    for name, right, wrong in (("viridis", viridis, magma), ("magma", magma, viridis)):
        scene.set_colormap(name)
        img = scene.render_image()
        mask = _colourful(img)
        assert mask.sum() > 0.1 * H * W
        d_right = _chroma_distances(img, mask, right)
        d_wrong = _chroma_distances(img, mask, wrong)
        assert np.median(d_right) < 0.12, name
        assert (d_right < d_wrong).mean() > 0.6, name


def test_log_scale_changes_the_picture(scene):
    scene.set_surface(Rosenbrock(), resolution=64, log_scale=False)
    linear = scene.render_image().astype(int)
    scene.set_log_scale(True)
    log = scene.render_image().astype(int)
    assert scene.field.transform.log_scale
    assert np.abs(linear - log)[..., :3].mean() > 8.0


def _row_roughness(img: np.ndarray, row: int) -> float:
    line = img[row, :, :3].astype(float).sum(-1)
    covered = non_background(img[row : row + 1])[0]
    return float(np.abs(np.diff(line))[covered[1:] & covered[:-1]].mean())


def test_contour_lines_show_as_variation_along_a_scan_line(scene):
    scene.set_surface(Paraboloid(), resolution=128)
    scene.set_top_down(True)
    scene.set_contours(0)
    plain = scene.render_image()
    scene.set_contours(24)
    lined = scene.render_image()
    rows = [H // 2 - 30, H // 2, H // 2 + 30]
    plain_r = np.mean([_row_roughness(plain, r) for r in rows])
    lined_r = np.mean([_row_roughness(lined, r) for r in rows])
    assert lined_r > 1.6 * plain_r + 1.0
    # The lines are thin: most of the surface keeps its colour.
    changed = np.abs(plain.astype(int) - lined)[..., :3].sum(-1) > 30
    assert 0.02 < changed.mean() < 0.4


def _line(a, b, n=101):
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(a) * (1 - t) + np.asarray(b) * t


def test_trails_appear_in_their_colours(scene):
    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(True)
    before = scene.render_image()
    paths = [_line((-1.5, -1.5), (1.5, 1.0)), _line((-1.5, 1.5), (1.5, -1.2)), _line((-1.8, 0.0), (1.8, 0.2))]
    scene.set_trails(paths, colors=[RED, BLUE, MAGENTA])
    img = scene.render_image()
    for color in (RED, BLUE, MAGENTA):
        assert near_color(before, color, 60).sum() < 3
        assert near_color(img, color, 60).sum() > 40, color


def test_the_time_cursor_shortens_trails(scene):
    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(True)
    scene.set_trails([_line((-1.6, -1.6), (1.6, 1.6))], colors=[RED])
    scene.trails.tail_alpha = 1.0  # count the whole trail, not only its unfaded head
    full = near_color(scene.render_image(), RED, 60).sum()
    scene.set_cursor(20)
    short = near_color(scene.render_image(), RED, 60).sum()
    scene.set_cursor(20.5)
    slightly_longer = near_color(scene.render_image(), RED, 60).sum()
    assert full > 100
    assert short < 0.35 * full
    assert short <= slightly_longer < 0.4 * full
    # The head follows the cursor, between steps too.
    np.testing.assert_allclose(scene.head_positions()[0], _line((-1.6, -1.6), (1.6, 1.6))[20:22].mean(0))
    scene.set_cursor(None)
    assert near_color(scene.render_image(), RED, 60).sum() == pytest.approx(full, rel=0.05)


def test_moving_the_cursor_uploads_nothing_but_the_heads(scene):
    scene.set_surface(Paraboloid(), resolution=32)
    scene.set_trails([_line((-1, -1), (1, 1))])
    scene.render_image()
    version = scene.trails._version
    heads = scene.heads._version
    scene.set_cursor(10)
    scene.render_image()
    assert scene.trails._version == version
    assert scene.heads._version == heads + 1


def _low_camera(scene):
    scene.set_camera_state({"center": [0.0, 0.0, 0.2], "distance": 6.5, "elevation": 8.0, "azimuth": -90.0})


def test_a_head_behind_a_hill_is_drawn_through_it_as_a_ghost(scene):
    scene.set_surface(Hill(), resolution=96)
    _low_camera(scene)
    scene.set_trails([np.array([[0.0, -1.5]])], colors=[MAGENTA])
    shown = near_color(scene.render_image(), MAGENTA, 70).sum()
    scene.set_trails([np.array([[0.0, 1.5]])], colors=[MAGENTA])
    ghost_image = scene.render_image()
    x, y = (round(v) for v in scene.screen_position(0.0, 1.5))
    ghost = near_color(ghost_image, MAGENTA, 70).sum()
    scene.heads.xray = 0.0  # without the hidden pass the hill hides it
    hidden = near_color(scene.render_image(), MAGENTA, 70).sum()
    assert shown > 20
    assert hidden <= 2
    assert ghost > 20  # found behind the hill, in its colour...
    patch = ghost_image[max(y - 14, 0) : y + 15, max(x - 14, 0) : x + 15, :3].astype(int)
    assert (patch.min(axis=-1) > 150).sum() >= 4  # ...ringed by the light outline that says "behind"


def test_a_diverged_run_gets_a_cross_from_its_divergence_step(scene):
    from optviz.render.scene_view import DIVERGED_COLOR

    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(True)
    path = _line((-1.5, 0.0), (0.0, 0.0), 11)
    path[8:] = np.nan
    scene.set_trails([path], colors=[BLUE])
    cross = tuple(int(DIVERGED_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    scene.set_cursor(5)
    before = near_color(scene.render_image(), cross, 50).sum()
    scene.set_cursor(8)
    after = near_color(scene.render_image(), cross, 50).sum()
    assert before < 3 < 20 < after
    # From the race engine: a status pair marks it too, and the drawn path stops there.
    scene.set_trails([_line((-1.5, 0.0), (0.0, 0.0), 11)], statuses=[("diverged", 4)])
    assert len(scene._runs[0].path) == 4 and scene._runs[0].diverged_at == 4


def test_update_trail_rewrites_one_block_in_place(scene):
    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(True)
    scene.set_trails([_line((-1.5, -1.5), (-1.5, 1.5)), _line((1.5, -1.5), (1.5, 1.5))], colors=[RED, BLUE])
    scene.render_image()
    version = scene.trails._version
    scene.update_trail(1, _line((-0.5, -1.5), (-0.5, 1.5)))  # same length, same draped size
    img = scene.render_image()
    assert scene.trails._version == version and scene.trails._block_versions == {1: 1}
    cols = np.nonzero(near_color(img, BLUE, 60))[1]
    assert len(cols) > 20
    # The blue trail moved from the right side (x = 1.5) to left of centre (x = -0.5).
    assert np.median(cols) < W / 2


@pytest.mark.parametrize(("top_down", "tolerance"), [(True, 1.5), (False, 4.0)])
def test_screen_position_matches_the_rendered_head(scene, top_down, tolerance):
    """The projection used by pick() is the one GL draws with. (In 3-D the slope in front of a head
    hides a sliver of it, which shifts the centroid of its visible pixels a little.)"""
    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(top_down)
    plain = scene.render_image().astype(int)
    for point in [(0.3, -0.4), (-1.2, 1.1)]:
        scene.set_trails([np.array([point])], colors=[MAGENTA])
        # Every pixel the marker touched (the lit ball is not symmetric in colour, its footprint is).
        ys, xs = np.nonzero(np.abs(scene.render_image().astype(int) - plain)[..., :3].sum(-1) > 30)
        assert len(xs) > 10
        px, py = scene.screen_position(*point)
        assert abs(xs.mean() + 0.5 - px) < tolerance and abs(ys.mean() + 0.5 - py) < tolerance


@pytest.mark.parametrize("top_down", [False, True])
def test_pick_returns_the_point_under_the_cursor(scene, top_down):
    scene.set_surface(Paraboloid(), resolution=128)
    scene.set_top_down(top_down)
    for point in [(0.5, -0.5), (-1.2, 1.5), (0.4, 1.0), (1.7, -1.6)]:
        px, py = scene.screen_position(*point)
        picked = scene.pick(px, py)
        assert picked is not None, point
        assert np.hypot(picked[0] - point[0], picked[1] - point[1]) < 0.03, (point, picked)
    assert scene.pick(1.0, 1.0) is None  # a background corner


def test_pick_finds_the_nearest_surface_along_the_ray(scene):
    """Where a hill hides a point, the pick lands on the hill, and that is where the pixel shows."""
    scene.set_surface(Rosenbrock(), resolution=128)
    rng = np.random.default_rng(3)
    for x, y in rng.uniform([-1.9, -0.9], [1.9, 2.9], (12, 2)):
        px, py = scene.screen_position(x, y)
        picked = scene.pick(px, py)
        assert picked is not None
        back = scene.screen_position(*picked)
        assert np.hypot(back[0] - px, back[1] - py) < 0.75


def test_render_image_size_and_supersampling(scene):
    scene.set_surface(Paraboloid(), resolution=32)
    assert scene.render_image(200, 150).shape == (150, 200, 4)
    smooth = scene.render_image(200, 150, supersample=2)
    assert smooth.shape == (150, 200, 4)
    plain = scene.render_image(200, 150)
    assert np.abs(plain.astype(int) - smooth)[..., :3].mean() < 6.0


def test_the_static_layer_cache_draws_the_same_frame(scene):
    scene.set_surface(Rosenbrock(), resolution=64)
    scene.set_trails([_line((-1.5, 2.5), (1.0, 1.0))])
    frames = [scene.render_image() for _ in range(3)]
    stats = dict(scene.view.layer_stats)
    assert stats["cached"] + stats["rebuilt"] >= 1
    scene.view.layer_cache_enabled = False
    direct = scene.render_image()
    for frame in frames:
        assert np.abs(frame.astype(int) - direct).max() <= 1
    # A change to a static item invalidates the cache.
    scene.view.layer_cache_enabled = True
    scene.render_image()
    scene.render_image()
    scene.set_colormap("magma")
    changed = scene.render_image()
    assert np.abs(changed.astype(int) - direct)[..., :3].mean() > 5


def test_offscreen_render_equals_the_widget(qtbot):
    from PySide6 import QtGui

    from optviz.render import SceneView

    view = SceneView(size=(W, H))
    qtbot.addWidget(view.widget)
    view.set_surface(Rosenbrock(), resolution=64)
    view.set_trails([_line((-1.5, 2.5), (1.0, 1.0))], colors=[RED])
    view.widget.show()
    qtbot.waitExposed(view.widget)

    def grab() -> np.ndarray:
        image = view.widget.grabFramebuffer().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
        return np.frombuffer(image.constBits(), np.uint8).reshape(H, image.bytesPerLine() // 4, 4)[:, :W].copy()

    shown = grab()
    rendered = view.render_image()
    assert rendered.shape == shown.shape == (H, W, 4)
    diff = np.abs(rendered.astype(int) - shown)[..., :3].sum(-1)
    assert diff.mean() < 1.5
    assert (diff > 24).mean() < 0.01
    # Repaints with nothing changed go through the widget's static-layer cache and look the same.
    cached_before = view.view.layer_stats["cached"]
    again = [grab() for _ in range(3)]
    assert view.view.layer_stats["cached"] > cached_before
    for frame in again:
        assert np.abs(frame.astype(int) - shown)[..., :3].max() <= 2
    view.close()


def test_render_does_not_import_the_app():
    import subprocess
    import sys

    code = "import sys, optviz.render; print(any(m.startswith('optviz.app') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_hidden_runs_stay_hidden_across_surface_changes(scene):
    scene.set_surface(Paraboloid(), resolution=32)
    scene.set_top_down(True)
    scene.set_trails([_line((-1.5, -1.5), (1.5, 1.5)), _line((-1.5, 1.5), (1.5, -1.5))], colors=[RED, BLUE])
    scene.set_trail_visible(1, False)
    scene.set_surface(Paraboloid(), resolution=48)
    img = scene.render_image()
    assert near_color(img, RED, 60).sum() > 40
    assert near_color(img, BLUE, 60).sum() < 3
    assert len(scene.starts.data) == 1 and len(scene.heads.data) == 1


def test_the_widget_cache_hits_across_cursor_moves_and_trail_updates(qtbot):
    from optviz.render import SceneView

    view = SceneView(size=(W, H))
    qtbot.addWidget(view.widget)
    view.set_surface(Rosenbrock(), resolution=64)
    view.set_trails([_line((-1.5, 2.5), (1.0, 1.0)), _line((1.5, -0.5), (1.0, 1.0))])
    view.set_cursor(10)
    view.widget.show()
    qtbot.waitExposed(view.widget)
    widget = view.widget

    def frame() -> None:
        widget.repaint()
        qtbot.wait(5)

    for _ in range(3):
        frame()
    stats = widget.layer_stats
    before = dict(stats)
    for step in (20, 40, 60, 80):
        view.set_cursor(step)
        frame()
    # Same start, new path: only the trail and the heads change.
    view.update_trail(0, _line((-1.5, 2.5), (0.5, 0.5)))
    frame()
    view.set_cursor(90)
    frame()
    assert stats["invalidated"] == before["invalidated"]
    assert stats["direct"] == before["direct"]
    assert stats["cached"] - before["cached"] == 6
    # A new start point is a static change: the layer is rebuilt, then used again.
    view.update_trail(1, _line((1.2, -0.5), (1.0, 1.0)))
    for _ in range(3):
        frame()
    assert stats["invalidated"] > before["invalidated"]
    assert stats["cached"] - before["cached"] >= 7
    view.close()


def test_long_trails_are_simplified_on_screen(scene):
    """Thousands of sub-pixel steps are drawn through a few hundred points, with the same picture; a still
    camera reuses the simplification while the cursor moves; an orbit redoes it."""
    scene.set_surface(Rosenbrock(), resolution=64)
    t = np.linspace(0.0, 1.0, 3001)[:, None] ** 0.3  # creeping: most steps are far below a pixel
    path = np.array([-1.5, 2.5]) * (1 - t) + np.array([1.0, 1.0]) * t + 0.2 * np.sin(6 * t)
    scene.set_trails([path], colors=[RED])
    scene.set_cursor(2500.5)
    scene.trails.tolerance_px, scene.trails.max_segments = 0.0, 10**9
    full = scene.render_image()
    assert len(scene.trails._kept[0]) == len(scene.trails.paths[0])
    scene.trails.tolerance_px = 1.0
    simplified = scene.render_image()
    assert len(scene.trails._kept[0]) < len(scene.trails.paths[0]) / 5
    diff = np.abs(full.astype(int) - simplified)[..., :3].sum(-1)
    assert (diff > 60).mean() < 0.002
    version = scene.trails._simplified_version
    scene.set_cursor(1000.25)
    scene.render_image()
    assert scene.trails._simplified_version == version
    scene.orbit(5.0)
    scene.render_image()
    assert scene.trails._simplified_version == version + 1


def test_the_lens_shifts_and_scales_the_picture_and_the_projection_with_it(scene):
    scene.set_surface(Paraboloid(), resolution=64)
    frame = scene._frame_points(False)
    before_px = scene.project(frame)
    before = np.nonzero(non_background(scene.render_image()))[1].mean()
    scene.set_lens(1.0, (0.5, 0.0))  # a quarter of the width to the right
    after = np.nonzero(non_background(scene.render_image()))[1].mean()
    assert after - before == pytest.approx(W / 4, abs=W * 0.04)
    assert np.allclose(scene.project(frame), before_px + np.array([W / 4, 0.0]))
    scene.set_lens(0.5, (0.0, 0.0))
    centre = np.array([W / 2, H / 2])
    assert np.allclose(scene.project(frame) - centre, 0.5 * (before_px - centre))
    scene.set_lens()
    assert np.allclose(scene.project(frame), before_px)


def test_lens_clear_of_moves_the_scene_right_of_an_overlay(scene):
    scene.set_surface(Rosenbrock(), resolution=64)
    frame = scene._frame_points(False)
    box = (0.0, 0.0, 0.3 * W, 0.5 * H)
    assert scene.project(frame)[:, 0].min() < box[2]  # the default framing runs under the box
    camera = scene.camera_state()
    cameras = [dict(camera, azimuth=camera["azimuth"] + a) for a in (0.0, 45.0, 90.0)]
    lens = scene.lens_clear_of(box, (W, H), cameras)
    assert scene.camera_state() == camera  # the camera is left as it was
    assert 0.5 <= lens[0] <= 1.0
    scene.set_lens(*lens)
    for state in cameras:
        scene.set_camera_state(state)
        px = scene.project(frame)
        assert px[:, 0].min() >= box[2] - 0.5 and px[:, 0].max() <= W + 0.5
    # Clear already: no lens.
    assert scene.lens_clear_of((0.0, 0.0, 4.0, 4.0), (W, H)) == (1.0, (0.0, 0.0))


def test_overlay_colours_the_top_by_domain_position(scene):
    """A two-colour overlay (red on the left half of the domain, blue on the right) shows both colours, each
    on its side of the view, and clearing it brings the colormap back."""
    scene.set_surface(Paraboloid(), resolution=64)
    scene.set_top_down(True)
    plain = scene.render_image()
    overlay = np.zeros((8, 16, 4), dtype=np.uint8)
    overlay[..., 3] = 255
    overlay[:, :8, :3] = RED
    overlay[:, 8:, :3] = BLUE
    scene.set_overlay(overlay)
    img = scene.render_image()
    red, blue = near_color(img, RED, 90), near_color(img, BLUE, 90)
    assert red.mean() > 0.05 and blue.mean() > 0.05
    columns = np.arange(img.shape[1])
    assert columns[red.any(0)].mean() < columns[blue.any(0)].mean()  # red left of blue, as in the domain
    scene.set_overlay(None)
    np.testing.assert_allclose(scene.render_image().astype(int), plain.astype(int), atol=2)


def test_the_exporters_scene_builder_drapes_the_scenes_basins(scene):
    """`apply_scene` (what an export draws) computes and shows the basins when the scene's view asks."""
    from optviz.core.scene import OptimizerEntry
    from optviz.core.scene import Scene as SceneFile
    from optviz.render.basins import MINIMUM_COLOURS
    from optviz.render.scene_setup import apply_scene

    file = SceneFile(surface="himmelblau", optimizers=[OptimizerEntry("adam", {"lr": 0.1})], steps=200)
    file.view.basins, file.view.basins_grid = "minima", 24
    apply_scene(scene, file, file.build_surface(), resolution=64)
    overlay = scene.surface_item.overlay
    assert overlay is not None and overlay.shape == (24, 24, 4)
    colours = {tuple(c) for c in overlay[..., :3].reshape(-1, 3)}
    expected = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in MINIMUM_COLOURS[:4]}
    assert expected <= colours  # Himmelblau's four basins
    file.view.basins = "off"
    apply_scene(scene, file, file.build_surface(), resolution=64)
    assert scene.surface_item.overlay is None
