"""Thumbnails for the surface picker (a top-down colour map of each surface) and the colormap combo box."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6 import QtGui

from optviz.core.surfaces import get_surface
from optviz.render.colormaps import colormap_table

#: Thumbnail pixels where f is undefined: dark grey with lighter diagonal lines, no colormap colour.
HOLE_RGB = (40, 43, 51)
HOLE_HATCH = (84, 90, 104)


def _image(rgb: np.ndarray) -> QtGui.QPixmap:
    rgb = np.ascontiguousarray(rgb.astype(np.uint8))
    h, w, _ = rgb.shape
    image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    return QtGui.QPixmap.fromImage(image.copy())  # copy: the QImage must not alias numpy's buffer


def shade(values: np.ndarray, log_scale: bool, colormap: str) -> np.ndarray:
    """Colour a grid of surface values (rows = y, bottom row first) as the 3-D view does: rank by height."""
    v = np.where(np.isfinite(values), values, np.nan)
    if log_scale:
        v = np.log10(v - np.nanmin(v) + 1e-3 * (np.nanmax(v) - np.nanmin(v) + 1e-12))
    lo, hi = np.nanpercentile(v, 1), np.nanpercentile(v, 99)
    t = np.clip((v - lo) / (hi - lo + 1e-12), 0, 1)
    t = np.nan_to_num(t, nan=1.0)
    table = colormap_table(colormap)
    rgb = table[np.round(t * 255).astype(int)] * 255
    # Contour bands: darken a thin band around 12 levels, like the view's contour lines.
    bands = np.abs(((t * 12) % 1.0) - 0.5) > 0.44
    rgb[bands] *= 0.6
    # Where f is undefined: grey hatching (the view draws holes there), apart from the panel's background.
    rows, cols = np.indices(values.shape)
    hatch = (rows + cols) % 6 < 2
    undefined = ~np.isfinite(values)
    rgb[undefined & hatch] = HOLE_HATCH
    rgb[undefined & ~hatch] = HOLE_RGB
    return rgb[::-1]  # image rows run top to bottom


@lru_cache(maxsize=64)
def surface_preview(name: str, size: int = 64, colormap: str = "viridis", params: tuple = ()) -> QtGui.QPixmap:
    surface = get_surface(name, dict(params))
    _, _, values = surface.grid(size)
    return _image(shade(values, surface.log_scale, colormap))


@lru_cache(maxsize=16)
def colormap_swatch(name: str, width: int = 64, height: int = 12) -> QtGui.QPixmap:
    table = colormap_table(name)
    row = table[np.linspace(0, 255, width).astype(int)] * 255
    return _image(np.repeat(row[None], height, axis=0))
