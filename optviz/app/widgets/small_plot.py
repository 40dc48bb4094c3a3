"""The look of the app's small side charts (Training, Studies): a small title, muted axis labels and ticks, a
faint grid, no pyqtgraph menu or auto-range button."""

from __future__ import annotations

import pyqtgraph as pg

from optviz.app.widgets.theme import MUTED, TEXT


def style_small_plot(item: pg.PlotItem, title: str, x: str, y: str) -> None:
    """Give `item` (built with `compact_axes()`) the small charts' look; `y` may be empty (no left label)."""
    item.setTitle(f"<span style='color:{TEXT}; font-size:8pt'>{title}</span>")
    item.setLabel("bottom", x, color=MUTED)
    if y:
        item.setLabel("left", y, color=MUTED)
    item.showGrid(x=True, y=True, alpha=0.12)
    item.setMenuEnabled(False)
    item.hideButtons()
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTextPen(MUTED)
    item.getAxis("left").setWidth(40)
