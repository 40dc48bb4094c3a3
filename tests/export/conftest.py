"""Fixtures for export tests: a short two-optimizer race in colours the viridis surface never shows, small
frames, and helpers that decode files back with PyAV. GL runs under the Xvfb that pytest-xvfb starts."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from optviz.core.scene import OptimizerEntry, Scene

SIZE = (320, 180)
FPS = 8
SECONDS = 1.5
RED, MAGENTA = "#ff2020", "#ff00ff"
BG = np.array([0x15, 0x17, 0x1C])


@pytest.fixture
def race_scene() -> Scene:
    return Scene(
        surface="rosenbrock",
        optimizers=[
            OptimizerEntry("adam", {"lr": 0.05}, color=RED),
            OptimizerEntry("momentum", color=MAGENTA),
        ],
        steps=60,
        title="Export test",
    ).validate()


def settings(out: Path, **kw):
    from optviz.export.settings import ExportSettings

    base = {"size": SIZE, "fps": FPS, "seconds": SECONDS, "overlays": frozenset()}
    return ExportSettings(out=Path(out), **(base | kw))


def decode(path: Path) -> list[np.ndarray]:
    """Every frame of a video or GIF, or every PNG of a folder in order, as (H, W, 3) uint8."""
    path = Path(path)
    files = sorted(path.glob("*.png")) if path.is_dir() else [path]
    frames = []
    for file in files:
        with av.open(str(file)) as container:
            frames.extend(f.to_ndarray(format="rgb24") for f in container.decode(video=0))
    return frames


def near(image: np.ndarray, hex_color: str, tol: float = 70.0) -> np.ndarray:
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], float)
    return np.sqrt(((image[..., :3].astype(float) - rgb) ** 2).sum(-1)) < tol


def covered(image: np.ndarray) -> float:
    return float((np.abs(image[..., :3].astype(int) - BG).sum(-1) > 24).mean())
