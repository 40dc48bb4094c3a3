"""The model zoo shared by learned surfaces and the training panel.

Models are small on purpose: a learned surface evaluates the whole data set at thousands of weight vectors, and
the training panel runs several optimizers side by side on two CPU cores. `mlp-wide` is the exception: its
weight matrices (256 x 256) are large enough that 8-bit optimizers and Adafactor keep compressed state
(they keep full fp32 state for tensors under 4,096 elements), so their memory savings show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from optviz.core.errors import OptvizError
from optviz.core.learn.datasets import Dataset
from optviz.core.lookup import lookup


class MLP(nn.Module):
    """Flatten, then Linear + ReLU blocks, then a linear classifier."""

    def __init__(self, input_dim: int, hidden: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = input_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """Two 3x3 convolutions and a linear classifier for 8x8 images (about 1,900 weights)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4x4 -> 2x2
        )
        self.classifier = nn.Linear(16 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class TinyTransformer(nn.Module):
    """One pre-norm transformer block over token + position embeddings; classifies from the last position.

    The classic setting where weight decay and the optimizer visibly matter (grokking on modular addition).
    """

    def __init__(self, vocab_size: int, seq_len: int, num_classes: int, d_model: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.positions = nn.Parameter(torch.zeros(seq_len, d_model))
        nn.init.normal_(self.positions, std=0.02)
        self.block = nn.TransformerEncoderLayer(
            d_model, heads, dim_feedforward=4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(self.tokens(x) + self.positions)
        return self.head(self.norm(h[:, -1]))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    kinds: tuple[str, ...]  # the Dataset kinds it accepts
    make: Callable[[Dataset], nn.Module]

    def build(self, dataset: Dataset, seed: int = 0) -> nn.Module:
        """A freshly initialised model for `dataset`; the same seed gives the same weights on every run."""
        if dataset.kind not in self.kinds:
            fitting = _dataset_names_of_kinds(self.kinds)
            raise OptvizError(
                f"model {self.name!r} does not fit data set {dataset.name!r} ({dataset.kind}); "
                f"use one of: {', '.join(fitting)}"
            )
        # Initialise under a forked RNG so building a model never disturbs anyone else's random stream.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self.make(dataset)
        return model.float()


def _dataset_names_of_kinds(kinds: tuple[str, ...]) -> list[str]:
    from optviz.core.learn.datasets import DATASETS

    return [name for name, info in DATASETS.items() if info.kind in kinds]


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "mlp",
            "MLP with two hidden layers of 32 ReLU units",
            ("points", "image"),
            lambda d: MLP(d.input_dim, (32, 32), d.num_classes),
        ),
        ModelSpec(
            "mlp-wide",
            "MLP with two hidden layers of 256 ReLU units (256x256 weights: big enough for 8-bit state)",
            ("points", "image"),
            lambda d: MLP(d.input_dim, (256, 256), d.num_classes),
        ),
        ModelSpec(
            "cnn",
            "two 3x3 convolutions (8, 16 channels) with max-pooling and a linear classifier",
            ("image",),
            lambda d: SmallCNN(d.input_shape[0], d.num_classes),
        ),
        ModelSpec(
            "transformer",
            "one pre-norm transformer block (d=64, 4 heads) on token sequences",
            ("tokens",),
            lambda d: TinyTransformer(d.vocab_size, d.input_shape[0], d.num_classes),
        ),
    )
}


def model_spec(name: str) -> ModelSpec:
    return lookup(MODELS, name, "model")


def loss_and_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and the fraction classified correctly (both 0-d tensors)."""
    loss = nn.functional.cross_entropy(logits, targets)
    accuracy = (logits.argmax(dim=-1) == targets).float().mean()
    return loss, accuracy
