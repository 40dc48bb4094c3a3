"""`optviz export`: render a race to MP4, WebM, GIF or a folder of PNG frames, with no display needed.

Options are checked (and the output path tested) before the race runs, so a typo costs nothing. With no
display the frames come from Qt's eglfs platform on surfaceless EGL, or from an Xvfb started for the
purpose (`optviz.export.headless`). Also `export_default_race`: what `optviz` does with no display.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from dataclasses import replace
from pathlib import Path

from optviz.cli import argtypes
from optviz.cli.outputs import refuse_special
from optviz.cli.progress import ProgressBar
from optviz.cli.race_cmd import add_race_arguments, scene_from_args
from optviz.core.errors import OptvizError
from optviz.core.scene import Scene
from optviz.export.settings import (
    CAMERA_KINDS,
    DEFAULT_OVERLAYS,
    MAX_FRAMES,
    OVERLAYS,
    QUALITIES,
    ExportSettings,
    default_fps,
    default_size,
    format_for,
    parse_camera,
    parse_overlays,
    parse_size,
)
from optviz.export.target import check_target
from optviz.export.timeline import format_seconds

DEFAULT_NAME = "optviz-race"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="render a race to a video, a GIF or PNG frames (no display needed)",
        description="Render a race offscreen to MP4 (H.264), WebM (VP9), GIF, or a folder of PNG frames. "
        "Race flags override the scene (the default scene without --scene). "
        "Example: optviz export --optimizer adam --optimizer lion --out race.mp4 --camera orbit:90",
    )
    add_race_arguments(p)
    p.add_argument("--out", required=True, metavar="FILE.mp4|FILE.webm|FILE.gif|DIR", help="output file or folder")
    p.add_argument("--size", metavar="WxH", help="frame size (default 1280x720; 640x360 for GIF)")
    p.add_argument("--fps", type=argtypes.integer, metavar="N", help="frames per second (default 30; 25 for GIF)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=argtypes.finite_float, metavar="S", help="length of the video (default 10)")
    length.add_argument(
        "--steps-per-frame",
        type=argtypes.steps_per_frame,
        metavar="N",
        help="race steps per frame instead (the length follows)",
    )
    p.add_argument(
        "--camera",
        default="static",
        metavar="|".join(k if k != "orbit" else "orbit:DEG" for k in CAMERA_KINDS),
        help="the scene's camera held still, turned DEG degrees over the video, or a slow fly-in",
    )
    p.add_argument(
        "--overlay",
        default=",".join(o for o in OVERLAYS if o in DEFAULT_OVERLAYS),
        metavar="LIST",
        help=f"comma-separated, from {','.join(OVERLAYS)}; or none (default %(default)s)",
    )
    p.add_argument("--title", metavar="TEXT", help="title overlay text (default: the scene's title)")
    p.add_argument("--quality", default="standard", choices=QUALITIES, help="encoder effort and sharpness")
    p.add_argument("--force", action="store_true", help="replace the output if it exists")
    p.set_defaults(run=run)


def settings_from_args(args: argparse.Namespace) -> ExportSettings:
    out = Path(args.out)
    fmt = format_for(out)
    return ExportSettings(
        out=out,
        size=parse_size(args.size) if args.size else default_size(fmt),
        fps=args.fps if args.fps is not None else default_fps(fmt),
        seconds=None if args.steps_per_frame is not None else (args.seconds if args.seconds is not None else 10.0),
        steps_per_frame=args.steps_per_frame,
        camera=parse_camera(args.camera),
        overlays=parse_overlays(args.overlay),
        title=args.title,
        quality=args.quality,
        force=args.force,
    ).validate()


def check_planned_frames(steps: int, steps_per_frame: float | None) -> None:
    """Refuse, before any work, a --steps-per-frame that plans more frames than an export may have."""
    if steps_per_frame is None:
        return
    frames = math.ceil(steps / steps_per_frame) + 1
    if frames > MAX_FRAMES:
        raise OptvizError(
            f"--steps-per-frame {steps_per_frame:g} with {steps} steps plans {frames:,} frames "
            f"(at most {MAX_FRAMES:,}): raise it to {steps / (MAX_FRAMES - 1):.3g} or more"
        )


def export(scene: Scene, settings: ExportSettings, label: str = "exporting") -> int:
    """Run an export with a progress bar; returns the number of frames written.

    Ctrl+C, SIGTERM or SIGHUP stop it between two frames: the temporary goes, the target keeps its old bytes,
    and `ExportInterrupted` says so in one line (`optviz.cli.main` exits with 128 + the signal's number)."""
    from optviz.export.headless import ensure_gui_application
    from optviz.export.interrupt import ExportInterrupted, stop_on_signals

    out = Path(settings.out)
    existed = out.exists() or out.is_symlink()
    with stop_on_signals() as guard:
        app = ensure_gui_application()  # noqa: F841 (kept alive while rendering)
        guard.install()  # again: Qt's eglfs platform has just put its own SIGINT and SIGTERM handlers in
        from optviz.export.pipeline import ExportJob

        job = ExportJob(scene, settings)
        guard.on_signal(job.cancel)
        bar = ProgressBar(label)
        last = None
        try:
            with contextlib.closing(job.run()) as progress:
                for last in progress:
                    if guard.interrupted and last.phase != "done":
                        break  # closing the export removes its temporary
                    if last.frames_total <= 0:
                        bar.show(0.0, f"{last.phase}…")
                    else:
                        done, total = last.frames_done, last.frames_total
                        bar.show(done / total, f"{done}/{total} frames, {format_seconds(last.eta_s)} left")
        finally:
            bar.close()
        if guard.interrupted:
            name = f"interrupted by {ExportInterrupted(guard.signum).signal_name}"
            if last is not None and last.phase == "done":  # the signal came as the file was put in place
                raise ExportInterrupted(guard.signum, f"{name} after {out} was complete")
            left = f"{out} left as it was" if existed else "nothing written"
            raise ExportInterrupted(guard.signum, f"{name}; {left}")
    return last.frames_done if last is not None else 0


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.format != "png":
        refuse_special("--out", args.out)  # never replace a device or a FIFO with a video
    check_target(settings.out, settings.format == "png", settings.force)
    scene = scene_from_args(args).require_enabled()
    check_planned_frames(scene.steps, settings.steps_per_frame)
    if settings.title is None and (args.optimizer or args.surface or args.formula) and not scene.is_learned:
        # The scene's title described its own race; flags changed the race, so name the surface instead. (A
        # learned scene's title names its model and data, which flags do not change.)
        surface = scene.build_surface()
        settings = replace(settings, title=surface.title or surface.name)
    frames = export(scene, settings)
    w, h = settings.size
    print(f"optviz: wrote {settings.out} ({frames} frames, {w}x{h}, {settings.fps} frames/s)")
    return 0


def free_name(folder: Path, stem: str = DEFAULT_NAME, suffix: str = ".mp4") -> Path:
    """`stem.mp4`, or `stem-2.mp4`, `stem-3.mp4`, ... : the first that does not exist (never overwrite)."""
    candidate = folder / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def export_default_race(scene: Scene, size: tuple[int, int] | None = None) -> Path:
    """What `optviz` does with no display: the race as an MP4 in the current folder, under a free name."""
    out = free_name(Path.cwd())
    settings = ExportSettings(out=out, size=size or default_size("mp4")).validate()
    export(scene, settings, label="rendering the race")
    return out.resolve()
