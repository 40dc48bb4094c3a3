"""The optimizer registry (see `table.py`): look-ups by name, with per-surface default learning rates
(`default_lrs.py`)."""

from __future__ import annotations

from dataclasses import replace

from optviz.core.errors import UnknownNameError
from optviz.core.optimizers.default_lrs import read_surface_lrs
from optviz.core.optimizers.spec import FastRule, OptimizerSpec
from optviz.core.optimizers.table import OPTIMIZERS, with_fast_rules

__all__ = ["REGISTRY", "FastRule", "OptimizerSpec", "get_optimizer", "optimizer_names", "surface_optimizers"]


def _build_registry() -> dict[str, OptimizerSpec]:
    try:
        from optviz.core.optimizers.fast_rules import FAST_RULES
    except ImportError:  # fast rules are an accelerator, never a requirement
        FAST_RULES = {}
    lrs = read_surface_lrs()
    specs = with_fast_rules(OPTIMIZERS, FAST_RULES)
    return {s.name: replace(s, surface_lr=lrs.get(s.name, {})) for s in specs}


REGISTRY: dict[str, OptimizerSpec] = _build_registry()


def optimizer_names() -> list[str]:
    return list(REGISTRY)


def surface_optimizers() -> list[OptimizerSpec]:
    """The optimizers that can race on a 2-parameter surface."""
    return [s for s in REGISTRY.values() if s.on_surfaces]


def get_optimizer(name: str) -> OptimizerSpec:
    try:
        return REGISTRY[name.strip().lower()]
    except KeyError:
        raise UnknownNameError(f"unknown optimizer {name!r} (run `optviz list optimizers` for the choices)") from None
