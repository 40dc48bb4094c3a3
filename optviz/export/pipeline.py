"""`ExportJob`: a scene (and its race) rendered offscreen frame by frame, overlaid and encoded to a file.

scene -> race (core engine, unless the app hands its result over) -> `SceneView(offscreen=True)` configured
by `apply_scene`, the same builder as the app's view -> per frame: camera and time cursor from the
`Timeline`, `render_image`, overlays -> `EncoderThread` -> temporary file -> renamed into place.

`run()` is a generator of `Progress`: the command line drives it with a progress bar, the app's dialog one
frame per event-loop turn (GL rendering stays on the thread that owns the GL objects; the encoder has its
own thread). `cancel()` (or closing the generator) stops it and removes the temporary. Frames depend only
on the scene and the settings, so the same scene gives the same frames.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from optviz.core.errors import OptvizError
from optviz.core.race.result import RaceResult
from optviz.core.scene import Scene
from optviz.export.captions import run_captions
from optviz.export.encoder_thread import EncoderThread
from optviz.export.encoders import open_encoder
from optviz.export.settings import ExportSettings
from optviz.export.target import OutputTarget, describe_os_error
from optviz.export.timeline import Timeline, make_timeline

SUPERSAMPLE = {"draft": 1, "standard": 1, "high": 2}


@dataclass(frozen=True)
class Progress:
    phase: str  # "racing", "rendering", "finishing", "done" or "cancelled"
    frames_done: int
    frames_total: int
    elapsed_s: float
    eta_s: float | None  # None until a frame has been timed
    out: Path

    @property
    def fraction(self) -> float:
        return self.frames_done / self.frames_total if self.frames_total else 0.0


class ExportJob:
    """See the module doc. `result`/`colors`: the app's race and trail colours (the race is run otherwise);
    `camera`: a full `SceneView.camera_state()` to start from (the app's "as on screen") instead of the
    scene's saved camera."""

    def __init__(
        self,
        scene: Scene,
        settings: ExportSettings,
        *,
        result: RaceResult | None = None,
        colors: Sequence[str] | None = None,
        camera: dict | None = None,
    ) -> None:
        self.scene = scene
        self.settings = settings.validate()
        self.result = result
        self.colors = list(colors) if colors is not None else scene.colors()
        self.camera = camera
        self._cancel = threading.Event()
        self._thread: EncoderThread | None = None
        self.timeline: Timeline | None = None if result is None else make_timeline(settings, result.steps)

    def cancel(self) -> None:
        """Stop at the next frame (safe from any thread; a GIF's second pass stops too); the partial file is
        removed."""
        self._cancel.set()
        thread = self._thread
        if thread is not None:
            thread.encoder.interrupt()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def ensure_race(self) -> RaceResult | None:
        """The race (run now if it was not handed over); None when cancelled while a learned race trained."""
        if self.result is None:
            if self.scene.is_learned:  # minutes of training: stop as soon as cancelled
                from optviz.core.learn.session import learned_race_steps

                steps = learned_race_steps(
                    self.scene.learned, self.scene.run_configs(), self.scene.steps, cancelled=self._cancel.is_set
                )
                result = next((p.result for p in steps if p.result is not None), None)
                if result is None:
                    return None
                self.result = result
            else:
                self.result = self.scene.run()
            self.timeline = make_timeline(self.settings, self.result.steps)
        return self.result

    def title(self) -> str:
        if self.settings.title is not None:
            return self.settings.title
        return self.scene.title or self.scene.race_surface(self.result).title or self.scene.surface

    # ---- frames ---------------------------------------------------------------------------------------------
    def frames(self) -> Iterator[np.ndarray]:
        """Every frame as (H, W, 4) uint8 RGBA, overlays included; needs a Qt GUI application with OpenGL."""
        from optviz.export.overlay import OverlayPainter
        from optviz.render import SceneView
        from optviz.render.scene_setup import apply_scene

        result = self.ensure_race()
        if result is None:
            return
        timeline = self.timeline
        settings = self.settings
        w, h = settings.size
        surface = self.scene.race_surface(result)
        overlay = OverlayPainter(
            result, run_captions(self.scene, result, self.colors), settings.overlays, self.title(), (w, h)
        )
        supersample = SUPERSAMPLE[settings.quality]
        view = SceneView(offscreen=True, size=(w, h))
        try:
            apply_scene(view, self.scene, surface, result, self.colors)
            if self.camera is not None and not self.scene.view.top_down:
                view.set_camera_state(self.camera)
            base = view.camera_state()
            moving = settings.camera.kind != "static"
            if overlay.legend_rect is not None:
                # Keep the scene clear of the legend for the whole video (a moving camera: over a sample of
                # its positions, so the lens stays put while the camera moves).
                sample = np.unique(np.linspace(0, timeline.frames - 1, min(timeline.frames, 61)).round().astype(int))
                cameras = [timeline.camera_at(int(i), base, settings.camera) for i in sample] if moving else []
                r = overlay.legend_rect
                view.set_lens(*view.lens_clear_of((r.left(), r.top(), r.right(), r.bottom()), (w, h), cameras))
            glyphs = None
            if self.scene.view.glyphs and not self.scene.is_learned:  # learned races have no library steps here
                glyphs = FrameGlyphs(self.scene, self.colors)
            for i in range(timeline.frames):
                if moving:
                    view.set_camera_state(timeline.camera_at(i, base, settings.camera))
                step = timeline.step_at(i)
                view.set_cursor(step)
                if glyphs is not None:
                    glyphs.apply(view, step, surface.domain)
                rgba = view.render_image(w, h, supersample)  # a fresh array: safe to hand to the encoder
                rgba[..., 3] = 255  # opaque: overlays paint it as premultiplied, encoders ignore alpha
                overlay.paint(rgba, step)
                yield rgba
        finally:
            view.close()

    # ---- the whole export -----------------------------------------------------------------------------------
    def run(self) -> Iterator[Progress]:
        settings = self.settings
        out = Path(settings.out)
        target = OutputTarget(out, settings.format == "png", settings.force)
        thread: EncoderThread | None = None
        start = time.monotonic()
        finished = False
        done = 0
        try:
            if self.result is None:
                yield Progress("racing", 0, 0, 0.0, None, out)
                self.ensure_race()
            if self.cancelled:
                target.discard()
                finished = True
                yield Progress("cancelled", 0, 0, time.monotonic() - start, None, out)
                return
            total = self.timeline.frames
            yield Progress("rendering", 0, total, time.monotonic() - start, None, out)
            thread = self._thread = EncoderThread(
                open_encoder(target.temp, settings.format, settings.size, settings.fps, settings.quality)
            )
            render_start = time.monotonic()
            with contextlib.closing(self.frames()) as frames:
                for frame in frames:
                    if self.cancelled:
                        break
                    thread.put(frame)
                    done += 1
                    per_frame = (time.monotonic() - render_start) / done
                    yield Progress("rendering", done, total, time.monotonic() - start, per_frame * (total - done), out)
            if self.cancelled:
                thread.abort()
                target.discard()
                finished = True
                yield Progress("cancelled", done, total, time.monotonic() - start, None, out)
                return
            yield Progress("finishing", done, total, time.monotonic() - start, 0.0, out)
            if not self.cancelled:
                thread.finish()
            if self.cancelled:  # while finishing (a GIF's palette pass takes a while): the target stays as it was
                thread.abort()
                target.discard()
                finished = True
                yield Progress("cancelled", done, total, time.monotonic() - start, None, out)
                return
            target.commit()
            finished = True
            yield Progress("done", done, total, time.monotonic() - start, 0.0, out)
        except (OSError, av.FFmpegError) as exc:
            raise describe_os_error(out, exc) from None
        finally:
            if not finished:  # an error, or the caller closed the generator (Ctrl+C, dialog closed)
                if thread is not None:
                    thread.abort()
                target.discard()

    def run_to_end(self) -> Progress:
        """Run without a progress display; returns the last progress."""
        last = None
        with contextlib.closing(self.run()) as steps:
            for progress in steps:
                last = progress
        return last


class FrameGlyphs:
    """The state glyphs of an exported race, frame by frame (the scene's view asks for them): one library
    `StepInspector` per optimizer (first start), stepped forward as the frames advance (`core/race/inspect.py`)."""

    def __init__(self, scene: Scene, colors: Sequence[str]) -> None:
        from optviz.core.race.inspect import scene_inspector

        self.scene, self.colors = scene, list(colors)
        self.inspectors = [scene_inspector(scene, k, 0) for k in range(len(scene.optimizers))]

    def apply(self, view, cursor: float, domain) -> None:
        from optviz.core.optimizers import get_optimizer
        from optviz.core.race.glyphs import step_for_cursor, step_glyphs
        from optviz.render.scene_setup import apply_glyphs

        n = step_for_cursor(cursor, self.scene.steps)
        glyphs = {}
        for k, inspector in enumerate(self.inspectors):
            try:
                record = inspector.record(n)
            except OptvizError:  # past its divergence: the head's cross says it
                continue
            glyphs[k] = step_glyphs(get_optimizer(inspector.config.optimizer), inspector.config.hyperparams, record)
        apply_glyphs(view, glyphs, self.colors, self.scene.view.glyphs, domain)
