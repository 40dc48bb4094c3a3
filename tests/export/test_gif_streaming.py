"""GIF export streams its frames (optviz.export.encoders.GifEncoder): memory does not grow with the number of
frames, the lossless spool it reads back is gone afterwards, and the frames come out as written."""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest

from optviz.export.encoders import GifEncoder

#: Peak memory of one process writing FRAMES frames at 640x360 (the default GIF size), printed in MB.
PEAK = """
import resource, sys
from pathlib import Path
import numpy as np
from optviz.export.encoders import GifEncoder
w, h = 640, 360
y, x = np.mgrid[0:h, 0:w]
frame = np.zeros((h, w, 4), np.uint8)
frame[..., 3] = 255
encoder = GifEncoder(Path(sys.argv[2]), (w, h), 25)
for i in range(int(sys.argv[1])):
    frame[..., 0] = (x // 8 + i) % 256
    frame[..., 1] = (y // 8 * 4 + i) % 256
    encoder.write(frame)
encoder.close()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def frames_of(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def moving_frames(count: int, size=(96, 64)) -> list[np.ndarray]:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(count):
        rgba = np.full((h, w, 4), 255, np.uint8)
        rgba[..., 0] = (x * 4 + i * 8) % 256
        rgba[..., 1] = y * 4 % 256
        rgba[..., 2] = np.where((x - i) % 32 < 8, 200, 30)
        frames.append(rgba)
    return frames


def test_frames_are_not_held_and_the_spool_goes(tmp_path):
    out = tmp_path / "race.gif"
    encoder = GifEncoder(out, (96, 64), 25)
    assert encoder.spool.parent == tmp_path and encoder.spool.name.startswith(".race.gif.optviz-")
    frames = moving_frames(40)
    for rgba in frames:
        encoder.write(rgba)
    encoder.close()
    assert encoder.most_frames_held <= 2  # each frame leaves the dithering graph as soon as it entered
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]
    decoded = frames_of(out)
    assert len(decoded) == 40
    # 256 colours, dithered: each frame close to what was written, and the motion kept.
    for rgba, gif in zip(frames, decoded, strict=True):
        assert np.abs(gif.astype(int) - rgba[..., :3]).mean() < 12
    assert np.abs(decoded[0].astype(int) - decoded[-1]).mean() > 20


def test_abort_removes_the_spool(tmp_path):
    encoder = GifEncoder(tmp_path / "race.gif", (96, 64), 25)
    for rgba in moving_frames(5):
        encoder.write(rgba)
    encoder.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is in kB on Linux only")
def test_memory_does_not_grow_with_the_number_of_frames(tmp_path):
    def peak_mb(frames: int) -> int:
        proc = subprocess.run(
            [sys.executable, "-c", PEAK, str(frames), str(tmp_path / f"{frames}.gif")],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(proc.stdout)

    few, many = peak_mb(20), peak_mb(200)
    # Holding the frames would take 180 x 0.9 MB more for the longer one; streaming, about nothing.
    assert many - few < 50, (few, many)
    assert len(frames_of(tmp_path / "200.gif")) == 200
