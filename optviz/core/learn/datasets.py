"""Data sets that load with no network: generated 2-D point sets, the 8x8 digits, and modular addition.

Every loader is deterministic for a seed and returns a fixed train/validation split, so two runs (or two
optimizers in one race) see exactly the same data.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from optviz.core.errors import ValueOutOfRangeError
from optviz.core.lookup import lookup
from optviz.resources import assets_dir

VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Dataset:
    """A classification data set, already split. `kind` says what a model must accept:
    "points" (float vectors), "image" (float, shape `input_shape` = (channels, h, w)) or "tokens" (long)."""

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    num_classes: int
    input_shape: tuple[int, ...]
    vocab_size: int = 0  # tokens only

    @property
    def input_dim(self) -> int:
        return int(np.prod(self.input_shape))


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: str
    description: str
    make: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _moons(rng: np.random.Generator, n: int = 512, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t0, t1 = rng.uniform(0, np.pi, half), rng.uniform(0, np.pi, n - half)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(half), np.ones(n - half)])
    return x - x.mean(axis=0), y


def _circles(rng: np.random.Generator, n: int = 512, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(np.arange(n) < half, 1.0, 0.5)
    x = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1) + rng.normal(0.0, noise, (n, 2))
    return x, (np.arange(n) >= half).astype(float)


def _spirals(rng: np.random.Generator, n: int = 600, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3.0 * np.pi  # sqrt: even density along the arm
    sign = np.where(np.arange(n) < half, 1.0, -1.0)
    x = sign[:, None] * np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    return x + rng.normal(0.0, noise, (n, 2)), (np.arange(n) >= half).astype(float)


def _xor(rng: np.random.Generator, n: int = 512, spread: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = rng.integers(0, 4, n)
    x = centres[which] + rng.normal(0.0, spread, (n, 2))
    return x, (which >= 2).astype(float)


def _digits(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    path = assets_dir() / "data" / "digits" / "digits.csv.gz"
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    # Pixels are block counts 0..16; scale to [0, 1] so default learning rates behave as on the 2-D sets.
    return table[:, :-1] / 16.0, table[:, -1]


MODULUS = 23


def _modular_addition(rng: np.random.Generator, p: int = MODULUS) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    pairs = np.stack([a.ravel(), b.ravel()], axis=1)
    return pairs, (pairs.sum(axis=1) % p).astype(float)


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("moons", "points", "two interleaved half-moons, 512 noisy 2-D points", _moons),
        DatasetInfo("circles", "points", "a small circle inside a large one, 512 noisy 2-D points", _circles),
        DatasetInfo("spirals", "points", "two interleaved spirals, 600 noisy 2-D points", _spirals),
        DatasetInfo("xor", "points", "four Gaussian blobs labelled by XOR of their quadrant, 512 points", _xor),
        DatasetInfo("digits", "image", "8x8 handwritten digits, 1,797 images, 10 classes (UCI, CC BY 4.0)", _digits),
        DatasetInfo(
            "modadd",
            "tokens",
            f"modular addition: (a, b) -> (a + b) mod {MODULUS}, all {MODULUS**2} pairs as two tokens",
            _modular_addition,
        ),
    )
}

_SHAPES = {"points": (2,), "image": (1, 8, 8), "tokens": (2,)}


def dataset_info(name: str) -> DatasetInfo:
    return lookup(DATASETS, name, "data set")


def load_dataset(name: str, seed: int = 0, val_fraction: float = VAL_FRACTION) -> Dataset:
    """The data set `name`, generated (or read) and split with `seed`; deterministic on every machine."""
    info = dataset_info(name)
    if not 0.0 < val_fraction < 1.0:
        raise ValueOutOfRangeError(f"validation fraction must be between 0 and 1, got {val_fraction}")
    rng = np.random.default_rng(seed)
    x, y = info.make(rng)
    order = rng.permutation(len(x))
    n_val = max(1, round(len(x) * val_fraction))
    val, train = order[:n_val], order[n_val:]
    shape = _SHAPES[info.kind]
    if info.kind == "tokens":
        xt = torch.as_tensor(x, dtype=torch.long)
        vocab = int(x.max()) + 1
    else:
        xt = torch.as_tensor(x, dtype=torch.float32).reshape(len(x), *shape)
        vocab = 0
    yt = torch.as_tensor(y, dtype=torch.long)
    return Dataset(
        name=name,
        kind=info.kind,
        x_train=xt[train],
        y_train=yt[train],
        x_val=xt[val],
        y_val=yt[val],
        num_classes=int(y.max()) + 1,
        input_shape=shape,
        vocab_size=vocab,
    )
