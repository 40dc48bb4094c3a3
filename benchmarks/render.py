"""Frame time of optviz's scene against pyqtgraph's stock surface, side by side in one run.

Both render offscreen at 1280x720 through the same FBO + readback path (`optviz.render.view.render_view`):

- optviz: `SceneView` with a 256x256 surface (custom shaders, indexed mesh, height texture, normals on the
  GPU, contours, walls, floor, axes) plus 8 trails of 1000 steps with heads and start markers.
- stock: pyqtgraph's `GLSurfacePlotItem(shader="heightColor", computeNormals=True)` on the same 256x256 grid.

Three scenarios, each timed with the two renderers interleaved frame by frame (so a busy machine slows both):

- playback: the time cursor advances every frame, camera still (playing a race, exporting a video). optviz
  reuses its cached static layer (surface, axes, markers) and draws only trails and heads;
- orbit: the camera turns one degree per frame, so everything is drawn every frame. Reported twice:
  "orbit, interactive" is what a mouse orbit draws on screen, where the view uses its interactive level of
  detail while the camera moves (`motion_lod`: a quarter of the surface's triangles, see
  optviz.render.view); "orbit, full quality" draws every moving frame at full detail (`motion_lod` off,
  what a video export of an orbiting camera renders). The stock item has no level of detail: its frames
  are the same in both rows;
- still after motion: the first frame with the camera stopped, after an interactive orbit frame: full
  quality again (the frame a user looks at once the mouse stops), timed alone;
- surface update: new grid values every frame (dragging a surface parameter); the stock item recomputes
  its normals with MeshData, optviz uploads a height texture and lights on the GPU.

Run under a display (Xvfb is fine):

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/render.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PySide6 import QtCore, QtWidgets

SIZE = (1280, 720)
N = 256


class _Bumpy:
    """A Rosenbrock-like test surface with a parameter, so updates change the grid."""

    domain = ((-2.0, 2.0), (-1.0, 3.0))
    minima = ((1.0, 1.0),)
    min_value = 0.0
    log_scale = True

    def __init__(self, b: float = 100.0):
        self.b = b

    def grid(self, n: int):
        xs = np.linspace(-2.0, 2.0, n)
        ys = np.linspace(-1.0, 3.0, n)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, (1 - X) ** 2 + self.b * (Y - X * X) ** 2


def _trails(k: int = 8, steps: int = 1000) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(k):
        start = rng.uniform([-1.8, -0.8], [1.8, 2.8])
        t = np.linspace(0.0, 1.0, steps + 1)[:, None]
        wobble = 0.15 * np.sin(t * rng.uniform(10, 60)) * (1 - t)
        out.append(start * (1 - t) + np.array([1.0, 1.0]) * t + wobble)
    return out


def _time_pair(a, b, frames: int) -> tuple[float, float]:
    """Median seconds per frame of a and b, called alternately (two warm-up frames each). A function that
    returns a number times itself (seconds; for frames that need untimed set-up)."""
    for i in (0, 1):
        a(i)
        b(i)
    ta, tb = [], []
    for i in range(2, frames + 2):
        t0 = time.perf_counter()
        ra = a(i)
        t1 = time.perf_counter()
        rb = b(i)
        t2 = time.perf_counter()
        ta.append(ra if isinstance(ra, float) else t1 - t0)
        tb.append(rb if isinstance(rb, float) else t2 - t1)
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()

    QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])  # noqa: F841 - keeps Qt alive
    import pyqtgraph.opengl as gl

    from optviz.render import SceneView
    from optviz.render.view import OffscreenGLView, render_view

    ours = SceneView(offscreen=True, size=SIZE)
    ours.set_surface(_Bumpy(), resolution=N)
    ours.set_trails(_trails())

    stock_view = OffscreenGLView(SIZE)
    stock_view.setBackgroundColor("#15171c")
    xs, ys, z = _Bumpy().grid(N)
    zd = np.log10(z - z.min() + 0.25)
    stock = gl.GLSurfacePlotItem(x=xs, y=ys, z=zd.T, shader="heightColor", computeNormals=True, smooth=True)
    stock.scale(1.0, 1.0, 0.3)
    stock_view.addItem(stock)
    stock_view.setCameraPosition(distance=9.0, elevation=42, azimuth=-60)

    def ours_playback(i: int) -> None:
        ours.set_cursor((i * 37) % 1000)
        ours.render_image(*SIZE)

    def stock_playback(i: int) -> None:
        render_view(stock_view, *SIZE)

    def ours_orbit(i: int) -> None:
        ours.view.motion_lod = True
        ours.set_cursor(None)
        ours.orbit(1.0)
        ours.render_image(*SIZE)

    def ours_orbit_full(i: int) -> None:
        ours.view.motion_lod = False
        ours.set_cursor(None)
        ours.orbit(1.0)
        ours.render_image(*SIZE)

    def ours_still_after_motion(i: int) -> float:
        ours.view.motion_lod = True
        ours.set_cursor(None)
        ours.orbit(1.0)
        ours.render_image(*SIZE)  # an interactive frame (untimed)
        t0 = time.perf_counter()
        ours.render_image(*SIZE)  # camera stopped: full quality
        return time.perf_counter() - t0

    def stock_orbit(i: int) -> None:
        stock_view.orbit(1.0, 0.0)
        render_view(stock_view, *SIZE)

    def ours_update(i: int) -> None:
        ours.view.motion_lod = False
        ours.set_surface(_Bumpy(100.0 + i), resolution=N)
        ours.render_image(*SIZE)

    def stock_update(i: int) -> None:
        _, _, zi = _Bumpy(100.0 + i).grid(N)
        stock.setData(z=np.log10(zi - zi.min() + 0.25).T)
        render_view(stock_view, *SIZE)

    scenarios = (
        ("playback", ours_playback, stock_playback),
        ("orbit, interactive", ours_orbit, stock_orbit),
        ("orbit, full quality", ours_orbit_full, stock_orbit),
        ("still after motion", ours_still_after_motion, stock_orbit),
        ("surface update", ours_update, stock_update),
    )
    rows = []
    for name, a, b in scenarios:
        t_ours, t_stock = _time_pair(a, b, args.frames)
        rows.append((name, t_ours * 1e3, t_stock * 1e3, t_ours / t_stock))

    print(f"1280x720 offscreen, {N}x{N} surface, readback included, median of {args.frames} frames")
    print(f"{'scenario':<22}{'optviz (ms)':>14}{'stock (ms)':>14}{'ratio':>9}")
    for name, a, b, r in rows:
        print(f"{name:<22}{a:>14.1f}{b:>14.1f}{r:>8.2f}x")
    print("orbit, interactive: the moving frames at the view's interactive level of detail (on screen);")
    print("orbit, full quality: every moving frame at full detail; still after motion: the full-quality frame")
    print("drawn once the camera stops (stock: an orbit frame)")
    print("optviz: surface + contours + walls + floor + axes + 8 trails x 1000 steps + markers")
    print("stock:  GLSurfacePlotItem(shader='heightColor', computeNormals=True, smooth=True), nothing else")
    print(f"optviz static layer: {ours.view.layer_stats}")
    ours.close()
    stock_view.close()


if __name__ == "__main__":
    main()
