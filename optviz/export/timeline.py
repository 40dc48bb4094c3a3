"""Which race step and which camera each frame of an export shows. Pure numbers, so it is deterministic
and testable without GL.

A video ends on a short hold (a tenth of its frames, at most one second) showing the finished race, so the
result stays on screen instead of cutting away at the last step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optviz.export.settings import CameraMove, ExportSettings

FLYIN_SHARE = 0.7  # the fly-in ends when this share of the race has played
FLYIN_DISTANCE = 1.9  # start this many times farther away
FLYIN_RISE_DEG = 25.0
FLYIN_TURN_DEG = -50.0
MAX_ELEVATION = 88.0


@dataclass(frozen=True)
class Timeline:
    frames: int  # in all
    race_frames: int  # frames while the race plays; the rest hold the last step
    steps: int  # race steps
    steps_per_frame: float | None = None  # None: the race is spread over `race_frames`

    def step_at(self, frame: int) -> float:
        """The time cursor (fractional steps slide the heads between points)."""
        if self.steps_per_frame is not None:
            return min(frame * self.steps_per_frame, float(self.steps))
        if self.race_frames <= 1:
            return float(self.steps)
        return self.steps * min(frame / (self.race_frames - 1), 1.0)

    def camera_at(self, frame: int, base: dict, move: CameraMove) -> dict:
        """The camera state (as `SceneView.camera_state`) for a frame, moving from or around `base`."""
        state = dict(base)
        if move.kind == "orbit":
            t = frame / (self.frames - 1) if self.frames > 1 else 0.0
            state["azimuth"] = base["azimuth"] + move.degrees * t
        elif move.kind == "flyin":
            t = min(frame / max((self.race_frames - 1) * FLYIN_SHARE, 1.0), 1.0)
            rest = 1.0 - _smoothstep(t)  # 1 at the first frame, 0 once arrived
            state["distance"] = base["distance"] * (1.0 + (FLYIN_DISTANCE - 1.0) * rest)
            state["elevation"] = min(base["elevation"] + FLYIN_RISE_DEG * rest, MAX_ELEVATION)
            state["azimuth"] = base["azimuth"] + FLYIN_TURN_DEG * rest
        return state


def format_seconds(seconds: float | None) -> str:
    """'1:05' for progress displays; '--:--' while unknown."""
    if seconds is None:
        return "--:--"
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _smoothstep(t: float) -> float:
    return t * t * (3.0 - 2.0 * t)


def hold_frames(race_frames: int, fps: int) -> int:
    return min(fps, race_frames // 10) if race_frames >= 10 else 0


def make_timeline(settings: ExportSettings, steps: int) -> Timeline:
    """Frame count = fps x seconds (rounded) in seconds mode; in steps-per-frame mode the race sets it."""
    if settings.steps_per_frame is not None:
        race_frames = math.ceil(steps / settings.steps_per_frame) + 1
        # The hold is on top of the race here: the length follows from the steps.
        return Timeline(
            race_frames + hold_frames(race_frames, settings.fps), race_frames, steps, settings.steps_per_frame
        )
    total = max(round(settings.fps * float(settings.seconds)), 1)
    hold = min(settings.fps, total // 10) if total >= 10 else 0
    return Timeline(total, total - hold, steps)
