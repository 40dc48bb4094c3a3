"""Small vector icons drawn with QPainter, so they are crisp at any scale and need no image files or icon fonts
(the fonts on a bare Linux box may lack the media-control glyphs)."""

from __future__ import annotations

from functools import cache

from PySide6 import QtCore, QtGui

FOREGROUND = "#d8dde6"
_SIZE = 64


def _pen(color: str, width: float = 6.0) -> QtGui.QPen:
    pen = QtGui.QPen(QtGui.QColor(color), width)
    pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
    return pen


def _draw(name: str, p: QtGui.QPainter, color: str) -> None:
    c = QtGui.QColor(color)
    p.setBrush(c)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    if name == "play":
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(20, 12), QtCore.QPointF(52, 32), QtCore.QPointF(20, 52)]))
    elif name == "pause":
        p.drawRoundedRect(QtCore.QRectF(16, 12, 11, 40), 3, 3)
        p.drawRoundedRect(QtCore.QRectF(37, 12, 11, 40), 3, 3)
    elif name == "step":
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(14, 12), QtCore.QPointF(42, 32), QtCore.QPointF(14, 52)]))
        p.drawRoundedRect(QtCore.QRectF(43, 12, 8, 40), 3, 3)
    elif name == "restart":
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(_pen(color, 7))
        p.drawArc(QtCore.QRectF(13, 13, 38, 38), 100 * 16, 290 * 16)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(22, 4), QtCore.QPointF(38, 14), QtCore.QPointF(22, 24)]))
    elif name == "add":
        p.setPen(_pen(color, 7))
        p.drawLine(QtCore.QPointF(32, 14), QtCore.QPointF(32, 50))
        p.drawLine(QtCore.QPointF(14, 32), QtCore.QPointF(50, 32))
    elif name == "remove":
        p.setPen(_pen(color, 6))
        p.drawLine(QtCore.QPointF(19, 19), QtCore.QPointF(45, 45))
        p.drawLine(QtCore.QPointF(45, 19), QtCore.QPointF(19, 45))
    elif name == "duplicate":
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(_pen(color, 5))
        p.drawRoundedRect(QtCore.QRectF(12, 20, 28, 32), 4, 4)
        p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(24, 12), QtCore.QPointF(52, 12), QtCore.QPointF(52, 42)]))
    elif name == "reset":
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(_pen(color, 6))
        p.drawArc(QtCore.QRectF(14, 14, 36, 36), 60 * 16, 280 * 16)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(c)
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(36, 6), QtCore.QPointF(48, 18), QtCore.QPointF(32, 22)]))
    elif name == "camera":
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(_pen(color, 5))
        p.drawEllipse(QtCore.QRectF(14, 14, 36, 36))
        p.setBrush(c)
        p.drawEllipse(QtCore.QRectF(27, 27, 10, 10))
    elif name == "topdown":
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(_pen(color, 5))
        p.drawRect(QtCore.QRectF(12, 12, 40, 40))
        p.drawEllipse(QtCore.QRectF(22, 22, 20, 20))
    else:
        raise KeyError(name)


@cache
def icon(name: str, color: str = FOREGROUND) -> QtGui.QIcon:
    """A named icon (play, pause, step, restart, add, remove, duplicate, reset, camera, topdown)."""
    result = QtGui.QIcon()
    for state, tint in ((QtGui.QIcon.Mode.Normal, color), (QtGui.QIcon.Mode.Disabled, "#5a606b")):
        pixmap = QtGui.QPixmap(_SIZE, _SIZE)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        _draw(name, painter, tint)
        painter.end()
        result.addPixmap(pixmap, state)
    return result


@cache
def swatch(color: str, size: int = 14, shape: str = "dot") -> QtGui.QIcon:
    """A colour swatch: a dot (optimizer colours) or a short thick line (legend)."""
    pixmap = QtGui.QPixmap(size * 2, size * 2)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(color))
    if shape == "dot":
        painter.drawEllipse(QtCore.QRectF(4, 4, size * 2 - 8, size * 2 - 8))
    else:
        painter.drawRoundedRect(QtCore.QRectF(2, size - 3, size * 2 - 4, 6), 3, 3)
    painter.end()
    return QtGui.QIcon(pixmap)
