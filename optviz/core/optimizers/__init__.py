"""The optimizer registry: one row per optimizer (see `table.py`), looked up by name.

A row (`OptimizerSpec`) carries everything about its optimizer: the library builder, its fast rule's factory
(`fast_rules/`), its per-surface default learning rates (`default_lrs.toml`) and step notes (`step_notes.py`),
both joined in here at import, and its state-bytes rule. Code asks the row: `spec.fast(hp)`,
`spec.default_lr(surface)`, `spec.state_bytes(hp)`.
"""

from __future__ import annotations

from dataclasses import replace

from optviz.core.lookup import lookup
from optviz.core.optimizers.default_lrs import read_surface_lrs
from optviz.core.optimizers.spec import FastRule, OptimizerSpec, PairRule
from optviz.core.optimizers.step_notes import STEP_NOTES
from optviz.core.optimizers.table import OPTIMIZERS

__all__ = ["REGISTRY", "FastRule", "OptimizerSpec", "PairRule", "get_optimizer", "surface_optimizers"]


def _build_registry() -> dict[str, OptimizerSpec]:
    lrs = read_surface_lrs()
    return {
        s.name: replace(s, surface_lr=lrs.get(s.name, {}), step_note=STEP_NOTES.get(s.name, "")) for s in OPTIMIZERS
    }


REGISTRY: dict[str, OptimizerSpec] = _build_registry()


def surface_optimizers() -> list[OptimizerSpec]:
    """The optimizers that can race on a 2-parameter surface."""
    return [s for s in REGISTRY.values() if s.on_surfaces]


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for `name` (case and surrounding spaces are forgiven); `UnknownNameError` if none."""
    return lookup(
        REGISTRY, name, "optimizer", normalise=lambda n: n.strip().lower(), list_command="optviz list optimizers"
    )
