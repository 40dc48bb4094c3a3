"""Frame encoders on PyAV: MP4 (H.264), WebM (VP9), GIF (ffmpeg's palettegen + paletteuse) and PNG frames.

None holds more than a few frames in memory, whatever the length: frames stream to the file (a GIF's to a
lossless spool first, since its palette needs every frame before the first can be written).

Each takes (height, width, 4) uint8 RGBA frames, one `write` per frame, and `close()` to flush; `abort()`
drops what was written so far. They write to the path they are given (a temporary; see `target`), with
the container format named explicitly since that path's suffix is ".part".
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from optviz.core.atomic import TEMP_NAME, temp_file_beside

#: Per quality: (H.264 crf, x264 preset, VP9 crf, VP9 speed "cpu-used", VP9 deadline)
QUALITY = {
    "draft": (28, "ultrafast", 40, "8", "realtime"),
    "standard": (20, "ultrafast", 32, "8", "realtime"),
    "high": (16, "medium", 24, "4", "good"),
}


class Encoder(ABC):
    """What every writer does: `write(rgba)` each frame, `close()` to finish the file, `abort()` to give up."""

    @abstractmethod
    def write(self, rgba: np.ndarray) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def abort(self) -> None:
        self.close_quietly()

    def interrupt(self) -> None:
        """Asked from another thread while `close()` may be running: finish early if that takes long (the
        file will be deleted). Most encoders' `close` is a short flush and ignore it."""
        return

    def close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # aborting: the file is deleted anyway
            self.close()


