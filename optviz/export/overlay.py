"""Overlays painted with QPainter onto each rendered frame: title, legend (colours, names, hyperparameters),
live loss readout, step counter and an optional strip of the loss chart.

Everything is drawn into the frame's own memory (a QImage over the numpy array), so an overlay costs a few
milliseconds and no copy. Sizes scale with the frame's height (720p is the reference) so a 1080p export and a
small GIF look alike. The layout is computed once per export, so boxes never jitter as numbers change.
Works on any Qt platform (QPainter on a QImage needs no window; eglfs included).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui

from optviz.core.race.result import RaceResult
from optviz.export.captions import RunCaption, format_loss, loss_series, status_text

PANEL = QtGui.QColor(21, 23, 28, 205)
PANEL_EDGE = QtGui.QColor(255, 255, 255, 26)
TEXT = QtGui.QColor("#e6e9ef")
MUTED = QtGui.QColor("#9aa3b2")
BAD = QtGui.QColor("#ff6b6b")
GOOD = QtGui.QColor("#8ce99a")
SHADOW = QtGui.QColor(0, 0, 0, 170)
CHART_HEIGHT = 0.2  # of the frame


def _font(px: float, bold: bool = False, mono: bool = False) -> QtGui.QFont:
    font = QtGui.QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    if mono:
        font.setStyleHint(QtGui.QFont.StyleHint.Monospace)
    font.setPixelSize(max(round(px), 9))
    font.setBold(bold)
    return font


class OverlayPainter:
    """`paint(rgba, step)` draws the chosen overlays onto a (H, W, 4) uint8 frame in place."""

    def __init__(
        self,
        result: RaceResult,
        captions: list[RunCaption],
        overlays: frozenset[str],
        title: str,
        size: tuple[int, int],
    ) -> None:
        self.result = result
        self.captions = captions
        self.overlays = overlays
        self.title = title
        self.w, self.h = size
        # Small frames (GIFs) scale text down less than the picture, so it stays legible.
        self.s = min(max(self.h / 720.0, 0.62), 3.0)
        self.margin = 22.0 * self.s
        self.title_font = _font(28 * self.s, bold=True)
        self.name_font = _font(16 * self.s, bold=True)
        self.param_font = _font(12.5 * self.s)
        self.number_font = _font(14 * self.s, mono=True)
        self.step_font = _font(17 * self.s, mono=True)
        self.small_font = _font(11.5 * self.s)
        self.losses = [loss_series(result, k) for k in range(len(captions))]
        self._layout()

    @property
    def active(self) -> bool:
        return bool(self.overlays)

    # ---- layout (once) -------------------------------------------------------------------------------------
    def _layout(self) -> None:
        s, m = self.s, self.margin
        y = m
        self.title_pos = None
        if "title" in self.overlays and self.title:
            metrics = QtGui.QFontMetricsF(self.title_font)
            self.title = metrics.elidedText(self.title, QtCore.Qt.TextElideMode.ElideRight, self.w - 2 * m)
            self.title_pos = QtCore.QPointF(m, y + metrics.ascent())
            y += metrics.height() + 8 * s
        self.legend_rect = None
        self.show_params = "legend" in self.overlays
        self.show_loss = "loss" in self.overlays
        if ("legend" in self.overlays or self.show_loss) and self.captions:
            names = QtGui.QFontMetricsF(self.name_font)
            params = QtGui.QFontMetricsF(self.param_font)
            numbers = QtGui.QFontMetricsF(self.number_font)
            self.pad = 11 * s
            self.swatch = 24 * s
            self.row_h = names.height() + (params.height() + 1 * s if self.show_params else 0) + 7 * s
            text_w = max(names.horizontalAdvance(c.name) for c in self.captions)
            if self.show_params:
                text_w = max(text_w, max(params.horizontalAdvance(c.params) for c in self.captions))
            # The loss column fits the widest number and the status words that can replace it.
            self.loss_w = max(numbers.horizontalAdvance("-0.00e-00"), names.horizontalAdvance("diverged ✕"))
            width = self.pad * 2 + self.swatch + 10 * s + text_w + ((18 * s + self.loss_w) if self.show_loss else 0)
            width = min(width, self.w - 2 * m)
            height = self.pad * 2 - 7 * s + self.row_h * len(self.captions)
            if self.show_loss:
                height += QtGui.QFontMetricsF(self.small_font).height()
            self.legend_rect = QtCore.QRectF(m, y, width, height)
        bottom = self.h - m
        self.chart_rect = None
        if "chart" in self.overlays and self.captions:
            ch = max(self.h * CHART_HEIGHT, 60.0 * s)
            self.chart_rect = QtCore.QRectF(m, bottom - ch, self.w - 2 * m, ch)
            bottom -= ch + 10 * s
        self.step_baseline = bottom - QtGui.QFontMetricsF(self.step_font).descent()
        self._chart_paths()

    def _chart_paths(self) -> None:
        """Chart coordinates per optimizer: log10 of the loss when every finite loss is positive."""
        self.chart_xy: list[np.ndarray] = []
        if self.chart_rect is None:
            return
        finite = np.concatenate([v[np.isfinite(v)] for v in self.losses] or [np.zeros(0)])
        self.chart_log = bool(finite.size) and bool((finite > 0).all())
        values = [np.log10(np.where(v > 0, v, np.nan)) if self.chart_log else v for v in self.losses]
        pooled = np.concatenate([v[np.isfinite(v)] for v in values] or [np.zeros(0)])
        lo, hi = (float(pooled.min()), float(pooled.max())) if pooled.size else (0.0, 1.0)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        r = self.chart_rect.adjusted(10 * self.s, 22 * self.s, -10 * self.s, -8 * self.s)
        steps = max(self.result.steps, 1)
        for v in values:
            x = r.left() + r.width() * np.arange(len(v)) / steps
            y = r.bottom() - r.height() * (v - lo) / (hi - lo)
            self.chart_xy.append(np.stack([x, y], axis=1))
        self.plot_rect = r

    # ---- painting (every frame) ----------------------------------------------------------------------------
    def paint(self, rgba: np.ndarray, step: float) -> None:
        if not self.overlays:
            return
        h, w = rgba.shape[:2]
        image = QtGui.QImage(rgba.data, w, h, rgba.strides[0], QtGui.QImage.Format.Format_RGBA8888_Premultiplied)
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        try:
            k_step = math.floor(min(max(step, 0.0), self.result.steps))
            if self.title_pos is not None:
                self._shadowed(painter, self.title_pos, self.title, self.title_font, TEXT)
            if self.legend_rect is not None:
                self._legend(painter, k_step)
            if self.chart_rect is not None:
                self._chart(painter, step)
            if "steps" in self.overlays:
                text = f"step {k_step:>{len(str(self.result.steps))}} / {self.result.steps}"
                self._shadowed(painter, QtCore.QPointF(self.margin, self.step_baseline), text, self.step_font, TEXT)
        finally:
            painter.end()

    def _shadowed(self, p: QtGui.QPainter, at: QtCore.QPointF, text: str, font: QtGui.QFont, color) -> None:
        # A soft dark copy under the text keeps it readable over a bright surface.
        p.setFont(font)
        p.setPen(SHADOW)
        off = max(1.0, 1.5 * self.s)
        p.drawText(at + QtCore.QPointF(off, off), text)
        p.setPen(color)
        p.drawText(at, text)

    def _panel(self, p: QtGui.QPainter, rect: QtCore.QRectF) -> None:
        p.setPen(QtGui.QPen(PANEL_EDGE, 1.0))
        p.setBrush(PANEL)
        p.drawRoundedRect(rect, 8 * self.s, 8 * self.s)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)

    def _legend(self, p: QtGui.QPainter, step: int) -> None:
        s, rect = self.s, self.legend_rect
        self._panel(p, rect)
        names, params = QtGui.QFontMetricsF(self.name_font), QtGui.QFontMetricsF(self.param_font)
        x0 = rect.left() + self.pad
        text_x = x0 + self.swatch + 10 * s
        right = rect.right() - self.pad
        y = rect.top() + self.pad
        if self.show_loss:
            small = QtGui.QFontMetricsF(self.small_font)
            p.setFont(self.small_font)
            p.setPen(MUTED)
            label = "loss" if self.result.positions.shape[1] == 1 else "median loss"
            p.drawText(QtCore.QPointF(right - small.horizontalAdvance(label), y + small.ascent()), label)
            y += small.height()
        for k, caption in enumerate(self.captions):
            base = y + names.ascent()
            color = QtGui.QColor(caption.color)
            pen = QtGui.QPen(color, max(3.0 * s, 2.0))
            pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            mid = y + names.height() / 2
            p.drawLine(QtCore.QPointF(x0 + 2 * s, mid), QtCore.QPointF(x0 + self.swatch - 2 * s, mid))
            p.setFont(self.name_font)
            p.setPen(TEXT)
            p.drawText(QtCore.QPointF(text_x, base), caption.name)
            if self.show_params and caption.params:
                p.setFont(self.param_font)
                p.setPen(MUTED)
                p.drawText(QtCore.QPointF(text_x, y + names.height() + params.ascent()), caption.params)
            if self.show_loss:
                status = status_text(self.result, k, step)
                if status == "diverged":
                    text, font, pen = "diverged ✕", self.name_font, BAD
                else:
                    text, font, pen = format_loss(float(self.losses[k][step])), self.number_font, TEXT
                    if status == "converged":
                        pen = GOOD
                p.setFont(font)
                p.setPen(pen)
                fm = QtGui.QFontMetricsF(font)
                p.drawText(QtCore.QPointF(right - fm.horizontalAdvance(text), base), text)
            y += self.row_h

    def _chart(self, p: QtGui.QPainter, step: float) -> None:
        s, rect, r = self.s, self.chart_rect, self.plot_rect
        self._panel(p, rect)
        p.setFont(self.small_font)
        p.setPen(MUTED)
        fm = QtGui.QFontMetricsF(self.small_font)
        label = "loss (log scale)" if self.chart_log else "loss"
        p.drawText(QtCore.QPointF(rect.left() + 10 * s, rect.top() + 5 * s + fm.ascent()), label)
        p.save()
        p.setClipRect(rect.adjusted(1, 1, -1, -1))
        upto = math.floor(step) + 1
        for caption, xy in zip(self.captions, self.chart_xy, strict=True):
            color = QtGui.QColor(caption.color)
            faint = QtGui.QColor(color)
            faint.setAlpha(55)
            self._polyline(p, xy, QtGui.QPen(faint, max(1.0, 1.0 * s)))
            self._polyline(p, xy[:upto], QtGui.QPen(color, max(1.5, 2.0 * s)))
        x = r.left() + r.width() * min(step / max(self.result.steps, 1), 1.0)
        p.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255, 150), max(1.0, 1.0 * s)))
        p.drawLine(QtCore.QPointF(x, rect.top() + 4 * s), QtCore.QPointF(x, rect.bottom() - 4 * s))
        p.restore()

    def _polyline(self, p: QtGui.QPainter, xy: np.ndarray, pen: QtGui.QPen) -> None:
        # NaN (diverged) points split the line; draw each finite piece.
        ok = np.isfinite(xy).all(axis=1)
        if ok.sum() < 2:
            return
        p.setPen(pen)
        # At most about two points per pixel column: a 100,000-step race draws as fast as a short one.
        stride = max(1, len(xy) // max(int(self.plot_rect.width() * 2), 1))
        breaks = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
        for seg in np.split(np.arange(len(xy)), breaks):
            if len(seg) < 2 or not ok[seg[0]]:
                continue
            pts = xy[seg][::stride]
            if seg[-1] != seg[::stride][-1]:
                pts = np.vstack([pts, xy[seg[-1]]])
            p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(float(a), float(b)) for a, b in pts]))
