"""Colours of a basins-of-attraction overlay: one colour per known minimum reached, or the steps needed on a
colormap; runs that never converge and runs that diverge in two fixed greys. Shared by the app's view, its
legend and the exporter, so a picture and its legend always agree."""

from __future__ import annotations

import numpy as np

from optviz.render.colormaps import sample

#: Minimum i's colour (cycled): distinct from one another, muted so trails stay in front.
MINIMUM_COLOURS = ("#e07a5f", "#3d85c6", "#81b29a", "#f2cc8f", "#9b5de5", "#00a6a6", "#f15bb5", "#c0ca33")
NOT_CONVERGED = "#3a3f4b"
DIVERGED = "#d8d8d8"
STEPS_COLORMAP = "magma"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def basin_rgba(minimum: np.ndarray, diverged: np.ndarray, steps: np.ndarray, mode: str, total_steps: int) -> np.ndarray:
    """(ny, nx, 4) uint8 for the overlay: `mode` "minima" colours by the minimum index (-1: not converged),
    "steps" by the steps to the tolerance (-1: not converged) from 0 (bright) to `total_steps` (dark)."""
    rgba = np.empty((*minimum.shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[..., :3] = _rgb(NOT_CONVERGED)
    if mode == "minima":
        for i in range(int(minimum.max(initial=-1)) + 1):
            rgba[minimum == i, :3] = _rgb(minimum_colour(i))
    else:
        reached = steps >= 0
        t = 1.0 - np.clip(steps / max(total_steps, 1), 0.0, 1.0)
        colours = (sample(STEPS_COLORMAP, 0.15 + 0.85 * t) * 255).astype(np.uint8)
        rgba[reached, :3] = colours[reached]
    rgba[diverged, :3] = _rgb(DIVERGED)
    return rgba


def legend_entries(mode: str, minima: list[tuple[float, float]], total_steps: int) -> list[tuple[str, str]]:
    """(colour, text) lines for a legend of the overlay."""
    if mode == "minima":
        entries = [(minimum_colour(i), f"minimum ({x:.3g}, {y:.3g})") for i, (x, y) in enumerate(minima)]
    else:
        entries = [(_hex(1.0), "converges at once"), (_hex(0.15), f"converges by step {total_steps:,}")]
    return [*entries, (NOT_CONVERGED, "not converged"), (DIVERGED, "diverged")]


def minimum_colour(i: int) -> str:
    return MINIMUM_COLOURS[i % len(MINIMUM_COLOURS)]


def _hex(t: float) -> str:
    """The steps colormap at t, as #rrggbb."""
    return "#" + "".join(f"{c:02x}" for c in (sample(STEPS_COLORMAP, t) * 255).astype(int))
