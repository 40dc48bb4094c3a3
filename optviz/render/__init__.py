"""The GL scene: shader loading, GL items, camera, picking and the offscreen renderer.

Imports PySide6, pyqtgraph and PyOpenGL; never `optviz.app`. `SceneView` is the entry point; the items
and helpers are public for tests, benchmarks and the exporter.
"""

from optviz.render.colormaps import COLORMAPS, DEFAULT_COLORMAP, colormap_table
from optviz.render.height import DisplayTransform, HeightField
from optviz.render.scene_view import BACKGROUND, PALETTE, SceneView
from optviz.render.shaders import ShaderError, get_program, load_sources
from optviz.render.view import OffscreenGLView, SceneGLWidget, render_view

__all__ = [
    "BACKGROUND",
    "COLORMAPS",
    "DEFAULT_COLORMAP",
    "PALETTE",
    "DisplayTransform",
    "HeightField",
    "OffscreenGLView",
    "SceneGLWidget",
    "SceneView",
    "ShaderError",
    "colormap_table",
    "get_program",
    "load_sources",
    "render_view",
]
