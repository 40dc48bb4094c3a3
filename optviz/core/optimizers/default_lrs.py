"""The per-surface default learning rates: `default_lrs.toml`, tuned and written by tools/tune_default_lrs.py.

The registry reads it once, at import, into each row's `surface_lr`; code asks a row through
`OptimizerSpec.default_lr(surface)`, never this file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

LR_FILE = Path(__file__).with_name("default_lrs.toml")


def read_surface_lrs() -> dict[str, dict[str, float]]:
    """{optimizer: {surface: lr}}; empty when the file has not been generated yet."""
    if not LR_FILE.exists():
        return {}
    with LR_FILE.open("rb") as f:
        return {name: dict(table) for name, table in tomllib.load(f).items()}
