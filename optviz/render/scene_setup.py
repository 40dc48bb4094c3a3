"""Configure a `SceneView` from a core `Scene`: the one scene builder of the on-screen view and the exporter.

The app's view panel calls the pieces as the model changes (surface, view options, camera, race); the
exporter calls `apply_scene` once on an offscreen view. Both therefore draw the same surface resolution,
colormap, log scale, camera and trail colours for the same scene.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optviz.core.race.glyphs import StepGlyphs, arrow_polyline, kind_scales, shape_polyline
from optviz.core.race.result import RaceResult
from optviz.core.scene import Camera, Scene
from optviz.core.surfaces.base import Surface
from optviz.core.sweep.run import StartSweep
from optviz.render.basins import basin_rgba
from optviz.render.item_base import rgba
from optviz.render.scene_view import SceneView

SURFACE_RESOLUTION = 256


def apply_surface(view: SceneView, scene: Scene, surface: Surface, resolution: int = SURFACE_RESOLUTION) -> None:
    """The surface mesh with the scene's log scale and colormap (re-drapes trails already set)."""
    view.set_surface(surface, resolution=resolution, log_scale=scene.log_scale(surface), colormap=scene.view.colormap)


def apply_view_options(view: SceneView, scene: Scene, surface: Surface) -> None:
    """Log scale, colormap and the 2-D top-down mode, on a surface already shown."""
    view.set_log_scale(scene.log_scale(surface))
    view.set_colormap(scene.view.colormap)
    view.set_top_down(scene.view.top_down)


def apply_camera(view: SceneView, scene: Scene) -> None:
    """The scene's saved camera, then its top-down flag.

    The default `Camera()` means "let the view frame the surface": the view's own fit (which depends on the
    output's aspect ratio) is kept then, so a scene without a camera looks right at any export size.
    """
    camera = scene.view.camera
    if vars(camera) != vars(Camera()):
        view.set_camera_state({"distance": camera.distance, "elevation": camera.elevation, "azimuth": camera.azimuth})
    view.set_top_down(scene.view.top_down)


def apply_race(view: SceneView, result: RaceResult | None, colors: Sequence[str]) -> None:
    """Trails of every run of `result` (k-major), one colour per optimizer; None clears them."""
    if result is None:
        view.set_trails([])
        return
    view.set_race(result, list(colors))


#: How each kind of state glyph is drawn: (whiter by, thick). The update applied is the thick line.
GLYPH_STYLE = {"gradient": (0.55, False), "momentum": (0.0, False), "update": (0.0, True), "scaling": (0.3, False)}


def apply_glyphs(
    view: SceneView,
    glyphs: Mapping[int, StepGlyphs],
    colors: Sequence[str],
    kinds: Sequence[str],
    domain: tuple[tuple[float, float], tuple[float, float]],
) -> dict[str, float]:
    """Draw the state glyphs of each optimizer k (`colors[k]`) for `kinds`, one scale per kind (returned)"""
    (x0, x1), (y0, y1) = domain
    scales = kind_scales(glyphs.values(), min(x1 - x0, y1 - y0), kinds)
    lines = []
    for k, g in glyphs.items():
        for kind in kinds:
            pale, thick = GLYPH_STYLE[kind]
            r, gr, b, _a = rgba(colors[k])
            color = (r + (1 - r) * pale, gr + (1 - gr) * pale, b + (1 - b) * pale, 1.0)
            scale = scales[kind]
            if scale == 0.0:
                continue
            if kind == "scaling":
                if g.scaling is not None:
                    lines.append((shape_polyline(g.origin, g.scaling * scale, g.scaling_shape), color, False))
                continue
            vector = getattr(g, kind)
            if vector is not None:
                lines.extend((piece, color, thick) for piece in arrow_polyline(g.origin, vector * scale))
    view.set_glyphs(lines)
    return scales


def apply_basins(view: SceneView, scene: Scene, basins: StartSweep | None) -> None:
    """Colour the surface by `basins` as the scene's view asks ("minima" or "steps"); None or "off" clears."""
    if basins is None or scene.view.basins == "off":
        view.set_overlay(None)
        return
    cells = basins.cells
    view.set_overlay(
        basin_rgba(cells.minimum, cells.diverged, cells.steps_to_tolerance, scene.view.basins, basins.steps)
    )


def apply_scene(
    view: SceneView,
    scene: Scene,
    surface: Surface,
    result: RaceResult | None = None,
    colors: Sequence[str] | None = None,
    resolution: int = SURFACE_RESOLUTION,
) -> None:
    """Everything at once (the exporter): surface, camera, view options, the race's trails and, when the scene's
    view asks for them, the basins of attraction (computed here: a few seconds at 128 x 128 starts).

    `colors` defaults to the scene's colours of its enabled optimizers, matching `scene.run()`'s result.
    """
    apply_surface(view, scene, surface, resolution)
    view.reset_camera()
    apply_camera(view, scene)
    apply_race(view, result, scene.colors() if colors is None else colors)
    basins = None
    if scene.view.basins != "off" and not scene.is_learned:
        from optviz.core.sweep.scene_basins import scene_basins

        basins = scene_basins(scene)
    apply_basins(view, scene, basins)
