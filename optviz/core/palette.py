"""Colour vocabulary shared by scene files, the app, the renderer and exports.

It lives in the core because a scene names its colours and colormap and is checked without Qt or GL; the
renderer turns the names into pixels (`optviz.render.colormaps`).
"""

from __future__ import annotations

#: Distinct colours, assigned in order to optimizers without one. The first eight follow Okabe and Ito's
#: colour-blind-safe set (brightened for a dark background); the last four differ from them in lightness too.
PALETTE: tuple[str, ...] = (
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#f25f5c",  # vermilion
    "#009e73",  # bluish green
    "#f0e442",  # yellow
    "#3d7dd8",  # blue
    "#cc79a7",  # reddish purple
    "#e0e0e0",  # light grey
    "#9ee09e",  # pale green
    "#b388eb",  # lavender
    "#9c6644",  # brown
    "#ffb3c6",  # pale pink
)


def assign_colors(chosen: list[str | None]) -> list[str]:
    """A colour per optimizer: its own where it has one, else the first palette colour no other optimizer
    shows, in order, so two racing optimizers never share one (until more race than the palette holds)."""
    used = {c for c in chosen if c}
    out = []
    for i, color in enumerate(chosen):
        if not color:
            color = next((c for c in PALETTE if c not in used), PALETTE[i % len(PALETTE)])
            used.add(color)
        out.append(color)
    return out


#: The colormaps a scene may name: perceptually uniform ones first, then turbo (which is not).
COLORMAPS: tuple[str, ...] = ("viridis", "magma", "inferno", "plasma", "cividis", "turbo")
