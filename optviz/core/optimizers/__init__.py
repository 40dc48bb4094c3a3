"""The optimizer registry (see `table.py`): look-ups by name, with per-surface default learning rates."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from optviz.core.lookup import lookup
from optviz.core.optimizers.spec import FastRule, OptimizerSpec
from optviz.core.optimizers.table import OPTIMIZERS, with_fast_rules

__all__ = ["REGISTRY", "FastRule", "OptimizerSpec", "get_optimizer", "optimizer_names", "surface_optimizers"]

_LR_FILE = Path(__file__).with_name("default_lrs.toml")


def _load_surface_lrs() -> dict[str, dict[str, float]]:
    """{optimizer: {surface: lr}} tuned by tools/tune_default_lrs.py; empty when not generated yet."""
    if not _LR_FILE.exists():
        return {}
    with _LR_FILE.open("rb") as f:
        return {name: dict(table) for name, table in tomllib.load(f).items()}


def _build_registry() -> dict[str, OptimizerSpec]:
    try:
        from optviz.core.optimizers.fast_rules import FAST_RULES
    except ImportError:  # fast rules are an accelerator, never a requirement
        FAST_RULES = {}
    lrs = _load_surface_lrs()
    specs = with_fast_rules(OPTIMIZERS, FAST_RULES)
    return {s.name: replace(s, surface_lr=lrs.get(s.name, {})) for s in specs}


REGISTRY: dict[str, OptimizerSpec] = _build_registry()


def optimizer_names() -> list[str]:
    return list(REGISTRY)


def surface_optimizers() -> list[OptimizerSpec]:
    """The optimizers that can race on a 2-parameter surface."""
    return [s for s in REGISTRY.values() if s.on_surfaces]


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for `name` (case and surrounding spaces are forgiven); `UnknownNameError` if none."""
    return lookup(
        REGISTRY, name, "optimizer", normalise=lambda n: n.strip().lower(), list_command="optviz list optimizers"
    )
