"""Frame encoders on PyAV: MP4 (H.264), WebM (VP9), GIF (ffmpeg's palettegen + paletteuse) and PNG frames.

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
    frame against it: far better colours than a fixed or per-frame palette. The filter graph holds every
    frame until the end, so GIFs should stay small (the default GIF size is 640x360)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int, quality: str = "standard") -> None:
        self.container = av.open(str(path), "w", format="gif")
        self.stream = self.container.add_stream("gif", rate=fps)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "pal8"
        self.time_base = Fraction(1, fps)
        dither = "bayer:bayer_scale=3" if quality == "draft" else "sierra2_4a"
        graph = av.filter.Graph()
        src = graph.add_buffer(width=size[0], height=size[1], format="rgb24", time_base=self.time_base)
        split = graph.add("split")
        palettegen = graph.add("palettegen", "stats_mode=full")
        paletteuse = graph.add("paletteuse", f"dither={dither}")
        sink = graph.add("buffersink")
        src.link_to(split)
        split.link_to(palettegen, 0, 0)
        split.link_to(paletteuse, 1, 0)
        palettegen.link_to(paletteuse, 0, 1)
        paletteuse.link_to(sink)
        graph.configure()
        self.graph, self.src, self.sink = graph, src, sink
        self.count = 0
        self._closed = False

    def write(self, rgba: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba[..., :3]), format="rgb24")
        frame.pts = self.count
        frame.time_base = self.time_base
        self.count += 1
        self.src.push(frame)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.src.push(None)  # end of stream: palettegen emits the palette, paletteuse the frames
            while True:
                try:
                    frame = self.sink.pull()
                except (av.error.EOFError, av.error.BlockingIOError):
                    break
                for packet in self.stream.encode(frame):
                    self.container.mux(packet)
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()

    def abort(self) -> None:
        # Skip the palette pass: nothing of it would be kept.
        if not self._closed:
            self._closed = True
            self.container.close()


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
