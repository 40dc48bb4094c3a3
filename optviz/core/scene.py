"""Scenes: the recipe of a race (not its results), as TOML files with a format name and version.

A scene names the surface and its parameters, the start points, the optimizers with the hyperparameters the
user set (everything else is the registry's default for that surface) and their colours, the number of
steps, the seed and the view options. Loading validates every key and names the bad one with its line;
saving is atomic (a temporary file renamed over the target), so a crash never leaves half a scene.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from optviz.core.atomic import atomic_write_text
from optviz.core.errors import OptvizError, SceneError, echo
from optviz.core.learn.recipe import LearnedRecipe
from optviz.core.optimizers import get_optimizer
from optviz.core.palette import COLORMAPS, assign_colors
from optviz.core.params import Value, check_seed
from optviz.core.race.clip import Clip
from optviz.core.race.engine import DEFAULT_TOLERANCE, run_race
from optviz.core.race.lr_schedule import SCHEDULE_KINDS, LrSchedule
from optviz.core.race.perturb import KINDS, SCHEMAS, Perturbation
from optviz.core.race.result import RaceResult, RunConfig
from optviz.core.race.starts import MAX_GRID, grid_starts
from optviz.core.surfaces import get_surface
from optviz.core.surfaces.base import Surface
from optviz.core.surfaces.defined import defined_at, undefined_start_message

FORMAT = "optviz-scene"
#: Still 1: the optional [learned] section (a learned surface) is an addition, so every version-1 file reads
#: as before. An older optviz rejects a file with it as an unknown key, naming the key and its line.
VERSION = 1
#: `Scene.surface` of a scene whose surface is learned from a model (the recipe is `Scene.learned`).
LEARNED = "learned"
MAX_STEPS = 100_000
#: Scene files are a few kB; a larger one is refused before parsing (TOML parsers need memory and time far
#: beyond a file's size for some inputs: 40 kB of dotted keys took 1.6 GB inside tomllib).
MAX_SCENE_BYTES = 1_000_000
#: The camera's distance from the scene's centre, in the view's units (the surface spans about 2).
CAMERA_DISTANCE = (0.1, 1000.0)

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass
class OptimizerEntry:
    name: str
    hyperparams: dict[str, Value] = field(default_factory=dict)  # only what the user set
    label: str = ""
    color: str = ""
    enabled: bool = True
    clip: Clip | None = None  # gradient clipping of this optimizer (None: off)
    schedule: LrSchedule | None = None  # its learning-rate schedule (None: constant)


def run_config(entry: OptimizerEntry, surface: str | None) -> RunConfig:
    """The one place hyperparameters are resolved: the registry's defaults with `surface`'s learning rate (the
    schema's default on surfaces without one, learned ones included), updated with the entry's validated values.
    Raises `OptvizError` naming a bad value."""
    spec = get_optimizer(entry.name)
    if entry.schedule is not None and "lr" not in spec.schema.names:
        raise SceneError(f"{spec.name} has no learning rate to schedule")
    return RunConfig(entry.name, spec.resolve(entry.hyperparams, surface), entry.label, entry.clip, entry.schedule)


def resolve_configs(entries: Sequence[tuple[str, Mapping[str, Value]]]) -> list[RunConfig]:
    """RunConfigs from (optimizer, overrides) off any surface (a learned race: the per-surface learning rates
    are tuned for the analytic surfaces, not for networks)."""
    return [run_config(OptimizerEntry(name, dict(hp)), None) for name, hp in entries]


@dataclass
class Camera:
    distance: float = 4.2
    elevation: float = 32.0
    azimuth: float = -60.0

    def validate(self) -> None:
        lo, hi = CAMERA_DISTANCE
        if not lo <= self.distance <= hi:  # also false for NaN
            raise SceneError(f"camera distance={self.distance} is out of range ({lo:g} to {hi:g})")
        if not -90.0 <= self.elevation <= 90.0:
            raise SceneError(f"camera elevation={self.elevation} is out of range (-90 to 90 degrees)")
        if not math.isfinite(self.azimuth):
            raise SceneError(f"camera azimuth={self.azimuth} must be a finite number of degrees")


@dataclass
class ViewOptions:
    log_scale: bool | None = None  # None: the surface's own default
    colormap: str = "viridis"
    top_down: bool = False
    camera: Camera = field(default_factory=Camera)
    #: Colour the surface by what one optimizer does from each start: "off", "minima" (which known minimum
    #: it reaches, diverged, or not converged) or "steps" (steps to the tolerance).
    basins: str = "off"
    basins_optimizer: int = 0  # index into the scene's optimizers
    basins_grid: int = 128  # starts per side of the basins grid
    #: State glyphs drawn at the heads (`optviz.core.race.glyphs`): any of `GLYPH_KINDS`.
    glyphs: list[str] = field(default_factory=list)


#: What `ViewOptions.glyphs` may hold: the gradient, the update, the momentum, the per-coordinate scaling.
GLYPH_KINDS = ("gradient", "update", "momentum", "scaling")

#: What `ViewOptions.basins` may be.
BASIN_MODES = ("off", "minima", "steps")
#: The largest basins grid per side (256 x 256 starts).
MAX_BASINS_GRID = 256


@dataclass
class Scene:
    surface: str = "rosenbrock"
    surface_params: dict[str, Value] = field(default_factory=dict)
    optimizers: list[OptimizerEntry] = field(default_factory=list)
    starts: list[tuple[float, float]] = field(default_factory=list)  # empty: the surface's suggested start
    grid: tuple[int, int] | None = None  # starts on an nx x ny grid over the domain, instead of `starts`
    steps: int = 500
    seed: int = 0
    tolerance: float = DEFAULT_TOLERANCE
    title: str = ""
    view: ViewOptions = field(default_factory=ViewOptions)
    learned: LearnedRecipe | None = None  # set (with surface = LEARNED) for a learned surface
    #: A gradient pathology every optimizer of the race sees (`core/race/perturb.py`); None: none.
    perturbation: Perturbation | None = None

    @property
    def is_learned(self) -> bool:
        return self.learned is not None

    # --- what the race engine needs ------------------------------------------------------------------
    def build_surface(self) -> Surface:
        if self.is_learned:
            # A learned surface is computed (trained, gridded) by its race, not built from a name: see
            # `run` and `race_surface`.
            raise OptvizError("a learned surface is computed by training: run its race first")
        return get_surface(self.surface, self.surface_params)

    def race_surface(self, result: RaceResult | None = None) -> Surface:
        """The surface `result` is drawn on: a learned race carries its own (the computed grid); otherwise
        the scene's surface."""
        if result is not None and result.surface is not None:
            return result.surface
        return self.build_surface()

    def start_points(self, surface: Surface) -> np.ndarray:
        if self.grid is not None:
            return grid_starts(surface.domain, *self.grid)
        if self.starts:
            return np.asarray(self.starts, dtype=np.float64)
        return np.asarray([surface.start], dtype=np.float64)

    def run_config(self, k: int) -> RunConfig:
        """Optimizer k's every hyperparameter value: per-surface defaults plus the scene's values (`run_config`)."""
        return run_config(self.optimizers[k], self.surface)

    def run_configs(self, only_enabled: bool = True) -> list[RunConfig]:
        return [self.run_config(k) for k, e in enumerate(self.optimizers) if e.enabled or not only_enabled]

    def colors(self, only_enabled: bool = True) -> list[str]:
        colors = assign_colors([e.color for e in self.optimizers])
        return [c for c, e in zip(colors, self.optimizers, strict=True) if e.enabled or not only_enabled]

    def require_enabled(self) -> Scene:
        """The scene, when it has an enabled optimizer to race; else an `OptvizError` saying so (a race or an
        export of nothing would succeed silently with empty output)."""
        if not any(e.enabled for e in self.optimizers):
            raise SceneError("every optimizer in the scene is disabled: enable one (enabled = true) to race it")
        return self

    def log_scale(self, surface: Surface) -> bool:
        return surface.log_scale if self.view.log_scale is None else self.view.log_scale

    def run(self) -> RaceResult:
        """The race: on a learned surface, the real model trained by each optimizer and projected onto the
        fitted plane (`optviz.core.learn.learned_race`; its result carries the surface)."""
        if self.is_learned:
            from optviz.core.learn.session import run_learned_race

            return run_learned_race(self.learned, self.run_configs(), self.steps)
        surface = self.build_surface()
        return run_race(
            surface,
            self.run_configs(),
            self.start_points(surface),
            self.steps,
            self.seed,
            self.tolerance,
            perturbation=self.perturbation,
        )

    # --- file form ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        race: dict[str, Any] = {"steps": self.steps, "seed": self.seed, "tolerance": self.tolerance}
        if self.grid is not None:
            race["grid"] = list(self.grid)
        elif self.starts:
            race["starts"] = [list(p) for p in self.starts]
        view: dict[str, Any] = {
            "colormap": self.view.colormap,
            "top_down": self.view.top_down,
            "camera": vars(self.view.camera).copy(),
        }
        if self.view.log_scale is not None:  # TOML has no null: absent means "the surface's default"
            view["log_scale"] = self.view.log_scale
        if self.view.basins != "off":
            view["basins"] = self.view.basins
            view["basins_optimizer"] = self.view.basins_optimizer
            view["basins_grid"] = self.view.basins_grid
        if self.view.glyphs:
            view["glyphs"] = list(self.view.glyphs)
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if self.title:
            data["title"] = self.title
        data["surface"] = {"name": self.surface, "params": dict(self.surface_params)}
        if self.learned is not None:
            data["learned"] = self.learned.to_dict()
        data["race"] = race
        if self.perturbation is not None:
            data["perturbation"] = {"kind": self.perturbation.kind, **self.perturbation.params}
        data["view"] = view
        data["optimizers"] = [
            {
                "name": e.name,
                "label": e.label,
                "color": e.color,
                "enabled": e.enabled,
                "hyperparams": dict(e.hyperparams),
                **({"clip": {"kind": e.clip.kind, "threshold": e.clip.threshold}} if e.clip else {}),
                **({"schedule": {"kind": e.schedule.kind, **e.schedule.params}} if e.schedule else {}),
            }
            for e in self.optimizers
        ]
        return data

    def validate(self) -> Scene:
        """Check names and values against the registries (raises `OptvizError` naming the problem)."""
        if self.surface == LEARNED and self.learned is None:
            raise SceneError(f"surface {LEARNED!r} needs a [learned] section (model, dataset, plane...)")
        if self.learned is not None:
            self.surface, self.surface_params = LEARNED, {}
            self.learned.validate()
            # A learned race trains a real model on its own data: gradient pathologies and clipping are for
            # surface races (said, rather than silently not applied).
            if self.perturbation is not None:
                raise SceneError("a gradient perturbation applies to analytic surfaces, not to a learned one")
            if any(e.clip is not None for e in self.optimizers):
                raise SceneError("gradient clipping applies to analytic surfaces, not to a learned one")
            if any(e.schedule is not None for e in self.optimizers):
                raise SceneError("learning-rate schedules apply to analytic surfaces, not to a learned one")
        else:
            surface = self.build_surface()  # raises on an unknown surface or a bad parameter
            if self.grid is None:  # a grid of starts may cross where f is undefined: those runs say so
                points = self.start_points(surface)
                ok = defined_at(surface, points)
                if not ok.all():
                    what = "start" if self.starts else "suggested start"
                    raise SceneError(undefined_start_message(tuple(points[~ok][0]), what))
        if not self.optimizers:
            raise SceneError("a scene needs at least one optimizer")
        for entry in self.optimizers:
            spec = get_optimizer(entry.name)
            if not spec.on_surfaces:
                raise SceneError(f"optimizer {spec.name} cannot race on a surface: {spec.surface_unavailable}")
            run_config(entry, self.surface)
            if entry.color and not _COLOR.fullmatch(entry.color):
                raise SceneError(f"optimizer {entry.name}: color {echo(entry.color)} must look like #rrggbb")
        if not 1 <= self.steps <= MAX_STEPS:
            raise SceneError(f"steps={self.steps} is out of range (1 to {MAX_STEPS})")
        check_seed(self.seed)
        if not (self.tolerance > 0 and math.isfinite(self.tolerance)):
            raise SceneError(f"tolerance={self.tolerance} must be a positive finite number")
        self.view.camera.validate()
        if self.view.colormap not in COLORMAPS:
            raise SceneError(f"colormap {echo(self.view.colormap)} is not one of {', '.join(COLORMAPS)}")
        if self.view.basins not in BASIN_MODES:
            raise SceneError(f"basins {echo(self.view.basins)} is not one of {', '.join(BASIN_MODES)}")
        glyphs = self.view.glyphs
        if any(not isinstance(g, str) or g not in GLYPH_KINDS for g in glyphs) or len(set(glyphs)) != len(glyphs):
            raise SceneError(f"view.glyphs={echo(str(glyphs))}: a list of {', '.join(GLYPH_KINDS)}, each at most once")
        if not 0 <= self.view.basins_optimizer < len(self.optimizers):
            raise SceneError(f"basins_optimizer={self.view.basins_optimizer} names no optimizer of the scene")
        if not 2 <= self.view.basins_grid <= MAX_BASINS_GRID:
            raise SceneError(f"basins_grid={self.view.basins_grid} is out of range (2 to {MAX_BASINS_GRID})")
        if self.grid is not None and not all(1 <= n <= MAX_GRID for n in self.grid):
            raise SceneError(f"grid {self.grid} must have sides of 1 to {MAX_GRID}")
        return self


# --- reading -------------------------------------------------------------------------------------------

_TOP_KEYS = {"format", "version", "title", "surface", "race", "view", "optimizers", "learned", "perturbation"}
_LEARNED_TYPES = {
    "model": (str,),
    "dataset": (str,),
    "plane": (str,),
    "resolution": (int,),
    "range": (int, float),
    "seed": (int,),
    "batch_size": (int,),
}
_SURFACE_KEYS = {"name", "params"}
_RACE_KEYS = {"steps", "seed", "tolerance", "starts", "grid"}
_VIEW_KEYS = {"log_scale", "colormap", "top_down", "camera", "basins", "basins_optimizer", "basins_grid", "glyphs"}
_CAMERA_KEYS = {"distance", "elevation", "azimuth"}
_OPT_KEYS = {"name", "label", "color", "enabled", "hyperparams", "clip", "schedule"}
_CLIP_KEYS = {"kind", "threshold"}


class _Reader:
    """Validating access to the parsed TOML, with errors that name the file, the key and its line."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def fail(self, key: str, message: str) -> SceneError:
        line = self._line_of(key.rsplit(".", 1)[-1].split("[")[0])
        at = f" (line {line})" if line else ""
        # A quoted TOML key may hold a newline or a control character: escaped, the message stays one line.
        shown = key if key.isprintable() else key.encode("unicode_escape").decode("ascii")
        return SceneError(f"{self.source}: {shown}{at}: {message}")

    def _line_of(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*(\[\[?\s*)?([\w.]*\.)?{re.escape(key)}\s*(=|\]\]?)")
        for i, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return i
        return None

    def line_of_token(self, token: str) -> int | None:
        """The line where `token` appears as a key or as a word in a value (e.g. a misspelt name)."""
        word = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w])")
        key_line = self._line_of(token)
        if key_line:
            return key_line
        for i, line in enumerate(self.lines, start=1):
            if word.search(line.split("#", 1)[0]):
                return i
        return None

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table")
        for name in data:
            if name not in allowed:
                valid = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{name}" if key else name, f"unknown key (valid: {valid})")
        return data

    def typed(self, data: dict[str, Any], key: str, name: str, kinds: tuple[type, ...], default: Any) -> Any:
        if name not in data:
            return default
        value = data[name]
        # bool is an int in Python: only accept it where a bool is asked for.
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            kind = " or ".join(k.__name__.replace("str", "text").replace("float", "number") for k in kinds)
            raise self.fail(f"{key}.{name}" if key else name, f"must be {kind}, got {echo(value)}")
        return value


def scene_from_toml(text: str, source: str = "scene") -> Scene:
    """Parse and validate a scene; raises `SceneError` (one line naming the key) on any problem."""
    if len(text) > MAX_SCENE_BYTES:
        raise SceneError(f"{source}: too large for a scene file (over {MAX_SCENE_BYTES:,} characters)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SceneError(f"{source}: not a scene file (nested too deeply)") from None
    r = _Reader(text, source)
    r.table(data, "", _TOP_KEYS)
    if data.get("format") != FORMAT:
        raise r.fail("format", f'must be "{FORMAT}" (is this an optviz scene?)')
    version = r.typed(data, "", "version", (int,), None)
    if version != VERSION:
        raise r.fail("version", f"version {version} is not supported (this optviz reads version {VERSION})")

    surface = r.table(data.get("surface", {}), "surface", _SURFACE_KEYS)
    race = r.table(data.get("race", {}), "race", _RACE_KEYS)
    view = r.table(data.get("view", {}), "view", _VIEW_KEYS)
    camera = r.table(view.get("camera", {}), "view.camera", _CAMERA_KEYS)
    optimizers = data.get("optimizers", [])
    if not isinstance(optimizers, list):
        raise r.fail("optimizers", "must be an array of tables ([[optimizers]])")

    scene = Scene(
        surface=r.typed(surface, "surface", "name", (str,), "rosenbrock"),
        surface_params=dict(r.table(surface.get("params", {}), "surface.params", set(surface.get("params", {})))),
        steps=r.typed(race, "race", "steps", (int,), 500),
        seed=r.typed(race, "race", "seed", (int,), 0),
        tolerance=float(r.typed(race, "race", "tolerance", (int, float), DEFAULT_TOLERANCE)),
        title=r.typed(data, "", "title", (str,), ""),
        view=ViewOptions(
            log_scale=r.typed(view, "view", "log_scale", (bool,), None),
            colormap=r.typed(view, "view", "colormap", (str,), "viridis"),
            top_down=r.typed(view, "view", "top_down", (bool,), False),
            camera=Camera(
                **{k: float(r.typed(camera, "view.camera", k, (int, float), v)) for k, v in vars(Camera()).items()}
            ),
            basins=r.typed(view, "view", "basins", (str,), "off"),
            basins_optimizer=r.typed(view, "view", "basins_optimizer", (int,), 0),
            basins_grid=r.typed(view, "view", "basins_grid", (int,), 128),
            glyphs=list(r.typed(view, "view", "glyphs", (list,), [])),
        ),
    )
    if "learned" in data:
        learned = r.table(data["learned"], "learned", set(_LEARNED_TYPES))
        base = LearnedRecipe()
        values = {k: r.typed(learned, "learned", k, kinds, getattr(base, k)) for k, kinds in _LEARNED_TYPES.items()}
        values["range"] = float(values["range"])
        scene.learned = LearnedRecipe(**values)
        scene.surface = LEARNED
    if "starts" in race and "grid" in race:
        raise r.fail("race.grid", "give either starts or grid, not both")
    if "starts" in race:
        scene.starts = _points(r, race["starts"])
    if "grid" in race:
        grid = race["grid"]
        if not (isinstance(grid, list) and len(grid) == 2 and all(type(n) is int for n in grid)):
            raise r.fail("race.grid", f"must be two integers [nx, ny], got {echo(grid)}")
        scene.grid = (grid[0], grid[1])
    for i, item in enumerate(optimizers):
        key = f"optimizers[{i}]"
        item = r.table(item, key, _OPT_KEYS)
        name = r.typed(item, key, "name", (str,), None)
        if name is None:
            raise r.fail(key, "needs a name")
        hyper = item.get("hyperparams", {})
        r.table(hyper, f"{key}.hyperparams", set(hyper))
        scene.optimizers.append(
            OptimizerEntry(
                name=name,
                hyperparams=dict(hyper),
                label=r.typed(item, key, "label", (str,), ""),
                color=r.typed(item, key, "color", (str,), ""),
                enabled=r.typed(item, key, "enabled", (bool,), True),
                clip=_clip(r, item["clip"], f"{key}.clip") if "clip" in item else None,
                schedule=_schedule(r, item["schedule"], f"{key}.schedule") if "schedule" in item else None,
            )
        )
    if "perturbation" in data:
        scene.perturbation = _perturbation(r, data["perturbation"])
    try:
        return scene.validate()
    except OptvizError as exc:
        # Point at the line of the offending name where we can find it.
        message = str(exc)
        match = re.search(
            r"(?:parameter|optimizer|surface|model|data set|plane) '([\w.-]+)'|(\w+)=\S+ is out of range", message
        )
        line = r.line_of_token(match.group(1) or match.group(2)) if match else None
        at = f" (line {line})" if line else ""
        raise SceneError(f"{source}{at}: {message}") from None


def _perturbation(r: _Reader, data: Any) -> Perturbation:
    """`[perturbation]`: a kind and that kind's parameters (the others take their defaults)."""
    if not isinstance(data, dict):
        raise r.fail("perturbation", "must be a table")
    kind = r.typed(data, "perturbation", "kind", (str,), None)
    if kind is None:
        raise r.fail("perturbation", f"needs a kind ({', '.join(KINDS)})")
    if kind not in SCHEMAS:
        raise r.fail("perturbation.kind", f"{echo(kind)} is not one of {', '.join(KINDS)}")
    schema = SCHEMAS[kind]
    r.table(data, "perturbation", {"kind", *schema.names})
    values = {k: v for k, v in data.items() if k != "kind"}
    for name, value in values.items():
        try:
            schema.get(name).validate(value, kind)  # text is not a number in a file: no parsing here
        except OptvizError as exc:
            raise r.fail(f"perturbation.{name}", str(exc)) from None
    return Perturbation.make(kind, values)


def _clip(r: _Reader, data: Any, key: str) -> Clip:
    """An optimizer's `clip = { kind = "norm", threshold = 1.0 }`."""
    table = r.table(data, key, _CLIP_KEYS)
    kind = r.typed(table, key, "kind", (str,), None)
    threshold = r.typed(table, key, "threshold", (int, float), None)
    if kind is None or threshold is None:
        raise r.fail(key, 'needs a kind ("norm" or "value") and a threshold')
    try:
        return Clip(kind, threshold)
    except OptvizError as exc:
        raise r.fail(key, str(exc)) from None


def _schedule(r: _Reader, data: Any, key: str) -> LrSchedule | None:
    """An optimizer's `schedule = { kind = "warmup-cosine", warmup = 0.1 }` (kind "constant": none)."""
    table = r.table(data, key, set(data) if isinstance(data, dict) else set())
    kind = r.typed(table, key, "kind", (str,), None)
    if kind is None:
        raise r.fail(key, f"needs a kind ({', '.join(SCHEDULE_KINDS)})")
    try:
        schedule = LrSchedule(kind, {k: v for k, v in table.items() if k != "kind"})
    except OptvizError as exc:
        raise r.fail(key, str(exc)) from None
    return None if schedule.kind == "constant" else schedule


def _points(r: _Reader, value: Any) -> list[tuple[float, float]]:
    ok = isinstance(value, list) and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) and np.isfinite(c) for c in p)
        for p in value
    )
    if not ok or not value:
        raise r.fail("race.starts", f"must be a list of [x, y] pairs, got {echo(value)}")
    return [(float(p[0]), float(p[1])) for p in value]


