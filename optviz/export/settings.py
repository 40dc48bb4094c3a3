"""What an export produces: `ExportSettings`, and parsers for the text forms the command line takes.

Pure Python; every parse or check failure is an `OptvizError` whose message names the option and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from optviz.core.errors import OptvizError

VIDEO_SUFFIXES = {".mp4": "mp4", ".webm": "webm", ".gif": "gif"}
FORMATS = ("mp4", "webm", "gif", "png")  # "png": a folder of numbered PNG frames
FORMAT_TITLES = {"mp4": "MP4 (H.264)", "webm": "WebM (VP9)", "gif": "GIF", "png": "PNG sequence (folder)"}
OVERLAYS = ("legend", "steps", "loss", "title", "chart")
DEFAULT_OVERLAYS = frozenset({"legend", "steps", "loss", "title"})
QUALITIES = ("draft", "standard", "high")
CAMERA_KINDS = ("static", "orbit", "flyin")
DEFAULT_ORBIT_DEG = 90.0
MIN_SIDE, MAX_SIDE = 64, 8192
MAX_FPS = 120
MAX_FRAMES = 36_000  # 10 minutes at 60 frames/s


@dataclass(frozen=True)
class CameraMove:
    """static: the start camera throughout; orbit: turn `degrees` about the vertical axis over the video;
    flyin: start farther, higher and turned, and glide into the start camera while the race runs."""

    kind: str = "static"
    degrees: float = 0.0

    def __str__(self) -> str:
        return f"orbit:{self.degrees:g}" if self.kind == "orbit" else self.kind


@dataclass(frozen=True)
class ExportSettings:
    out: Path
    size: tuple[int, int] = (1280, 720)
    fps: int = 30
    seconds: float | None = 10.0  # the length; or None and `steps_per_frame`
    steps_per_frame: float | None = None
    camera: CameraMove = field(default_factory=CameraMove)
    overlays: frozenset[str] = DEFAULT_OVERLAYS
    title: str | None = None  # None: the scene's title, else the surface's
    quality: str = "standard"
    force: bool = False  # replace an existing file or folder

    @property
    def format(self) -> str:
        return format_for(self.out)

    def validate(self) -> ExportSettings:
        fmt = self.format
        w, h = self.size
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise OptvizError(f"--size {w}x{h} is out of range ({MIN_SIDE} to {MAX_SIDE} pixels a side)")
        if fmt in ("mp4", "webm") and (w % 2 or h % 2):
            # yuv420p stores colour at half resolution: both sides must be even.
            raise OptvizError(f"--size {w}x{h}: {FORMAT_TITLES[fmt]} needs an even width and height")
        if not 1 <= self.fps <= MAX_FPS:
            raise OptvizError(f"--fps {self.fps} is out of range (1 to {MAX_FPS})")
        if (self.seconds is None) == (self.steps_per_frame is None):
            raise OptvizError("give the length either in seconds or in steps per frame")
        if self.seconds is not None and not (self.seconds > 0 and self.seconds * self.fps <= MAX_FRAMES):
            raise OptvizError(f"--seconds {self.seconds:g} is out of range (more than 0, at most {MAX_FRAMES} frames)")
        if self.steps_per_frame is not None and not self.steps_per_frame > 0:
            raise OptvizError(f"--steps-per-frame {self.steps_per_frame:g} must be more than 0")
        unknown = set(self.overlays) - set(OVERLAYS)
        if unknown:
            raise OptvizError(f"unknown overlay {sorted(unknown)[0]!r} (valid: {', '.join(OVERLAYS)}, or none)")
        if self.quality not in QUALITIES:
            raise OptvizError(f"unknown quality {self.quality!r} (valid: {', '.join(QUALITIES)})")
        return self


def format_for(out: Path | str) -> str:
    """The format a path asks for: by suffix, or a folder (no suffix, or an existing folder) of PNG frames."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return VIDEO_SUFFIXES[suffix]
    if not suffix or path.is_dir() or str(out).endswith(("/", "\\")):
        return "png"
    raise OptvizError(
        f"--out {out}: unknown format {suffix!r} (use .mp4, .webm or .gif, or a folder name for PNG frames)"
    )


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720)."""
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise OptvizError(f"--size {text!r} must look like WIDTHxHEIGHT, e.g. 1280x720") from None
    return w, h


def parse_camera(text: str) -> CameraMove:
    """'static', 'orbit' (90 degrees), 'orbit:DEG' or 'flyin' (also 'fly-in')."""
    kind, _, arg = text.strip().lower().partition(":")
    kind = kind.replace("-", "").replace("_", "")
    if kind == "orbit":
        try:
            degrees = float(arg) if arg else DEFAULT_ORBIT_DEG
        except ValueError:
            raise OptvizError(f"--camera {text!r}: orbit takes degrees, e.g. orbit:90") from None
        if not math.isfinite(degrees) or abs(degrees) > 3600:
            raise OptvizError(f"--camera {text!r}: degrees must be between -3600 and 3600")
        return CameraMove("orbit", degrees)
    if kind in ("static", "flyin") and not arg:
        return CameraMove(kind)
    raise OptvizError(f"--camera {text!r}: use static, orbit:DEGREES or flyin")


def parse_overlays(text: str) -> frozenset[str]:
    """'legend,steps' -> that set; 'none' or '' -> no overlays."""
    names = {n.strip().lower() for n in text.split(",") if n.strip()}
    if names <= {"none"}:
        return frozenset()
    unknown = names - set(OVERLAYS)
    if unknown:
        raise OptvizError(f"--overlay: unknown overlay {sorted(unknown)[0]!r} (valid: {', '.join(OVERLAYS)}, none)")
    return frozenset(names)


def default_size(fmt: str) -> tuple[int, int]:
    # GIFs are shared small (and every pixel costs a 256-colour palette lookup): half of 720p.
    return (640, 360) if fmt == "gif" else (1280, 720)


def default_fps(fmt: str) -> int:
    # GIF frame delays are whole hundredths of a second: 25 frames/s is exact, 30 is not.
    return 25 if fmt == "gif" else 30
