"""Build library optimizers from our flat hyperparameters.

The registry exposes tuple arguments by their parts (`betas` -> `beta1`, `beta2`, `beta3`); this module joins
them back and imports the library lazily, so listing the registry never imports torch or its plug-ins.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from optviz.core.errors import OptvizError
from optviz.core.params import Value

# Our flat names -> (library keyword, index inside the tuple).
_TUPLE_PARTS: dict[str, tuple[str, int]] = {
    "beta1": ("betas", 0),
    "beta2": ("betas", 1),
    "beta3": ("betas", 2),
    "eta_minus": ("etas", 0),
    "eta_plus": ("etas", 1),
    "step_min": ("step_sizes", 0),
    "step_max": ("step_sizes", 1),
}


def library_kwargs(hp: Mapping[str, Value]) -> dict[str, Any]:
    """Our flat hyperparameters as the library's keyword arguments (tuples re-assembled)."""
    kwargs: dict[str, Any] = {}
    tuples: dict[str, dict[int, Value]] = {}
    for name, value in hp.items():
        if name in _TUPLE_PARTS:
            key, index = _TUPLE_PARTS[name]
            tuples.setdefault(key, {})[index] = value
        else:
            kwargs[name] = value
    for key, parts in tuples.items():
        kwargs[key] = tuple(parts[i] for i in sorted(parts))
    return kwargs


def import_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def builder(
    class_path: str,
    fixed: Mapping[str, Any] | None = None,
    translate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[..., Any]:
    """A `build(params, hp)` function for the registry.

    `fixed` adds keyword arguments the user does not tune (e.g. `foreach=False` so the for-loop path that
    our fast rules mirror is the one that runs; L-BFGS's `max_iter=1` so one call is one step), and
    `translate` adapts names where the library is irregular. A `ValueError` from the library's own
    argument checks (e.g. Nesterov without momentum) becomes a one-line `OptvizError`.

    `extra` (per call) overrides `fixed`: the training panel picks torch's implementation with it
    (`{"foreach": True}` or `{"fused": True}`), where races always keep the for-loop path.
    """

    def build(params: list[Any], hp: Mapping[str, Value], extra: Mapping[str, Any] | None = None) -> Any:
        kwargs = library_kwargs(hp)
        if translate is not None:
            kwargs = translate(kwargs)
        kwargs.update(fixed or {})
        kwargs.update(extra or {})
        cls = import_class(class_path)
        try:
            return cls(params, **kwargs)
        except ValueError as exc:
            raise OptvizError(f"{class_path.rpartition('.')[2]}: {exc}") from None

    build.class_path = class_path  # type: ignore[attr-defined]
    return build
