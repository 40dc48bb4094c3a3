"""The surface registry: every loss surface the app, the CLI and scene files can name.

`SURFACES` maps a kind's name to its `SurfaceKind` (description, closed form, parameter schema) in display
order; `get_surface` builds one with parameter overrides, which may be strings from a command line.
"""

from __future__ import annotations

from collections.abc import Mapping

from optviz.core.lookup import lookup
from optviz.core.surfaces.analytic import analytic_kinds
from optviz.core.surfaces.base import NOISE_PARAM, Domain, Point, Surface, SurfaceKind
from optviz.core.surfaces.formula import CUSTOM_KIND, Formula, FormulaSurface, parse_formula

SURFACES: dict[str, SurfaceKind] = {kind.name: kind for kind in [*analytic_kinds(), CUSTOM_KIND]}


def get_kind(name: str) -> SurfaceKind:
    """The registry entry for `name` (case and '-'/'_' are forgiven); `UnknownNameError` if there is none."""
    return lookup(SURFACES, name, "surface", normalise=_surface_key, list_command="optviz list surfaces")


def _surface_key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def get_surface(name: str, overrides: Mapping[str, object] | None = None) -> Surface:
    """Build the surface `name` with its parameters' defaults updated by `overrides`.

    Override values may be typed values or strings (from a command line or a text box), which the kind's
    schema parses and range-checks; unknown parameter names raise `UnknownNameError`.
    """
    return get_kind(name).make(overrides)


__all__ = [
    "NOISE_PARAM",
    "SURFACES",
    "Domain",
    "Formula",
    "FormulaSurface",
    "Point",
    "Surface",
    "SurfaceKind",
    "get_kind",
    "get_surface",
    "parse_formula",
]
