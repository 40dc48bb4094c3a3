"""Perceptual colormaps as (256, 3) float tables, fed to the surface shader as a 256x1 texture.

The tables are the published data bundled with pyqtgraph (`pyqtgraph/colors/maps/*.csv`): viridis, magma,
inferno, plasma and cividis (CC0, Smith, van der Walt, Firing, Nuñez et al.) and turbo (Apache-2.0,
Mikhailov, Google). Reading them from pyqtgraph avoids a matplotlib dependency and a second copy of the data.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from optviz.core.palette import COLORMAPS

DEFAULT_COLORMAP = "viridis"


@cache
def _table(name: str) -> np.ndarray:
    import pyqtgraph as pg

    table = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False, mode="float")
    table = np.clip(np.asarray(table, dtype=np.float32), 0.0, 1.0)
    table.setflags(write=False)
    return table


def colormap_table(name: str) -> np.ndarray:
    """(256, 3) float32 RGB in [0, 1] for a colormap name in `COLORMAPS` (read-only array)."""
    key = name.lower()
    if key not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    return _table(key)


def colormap_rgba8(name_or_table: str | np.ndarray) -> np.ndarray:
    """(1, 256, 4) uint8 texture data for a name or an (n, 3|4) float table in [0, 1]."""
    table = colormap_table(name_or_table) if isinstance(name_or_table, str) else np.asarray(name_or_table, float)
    if table.ndim != 2 or table.shape[1] not in (3, 4) or len(table) < 2:
        raise ValueError("a colormap table has shape (n, 3) or (n, 4)")
    if len(table) != 256:
        src = np.linspace(0.0, 1.0, len(table))
        dst = np.linspace(0.0, 1.0, 256)
        table = np.stack([np.interp(dst, src, table[:, c]) for c in range(table.shape[1])], axis=1)
    rgba = np.ones((256, 4))
    rgba[:, : table.shape[1]] = table
    return np.round(np.clip(rgba, 0.0, 1.0) * 255.0).astype(np.uint8)[None]


def sample(name: str, t: np.ndarray | float) -> np.ndarray:
    """RGB floats of the colormap at positions t in [0, 1] (nearest of 256 entries, like the texture)."""
    table = colormap_table(name)
    idx = np.clip(np.round(np.asarray(t, float) * 255.0), 0, 255).astype(int)
    return table[idx]
