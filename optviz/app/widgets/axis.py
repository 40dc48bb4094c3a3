"""One axis for every chart in the app: ticks spaced by the pixels the axis has, labels written compactly.

pyqtgraph's own axis labels a log axis at 1, 2, ..., 9 times every power of ten and lets the labels pile on top
of each other on a short chart, and it moves a common factor into the axis title ("(x0.001)"). `CompactAxis`
instead measures its labels and keeps, of a few round tick sets, the densest whose labels keep a gap:

- log axes: 1, 2 and 5 times each power of ten; 1 and 3 times; each power of ten; every 2nd, 5th, 10th...
  power of ten (only decades when space is short); over less than a decade, also round values (0.5, 0.6...);
- linear axes: 1, 2 or 5 times a power of ten apart.

Labels read like 1e-3, 0.01, 0.5, 100, 2500, 1e4, 1.5e4 (`format_tick`). Unlabelled minor ticks (grid lines)
fill in where there is room.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

#: Pixels kept free between two labels, and the least distance between labelled ticks (fewer, calmer ticks).
LABEL_GAP = 6.0
MIN_SPACING = {"vertical": 24.0, "horizontal": 48.0}
#: Least distance between unlabelled minor ticks.
MINOR_SPACING = 7.0
#: Pixels a label on a horizontal axis may reach past the axis's ends (into the empty corner beside it, or the
#: gap before the next chart): "0" and "1000" stay under the ends of a chart padded by 2 %.
END_OVERFLOW = 14

LOW, HIGH = 1e-2, 1e4  # plain decimals in between, mantissa-e-exponent outside


def format_tick(value: float, step: float | None = None) -> str:
    """A compact label: 1e-3, 5e-3, 0.01, 0.25, 1, 100, 2500, 1e4, 1.5e4, -2.

    `step` is the distance to the next tick on a linear axis: the label keeps the digits that tell two ticks
    apart (0.1, 0.2 or 0.15, 0.2, 0.25 and 1.2e4, 1.4e4); without it, up to 3 significant digits.
    """
    if not math.isfinite(value):
        return ""
    if value == 0 or (step is not None and abs(value) < abs(step) * 1e-6):
        return "0"
    magnitude = abs(value)
    exponent = math.floor(math.log10(magnitude) + 1e-12)
    if step is not None and step > 0:
        step_exponent = math.floor(math.log10(step) + 1e-12)
        # Enough digits for the step (2.5 steps need one more than 1, 2 and 5 steps).
        step_digits = 0 if _close(step / 10**step_exponent, round(step / 10**step_exponent)) else 1
    else:
        step_exponent, step_digits = exponent - 2, 0
    if LOW <= magnitude < HIGH:
        decimals = max(0, -step_exponent + step_digits) if step is not None else max(0, 2 - exponent)
        return _strip(f"{value:.{min(decimals, 12)}f}")
    decimals = max(0, exponent - step_exponent + step_digits) if step is not None else 2
    mantissa = value / 10**exponent
    text = _strip(f"{mantissa:.{min(decimals, 12)}f}")
    if text in ("10", "-10"):  # 9.999 rounded up
        text, exponent = text[:-1], exponent + 1
    return f"{text}e{exponent}"


def _strip(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6 * max(1.0, abs(b))


# ---- tick choice (no Qt: testable on its own) ----------------------------------------------------------------


def linear_candidates(lo: float, hi: float) -> list[tuple[float, list[float]]]:
    """(step, values) for steps 1, 2 and 5 times a power of ten, from about 100 ticks over [lo, hi] to one."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return []
    first = math.floor(math.log10(span / 100))
    out = []
    for exponent in range(first, first + 4):
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            start = math.ceil(lo / step - 1e-9)
            stop = math.floor(hi / step + 1e-9)
            if stop - start > 200:
                continue
            out.append((step, [k * step for k in range(start, stop + 1)]))
    return out


