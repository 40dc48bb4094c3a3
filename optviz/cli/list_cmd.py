"""`optviz list optimizers|surfaces [--json]`: the registries, with hyperparameters and defaults."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from optviz.core.jsonsafe import json_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the optimizers or surfaces, with their parameters")
    p.add_argument("what", choices=["optimizers", "surfaces"], help="which registry to list")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def optimizer_rows() -> list[dict[str, Any]]:
    from optviz.core.optimizers import REGISTRY

    return [
        {
            "name": s.name,
            "title": s.title,
            "family": s.family,
            "source": s.source,
            "description": s.description,
            "update_rule": s.update_rule,
            "step_note": s.step_note,
            "elementwise": s.elementwise,
            "fast_path": s.fast is not None,
            "needs": [n for n, on in (("closure", s.needs_closure), ("hvp", s.needs_hvp), ("2d", s.needs_2d)) if on],
            "min_numel": s.min_numel,
            "on_surfaces": s.on_surfaces,
            "unavailable_reason": s.surface_unavailable,
            "can_train": not s.training_unavailable,
            "training_unavailable_reason": s.training_unavailable,
            "preset_of": s.preset_of,
            "surface_lr": dict(s.surface_lr),
            "hyperparameters": [p.to_dict() for p in s.schema],
        }
        for s in REGISTRY.values()
    ]


def surface_rows() -> list[dict[str, Any]]:
    from optviz.core.surfaces import SURFACES

    rows = []
    for kind in SURFACES.values():
        surface = kind.make()
        rows.append(
            {
                "name": kind.name,
                "title": kind.title,
                "description": kind.description,
                "formula": kind.formula,
                "domain": [list(r) for r in surface.domain],
                "minima": [list(m) for m in surface.minima],
                "min_value": surface.min_value,
                "start": list(surface.start),
                "log_scale": surface.log_scale,
                "parameters": [p.to_dict() for p in kind.schema],
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = optimizer_rows() if args.what == "optimizers" else surface_rows()
    if args.json:
        sys.stdout.write(json_text(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    out = sys.stdout
    if args.what == "optimizers":
        for r in rows:
            where = "" if r["on_surfaces"] else f"  [not on surfaces: {r['unavailable_reason']}]"
            where += "" if r["can_train"] else f"  [cannot train models: {r['training_unavailable_reason']}]"
            out.write(f"{r['name']:<20} {r['family']:<16} {r['source']:<18} {r['description']}{where}\n")
            params = ", ".join(f"{h['name']}={h['default']}" for h in r["hyperparameters"])
            out.write(f"{'':<20} {params}\n")
    else:
        for r in rows:
            params = ", ".join(f"{h['name']}={h['default']}" for h in r["parameters"])
            out.write(f"{r['name']:<18} {r['description']}\n{'':<18} {params}\n")
    return 0