def load_scene(path: str | os.PathLike[str]) -> Scene:
    """Read and validate a scene file. Only a regular file of at most `MAX_SCENE_BYTES` is read: a FIFO would
    block, a device (/dev/zero) never ends."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SceneError(f"{path}: no such scene file") from None
    except OSError as exc:
        raise SceneError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SceneError(f"{path}: not a regular file (a scene is a .toml file)")
    if info.st_size > MAX_SCENE_BYTES:
        raise SceneError(f"{path}: too large for a scene file ({info.st_size:,} bytes; at most {MAX_SCENE_BYTES:,})")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_SCENE_BYTES + 1)  # the file may have grown since stat
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneError(f"{path}: cannot read ({exc})") from None
    return scene_from_toml(text, str(path))


def scene_to_toml(scene: Scene) -> str:
    return tomli_w.dumps(scene.to_dict())


def save_scene(scene: Scene, path: str | os.PathLike[str]) -> None:
    """Write atomically: a temporary file in the same folder, renamed over the target when complete."""
    atomic_write_text(Path(path), scene_to_toml(scene))


def default_scene() -> Scene:
    """The scene the app opens on: four optimizers racing on Rosenbrock."""
    from optviz.resources import example_scenes

    for path in example_scenes():
        if path.stem == "default":
            return load_scene(path)
    raise OptvizError("the default example scene is missing from this installation")