def log_candidates(lo: float, hi: float) -> list[tuple[float | None, list[float]]]:
    """(step, log10 values) for a log axis over [lo, hi] (log10 units): round values (when the range spans
    less than a decade), 1-2-5 in each decade, 1-3, each decade, then every 2nd, 5th, 10th... decade. The
    step is the linear step for the round values (None otherwise)."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return []
    out: list[tuple[float | None, list[float]]] = []
    if span < 1:  # round values, spaced evenly in value: 0.5, 0.6, 0.7, 0.8
        for step, values in linear_candidates(10**lo, 10**hi):
            logs = [math.log10(v) for v in values if v > 0]
            if logs:
                out.append((step, logs))
    d0, d1 = math.floor(lo), math.ceil(hi)
    if d1 - d0 <= 400:
        for mantissas in ((1, 2, 5), (1, 3), (1,)):
            values = [d + math.log10(m) for d in range(d0, d1 + 1) for m in mantissas]
            out.append((None, [v for v in values if lo - 1e-9 <= v <= hi + 1e-9]))
    for every in (2, 5, 10, 20, 50, 100):
        start, stop = math.ceil(lo / every - 1e-9), math.floor(hi / every + 1e-9)
        if stop - start <= 400:
            out.append((None, [float(k * every) for k in range(start, stop + 1)]))
    return out


def choose_ticks(
    candidates: Sequence[tuple[float | None, list[float]]],
    lo: float,
    hi: float,
    length: float,
    extent: Callable[[str], float],
    label: Callable[[float, float | None], str],
    min_spacing: float,
    reach: Callable[[str], float] | None = None,
) -> tuple[float | None, list[float]]:
    """Of `candidates` (step, values), the one showing the most labels, its labels `LABEL_GAP` pixels apart
    and its ticks at least `min_spacing` pixels apart, over an axis of `length` pixels showing [lo, hi] (on a
    tie, the later, rounder one). `extent(text)` is a label's size along the axis in pixels; `reach(text)`
    how far it reaches past its tick (half the extent unless told): a label that would cross an end of the
    axis is not drawn (pyqtgraph hides it), so it does not count. With no room for two labels, one label
    (the roundest) or none."""
    if length <= 0 or hi <= lo:
        return None, []
    scale = length / (hi - lo)
    reach = reach or (lambda text: extent(text) / 2)
    best: tuple[float | None, list[float]] | None = None
    best_shown = 0
    single: tuple[float | None, list[float]] | None = None
    for step, values in candidates:
        values = [v for v in values if lo - 1e-9 * (hi - lo) <= v <= hi + 1e-9 * (hi - lo)]
        if not values or len(values) > 2 * length / min_spacing + 2:
            continue  # far too many ticks for the length whatever their labels
        shown = []  # (value, pixel position, extent) of the labels drawn whole
        for v in values:
            text = label(v, step)
            x, r = (v - lo) * scale, reach(text)
            if x - r >= -1e-6 and x + r <= length + 1e-6:
                shown.append((v, x, extent(text)))
        if not shown:
            continue
        if len(shown) == 1 or any((b - a) * scale < min_spacing for a, b in itertools.pairwise(values)):
            # Too crowded for two: its label nearest the middle, if nothing better turns up (later candidates
            # are rounder: keep the last).
            middle = min(shown, key=lambda item: abs(item[1] - length / 2))
            single = (step, [middle[0]])
            continue
        shown = [(x, size) for _v, x, size in shown]
        fits = all(xb - xa >= (sa + sb) / 2 + LABEL_GAP for (xa, sa), (xb, sb) in itertools.pairwise(shown))
        if fits and len(shown) >= best_shown:
            best, best_shown = (step, values), len(shown)
    if best is not None:
        return best
    return single if single is not None else (None, [])


class CompactAxis(pg.AxisItem):
    """See the module doc. A drop-in `pg.AxisItem` (``axisItems={"left": CompactAxis("left"), ...}``)."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)  # no "(x0.001)" beside the title: the labels say 1e-3
        self.setStyle(maxTextLevel=0)  # labels on the chosen ticks only; minor ticks are grid lines

    def boundingRect(self):
        """pyqtgraph's rectangle, wider by `END_OVERFLOW` on a horizontal axis: the labels it may hold (pyqtgraph
        hides a label that leaves it, and ignores its own allowance for that once the grid is shown)."""
        rect = super().boundingRect()
        if self.orientation in ("top", "bottom"):
            return rect.adjusted(-END_OVERFLOW, 0, END_OVERFLOW, 0)
        return rect

    # -- sizes
    def _font(self) -> QtGui.QFont:
        font = self.style.get("tickFont")
        return QtGui.QFont(font) if font is not None else QtGui.QFont(QtWidgets.QApplication.font())

    def _extent(self) -> Callable[[str], float]:
        metrics = QtGui.QFontMetricsF(self._font())
        if self.orientation in ("left", "right"):
            height = metrics.height()
            return lambda _text: height
        return lambda text: metrics.horizontalAdvance(text) + 2

    # -- pyqtgraph hooks
    def tickValues(self, minVal: float, maxVal: float, size: float):
        lo, hi = sorted((minVal * self.scale, maxVal * self.scale))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or size <= 0:
            return []
        vertical = self.orientation in ("left", "right")
        min_spacing = MIN_SPACING["vertical" if vertical else "horizontal"]
        if self.logMode:
            candidates = log_candidates(lo, hi)

            def label(value: float, step: float | None) -> str:
                return format_tick(10**value, step)
        else:
            candidates = linear_candidates(lo, hi)
            label = format_tick
        extent = self._extent()
        # How far a label reaches past its tick: pyqtgraph draws a label 0.8 lines tall; horizontal ones may
        # overflow the ends a little.
        edge = 0.4 if vertical else 0.5
        overflow = 0 if vertical else END_OVERFLOW

        def reach(text: str) -> float:
            return edge * extent(text) - overflow

        step, values = choose_ticks(candidates, lo, hi, size, extent, label, min_spacing, reach)
        # tickStrings gets the level's spacing: the linear step of round values (None: format the value alone).
        levels: list[tuple[float | None, list[float]]] = [
            (None if step is None else step / self.scale, [v / self.scale for v in values])
        ]
        minor = self._minor(lo, hi, size, step, values)
        if minor:
            levels.append((None, [v / self.scale for v in minor]))
        return levels

    def _minor(self, lo: float, hi: float, size: float, step: float | None, values: list[float]) -> list[float]:
        """Unlabelled ticks between the labelled ones, where they stay `MINOR_SPACING` pixels apart."""
        scale = size / (hi - lo)
        if self.logMode:
            if step is not None:  # round values within a decade: halves or fifths of the step
                for divisions in (5, 2):
                    minor_step = step / divisions
                    first = math.ceil(10**lo / minor_step - 1e-9)
                    linear = [k * minor_step for k in range(first, int(10**hi / minor_step + 1e-9) + 1)]
                    logs = [math.log10(v) for v in linear if v > 0]
                    if len(logs) > 1 and min(np.diff(logs)) * scale >= MINOR_SPACING:
                        return logs
                return []
            if len(values) > 1 and _close(values[1] - values[0], 1.0):  # decades: 2..9 in each
                logs = [d + math.log10(m) for d in range(math.floor(lo), math.ceil(hi) + 1) for m in range(2, 10)]
                logs = [v for v in logs if lo <= v <= hi]
                if (math.log10(10) - math.log10(9)) * scale >= MINOR_SPACING / 2:
                    return logs
            elif len(values) > 1 and values[1] - values[0] > 1.5 and scale >= MINOR_SPACING:  # the other decades
                return [float(d) for d in range(math.ceil(lo), math.floor(hi) + 1)]
            return []
        if step is None:
            return []
        for divisions in (5, 2):
            minor_step = step / divisions
            if minor_step * scale >= MINOR_SPACING:
                first = math.ceil(lo / minor_step - 1e-9)
                return [k * minor_step for k in range(first, math.floor(hi / minor_step + 1e-9) + 1)]
        return []

    def tickStrings(self, values, scale, spacing):
        step = None if spacing is None else spacing * scale
        if self.logMode:
            return [format_tick(10**v * scale, step) for v in values]
        return [format_tick(v * scale, step) for v in values]


def compact_axes(*sides: str) -> dict[str, CompactAxis]:
    """``axisItems`` for a PlotItem / PlotWidget: a `CompactAxis` on each side named (left and bottom if none)."""
    return {side: CompactAxis(side) for side in (sides or ("left", "bottom"))}
