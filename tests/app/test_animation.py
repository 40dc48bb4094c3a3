"""Long animations: 10,000 steps of 8 optimizers play with no memory growth and no Qt warnings; and the
PySide6 pin (6.12.0 on Python 3.11 leaks a reference to None per void call, then aborts)."""

from __future__ import annotations

import gc
import os
import sys

import pytest
from PySide6 import QtCore

from tests.app.helpers import eight_optimizer_scene

STEPS = 10_000
STEPS_PER_FRAME = 250  # 40 frames a play: every trail still grows to its full 10,000 steps


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_ten_thousand_steps_of_eight_optimizers(make_window, qtbot, qtlog, qapp):
    """Two full plays: the first one reaches the high-water marks of every cache and driver buffer (the GL
    driver's vertex buffers grow with the drawn trail length, then stay); the second must not grow."""
    window = make_window(eight_optimizer_scene(STEPS), size=(1100, 750))
    model = window.model
    assert model.result.shape == (8, 1, STEPS)
    transport = window.transport

    def play() -> None:
        model.set_cursor(0)
        while model.cursor < STEPS:
            transport.advance(STEPS_PER_FRAME)
            qapp.processEvents()  # paints the view, the charts' cursors, the counter, the legend

    play()
    gl = window.view_panel.gl
    paints_before = gl.layer_stats["cached"] + gl.layer_stats["direct"] + gl.layer_stats["rebuilt"]
    gc.collect()
    rss_before = _rss_bytes()
    objects_before = len(gc.get_objects())
    play()
    gc.collect()
    rss_growth = _rss_bytes() - rss_before
    object_growth = len(gc.get_objects()) - objects_before
    paints = gl.layer_stats["cached"] + gl.layer_stats["direct"] + gl.layer_stats["rebuilt"] - paints_before
    assert paints >= STEPS // STEPS_PER_FRAME // 2, "the view did not repaint while animating"
    assert rss_growth < 8 * 2**20, f"RSS grew by {rss_growth / 2**20:.1f} MiB"
    assert object_growth < 2_000, f"{object_growth} more Python objects"
    assert window.scheduler.idle  # animation never re-races
    warnings = [r for r in qtlog.records if r.type in (QtCore.QtMsgType.QtWarningMsg, QtCore.QtMsgType.QtCriticalMsg)]
    assert not warnings, [r.message for r in warnings]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the None leak of PySide6 6.12.0 is on Python 3.11 only")
def test_pyside_does_not_leak_references_to_none(window):
    gl = window.view_panel.gl
    label = window.transport_bar.counter
    before = sys.getrefcount(None)
    for i in range(10_000):
        gl.update()
        label.setEnabled(i % 2 == 0)
    drift = sys.getrefcount(None) - before
    assert abs(drift) < 1_000, f"sys.getrefcount(None) drifted by {drift} over 20,000 void Qt calls"
