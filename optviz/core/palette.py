"""Colour vocabulary shared by scene files, the app, the renderer and exports.

It lives in the core because a scene names its colours and colormap and is checked without Qt or GL; the
renderer turns the names into pixels (`optviz.render.colormaps`).
"""

from __future__ import annotations

#: Distinct colours, assigned in order to optimizers without one (colour-blind-friendly first).
PALETTE: tuple[str, ...] = (
    "#f2a541",  # amber
    "#4cc9f0",  # sky
    "#f25f5c",  # coral
    "#7bd389",  # green
    "#b388eb",  # lavender
    "#ffe066",  # yellow
    "#ff8fab",  # pink
    "#5ad2c8",  # teal
    "#e0e0e0",  # light grey
    "#9c6644",  # brown
)

#: The colormaps a scene may name: perceptually uniform ones first, then turbo (which is not).
COLORMAPS: tuple[str, ...] = ("viridis", "magma", "inferno", "plasma", "cividis", "turbo")