class VideoEncoder(Encoder):
    """H.264 in MP4 or VP9 in WebM, yuv420p (what every player plays; needs even sizes)."""

    def __init__(self, path: Path, fmt: str, size: tuple[int, int], fps: int, quality: str = "standard") -> None:
        crf, preset, vp9_crf, vp9_speed, deadline = QUALITY[quality]
        options = {"movflags": "+faststart"} if fmt == "mp4" else {}
        self.container = av.open(str(path), "w", format=fmt, options=options)
        if fmt == "mp4":
            self.stream = self.container.add_stream("libx264", rate=fps)
            self.stream.options = {"crf": str(crf), "preset": preset}
        else:
            self.stream = self.container.add_stream("libvpx-vp9", rate=fps)
            self.stream.options = {
                "crf": str(vp9_crf),
                "b": "0",  # constant quality: crf alone sets it
                "deadline": deadline,
                "cpu-used": vp9_speed,
                "row-mt": "1",
            }
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        self.time_base = Fraction(1, fps)
        self.count = 0
        self._closed = False

    def write(self, rgba: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
        frame.pts = self.count
        frame.time_base = self.time_base
        self.count += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()


class GifEncoder(Encoder):
    """One palette for the whole animation (palettegen sees every frame first), then paletteuse dithers each
    frame against it: far better colours than a fixed or per-frame palette.

    Without holding the frames (a one-graph split -> palettegen / paletteuse would keep every frame until the
    palette exists: about 0.9 MB a frame at 640x360). Two passes instead, each frame in memory only while it
    passes: `write` feeds palettegen (which keeps colour counts, not frames) and spools the frame losslessly
    (FFV1, bit-exact) to a hidden temporary beside the output; `close` takes the finished palette and streams
    the spooled frames back through paletteuse into the GIF, then deletes the spool. Same palette, same
    dithering, same GIF as the one-graph way. `frames_held` (and `most_frames_held`) count the frames in the
    dithering graph (tests)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int, quality: str = "standard") -> None:
        self.path = Path(path)
        self.size = size
        self.time_base = Fraction(1, fps)
        self.fps = fps
        self.dither = "bayer:bayer_scale=3" if quality == "draft" else "sierra2_4a"
        self.count = 0
        self.frames_held = self.most_frames_held = 0
        self._closed = False
        self._interrupted = False
        # Pass 1: the colour statistics.
        graph = av.filter.Graph()
        self._stats_src = graph.add_buffer(width=size[0], height=size[1], format="rgb24", time_base=self.time_base)
        palettegen = graph.add("palettegen", "stats_mode=full")
        self._palette_sink = graph.add("buffersink")
        self._stats_src.link_to(palettegen)
        palettegen.link_to(self._palette_sink)
        graph.configure()
        self._stats_graph = graph
        # ... and the frames, spooled beside the output under a temporary's name (a killed export's is removed).
        match = TEMP_NAME.fullmatch(self.path.name)
        self.spool = temp_file_beside(self.path.parent / (match["name"] if match else self.path.name), ".spool")
        try:
            self._spool = av.open(str(self.spool), "w", format="nut")
            self._spool_stream = self._spool.add_stream("ffv1", rate=fps)
            self._spool_stream.width, self._spool_stream.height = size
            self._spool_stream.pix_fmt = "bgr0"
        except BaseException:
            self.spool.unlink(missing_ok=True)
            raise

    def write(self, rgba: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba[..., :3]), format="rgb24")
        frame.pts = self.count
        frame.time_base = self.time_base
        self.count += 1
        self._stats_src.push(frame)
        # A pushed frame waits in the graph until its output is asked for: ask (there is none before the end),
        # so palettegen counts this frame's colours and lets it go now.
        with contextlib.suppress(av.error.BlockingIOError):
            self._palette_sink.pull()
        for packet in self._spool_stream.encode(frame):
            self._spool.mux(packet)

    def _palette(self):
        self._stats_src.push(None)  # end of stream: palettegen emits the palette
        palette = self._palette_sink.pull()
        palette.pts = 0
        palette.time_base = self.time_base
        return palette

    def _dither_graph(self, palette):
        graph = av.filter.Graph()
        w, h = self.size
        src = graph.add_buffer(width=w, height=h, format="rgb24", time_base=self.time_base)
        palette_src = graph.add_buffer(
            width=palette.width, height=palette.height, format=palette.format.name, time_base=self.time_base
        )
        paletteuse = graph.add("paletteuse", f"dither={self.dither}")
        sink = graph.add("buffersink")
        src.link_to(paletteuse, 0, 0)
        palette_src.link_to(paletteuse, 0, 1)
        paletteuse.link_to(sink)
        graph.configure()
        palette_src.push(palette)
        palette_src.push(None)  # one palette for every frame: paletteuse keeps the last one
        self._dither = graph  # kept: its filters live only as long as the graph does
        return src, sink

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._spool_stream.encode(None):
                self._spool.mux(packet)
            self._spool.close()
            src, sink = self._dither_graph(self._palette())
            with av.open(str(self.path), "w", format="gif") as out, av.open(str(self.spool), "r") as spool:
                stream = out.add_stream("gif", rate=self.fps)
                stream.width, stream.height = self.size
                stream.pix_fmt = "pal8"

                def drain() -> None:
                    while True:
                        try:
                            frame = sink.pull()
                        except (av.error.EOFError, av.error.BlockingIOError):
                            return
                        self.frames_held -= 1
                        for packet in stream.encode(frame):
                            out.mux(packet)

                for i, frame in enumerate(spool.decode(video=0)):
                    if self._interrupted:  # cancelled during the second pass: the file is thrown away
                        return
                    frame = frame.reformat(format="rgb24")
                    frame.pts = i
                    frame.time_base = self.time_base
                    src.push(frame)
                    self.frames_held += 1
                    self.most_frames_held = max(self.most_frames_held, self.frames_held)
                    drain()
                src.push(None)
                drain()
                for packet in stream.encode(None):
                    out.mux(packet)
        finally:
            with contextlib.suppress(Exception):
                self._spool.close()
            self.spool.unlink(missing_ok=True)

    def interrupt(self) -> None:
        self._interrupted = True

    def abort(self) -> None:
        # Skip the palette pass: nothing of it would be kept.
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._spool.close()
            self.spool.unlink(missing_ok=True)


class PngSequenceEncoder(Encoder):
    """Numbered PNG files (frame_00000.png, ...) in a folder: lossless frames for editing elsewhere."""

    def __init__(self, folder: Path, size: tuple[int, int]) -> None:
        self.folder = Path(folder)
        self.codec = av.CodecContext.create("png", "w")
        self.codec.width, self.codec.height = size
        self.codec.pix_fmt = "rgb24"
        self.count = 0

    def write(self, rgba: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba[..., :3]), format="rgb24")
        data = b"".join(bytes(p) for p in self.codec.encode(frame))
        (self.folder / f"frame_{self.count:05d}.png").write_bytes(data)
        self.count += 1

    def close(self) -> None:
        pass


def open_encoder(path: Path, fmt: str, size: tuple[int, int], fps: int, quality: str = "standard") -> Encoder:
    if fmt in ("mp4", "webm"):
        return VideoEncoder(path, fmt, size, fps, quality)
    if fmt == "gif":
        return GifEncoder(path, size, fps, quality)
    if fmt == "png":
        return PngSequenceEncoder(path, size)
    raise ValueError(f"unknown export format {fmt!r}")
