"""Export speed: the full export (render + overlays + encode to a file) against rendering alone, in one run.

    python benchmarks/export.py [--frames N] [--size WxH] [--format mp4|webm|gif] [--camera static|orbit:DEG]

Both sides render the default scene's race with the default overlays at 1280x720 through the same
`ExportJob`: render-only consumes `ExportJob.frames()`, the full export runs `ExportJob.run()` (encoder on
its own thread, temporary file, rename). Goal: full export <= 1.3x the render-only time. Works with or
without a display (eglfs surfaceless or an Xvfb, as `optviz export`). Each side runs three times, alternating;
the faster of each is reported (a 2-core machine's neighbours add noise, never speed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from optviz.export.headless import ensure_gui_application


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--format", default="mp4", choices=("mp4", "webm", "gif"))
    parser.add_argument("--camera", default="static")
    parser.add_argument("--quality", default="standard")
    args = parser.parse_args()

    app = ensure_gui_application()  # noqa: F841 (kept alive while rendering)
    from OpenGL import GL
    from PySide6 import QtGui

    from optviz.core.scene import default_scene
    from optviz.export.pipeline import ExportJob
    from optviz.export.settings import ExportSettings, parse_camera, parse_size

    scene = default_scene()
    result = scene.run()
    size = parse_size(args.size)
    fps = 30
    folder = Path(tempfile.mkdtemp(prefix="optviz-bench-"))

    def job(out: Path) -> ExportJob:
        settings = ExportSettings(
            out=out,
            size=size,
            fps=fps,
            seconds=args.frames / fps,
            camera=parse_camera(args.camera),
            quality=args.quality,
            force=True,
        )
        return ExportJob(scene, settings, result=result)

    def render_only() -> float:
        t0 = time.perf_counter()
        count = sum(1 for _ in job(folder / f"unused.{args.format}").frames())
        assert count == args.frames
        return time.perf_counter() - t0

    def full_export() -> float:
        t0 = time.perf_counter()
        last = job(folder / f"race.{args.format}").run_to_end()
        assert last.phase == "done" and last.frames_done == args.frames
        return time.perf_counter() - t0

    render_only()  # warm up: shader compilation, first-use allocations
    renders, exports = [], []
    for _ in range(3):
        renders.append(render_only())
        exports.append(full_export())
    render_s, export_s = min(renders), min(exports)

    ctx = QtGui.QOpenGLContext()
    ctx.create()
    surface = QtGui.QOffscreenSurface()
    surface.setFormat(ctx.format())
    surface.create()
    ctx.makeCurrent(surface)
    renderer = GL.glGetString(GL.GL_RENDERER).decode()
    ctx.doneCurrent()

    w, h = size
    mb = (folder / f"race.{args.format}").stat().st_size / 1e6
    print(f"renderer: {renderer}; {w}x{h}, {args.frames} frames, camera {args.camera}, {args.format} {args.quality}")
    print(f"render only (scene + overlays):   {args.frames / render_s:6.1f} frames/s  ({render_s:.2f} s)")
    print(f"full export (+ encode, write):    {args.frames / export_s:6.1f} frames/s  ({export_s:.2f} s, {mb:.1f} MB)")
    ratio = export_s / render_s
    print(f"full export / render-only time:   {ratio:6.2f}x  (goal <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
