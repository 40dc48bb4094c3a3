"""A disk cache of loss grids, keyed by a hash of everything that defines one.

The key covers the model (its name and the exact weights at the plane's origin), the data (the training
tensors themselves, not just the data set's name, so a changed loader can never serve stale grids), the
two directions, the grid axes, the dtype and a format number. Reopening a scene then redraws its surface
at once, with bit-identical arrays. Files are written atomically (a temporary file renamed into place), so
a crash or two processes racing never leave half a grid behind.

Location: `$OPTVIZ_CACHE_DIR` (tests set it), else the platform's user cache folder from platformdirs
(`$XDG_CACHE_HOME/optviz` or `~/.cache/optviz` on Linux, `~/Library/Caches/optviz` on macOS).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import platformdirs
import torch

from optviz.core.atomic import atomic_path
from optviz.core.errors import OptvizError
from optviz.core.learn.datasets import Dataset
from optviz.core.learn.grid import LossGrid
from optviz.core.learn.planes import Plane

CACHE_FORMAT = 1
CACHE_ENV = "OPTVIZ_CACHE_DIR"


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_cache_dir("optviz"))


def _feed(h, tensor: torch.Tensor | np.ndarray) -> None:
    array = tensor.detach().cpu().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    array = np.ascontiguousarray(array)
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())


def grid_key(
    model_name: str, dataset: Dataset, plane: Plane, xs: np.ndarray, ys: np.ndarray, dtype: torch.dtype
) -> str:
    """A hex digest of everything the grid's values depend on (see the module doc)."""
    h = hashlib.sha256()
    h.update(f"optviz-grid/{CACHE_FORMAT}/{model_name}/{dataset.name}/{dtype}".encode())
    for t in (dataset.x_train, dataset.y_train, plane.origin, plane.d1, plane.d2, xs, ys):
        _feed(h, t)
    return h.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / "landscapes" / f"{key}.npz"


def load_grid(key: str) -> LossGrid | None:
    """The cached grid, or None (missing or unreadable: a damaged file is simply recomputed)."""
    path = _path(key)
    try:
        with np.load(path) as data:
            return LossGrid(data["xs"], data["ys"], data["loss"], data["accuracy"])
    except (OSError, KeyError, ValueError):
        return None


def save_grid(key: str, grid: LossGrid) -> Path | None:
    """Store the grid atomically; returns its path, or None when the cache folder cannot be written (the
    grid is still good, it just will not be instant next time)."""
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temp, open(temp, "wb") as f:
            np.savez(f, xs=grid.xs, ys=grid.ys, loss=grid.loss, accuracy=grid.accuracy)
    except (OSError, OptvizError):  # atomic_path reports its OSErrors as OptvizError
        return None
    return path


def cached_grid_steps(
    model_name: str,
    model: torch.nn.Module,
    dataset: Dataset,
    plane: Plane,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    dtype: torch.dtype = torch.float32,
    use_cache: bool = True,
    **kwargs,
):
    """`grid_steps` behind the disk cache: a hit yields one final report at once; a completed miss is stored.
    A cancelled run stores nothing."""
    from optviz.core.learn.grid import GridProgress, grid_steps

    key = grid_key(model_name, dataset, plane, xs, ys, dtype)
    hit = load_grid(key) if use_cache else None
    if hit is not None:
        yield GridProgress(len(hit.ys), len(hit.ys), hit.loss, hit.accuracy, hit)
        return
    for progress in grid_steps(model, dataset, plane, xs, ys, dtype=dtype, **kwargs):
        if progress.grid is not None and use_cache:
            save_grid(key, progress.grid)
        yield progress
