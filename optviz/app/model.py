"""`SceneModel`: the one source of truth of the app.

It holds the `Scene` being edited (the recipe), the `RaceResult` computed from it (the arrays), the time
cursor and the selected optimizer. Every setter validates through the core registries, changes one thing
and emits the signal for that attribute; invalid input never raises into a slot but is reported through
`errorRaised` as one line. `revision` counts changes that affect the race, so a race job can tell whether
its result still describes the scene.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.palette import PALETTE
from optviz.core.params import Value
from optviz.core.race import RaceResult
from optviz.core.race.clip import Clip
from optviz.core.race.lr_schedule import LrSchedule
from optviz.core.race.perturb import Perturbation
from optviz.core.race.result import settings_suffix
from optviz.core.scene import (
    CAMERA_DISTANCE,
    COLORMAPS,
    MAX_STEPS,
    OptimizerEntry,
    Scene,
    default_scene,
    run_config,
)
from optviz.core.surfaces import get_kind
from optviz.core.surfaces.base import Surface
from optviz.core.surfaces.defined import defined_at, undefined_start_message

if TYPE_CHECKING:
    from optviz.core.learn.learned_race import LearnedRaceResult

#: Most optimizers in one race: the palette's size, so every trail keeps a distinct colour.
MAX_OPTIMIZERS = len(PALETTE)


class SceneModel(QtCore.QObject):
    """See the module doc. Signals carry the optimizer index where one optimizer changed."""

    sceneReplaced = QtCore.Signal()  # a whole new scene (New, Open): everything redraws
    surfaceChanged = QtCore.Signal()  # surface kind or one of its parameters
    viewOptionsChanged = QtCore.Signal()  # log scale, colormap, top-down
    optimizersReset = QtCore.Signal()  # the list itself changed (add, remove, duplicate)
    optimizerChanged = QtCore.Signal(int)  # hyperparameters of optimizer k
    optimizerStyleChanged = QtCore.Signal(int)  # colour, label or enabled of optimizer k
    startsChanged = QtCore.Signal()
    raceSettingsChanged = QtCore.Signal()  # steps, seed, tolerance
    perturbationChanged = QtCore.Signal()  # the gradient pathology every optimizer sees
    resultChanged = QtCore.Signal(object)  # frozenset of optimizer indices whose runs changed, or None (all)
    cursorChanged = QtCore.Signal(float)
    selectionChanged = QtCore.Signal(int)
    dirtyChanged = QtCore.Signal(bool)
    pathChanged = QtCore.Signal(object)  # Path | None
    busyChanged = QtCore.Signal(bool)
    #: After every change that needs a new race, once all the signals that describe the change were emitted:
    #: the scheduler listens to it alone, so a result that lands at once finds every other listener up to date.
    raceInputsChanged = QtCore.Signal()
    errorRaised = QtCore.Signal(str)  # one line for the status bar
    # Several changes that make one user edit (Tune all, a duplicate): the undo history records them as one
    # step named by `editBegun`'s text (`edit`).
    editBegun = QtCore.Signal(str)
    editEnded = QtCore.Signal()
    tunedChanged = QtCore.Signal()  # which optimizers carry a "tuned" mark (Tune all)
    # Learned surfaces (`optviz.core.learn.session`): the job's progress, the surface of a new plane, and the panel's
    # Cancel and Refit buttons (the scheduler listens).
    learnedProgress = QtCore.Signal(str, int, int)
    learnedSurfaceChanged = QtCore.Signal()
    learnedCancelRequested = QtCore.Signal()
    learnedRefitRequested = QtCore.Signal()

    def __init__(self, scene: Scene | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._scene = scene if scene is not None else default_scene()
        self._surface: Surface | None = None
        self.result: RaceResult | None = None
        self._cursor = 0.0
        self._selected = 0 if self._scene.optimizers else -1
        self._dirty = False
        self._path: Path | None = None
        self._busy = False
        self.revision = 0
        self._tuned: dict[int, str] = {}  # optimizer index -> what Tune all found (the leaderboard's mark)
        self._title_basis = self._race_basis()  # what the scene's title describes (see `display_title`)
        self._edit_depth = 0
        # A mark holds only while the race is the one it was tuned for.
        for signal in (self.optimizersReset, self.sceneReplaced, self.surfaceChanged, self.raceSettingsChanged):
            signal.connect(lambda *_: self.set_tuned({}))
        self.optimizerChanged.connect(self._untune)

    # ---- reading -----------------------------------------------------------------------------------------
    @property
    def scene(self) -> Scene:
        """The scene being edited. Read it freely; change it only through the setters below."""
        return self._scene

    @property
    def surface(self) -> Surface:
        """The surface built from the scene (cached until the surface changes).

        A learned surface comes with its race result (it is computed by the same job); until the first one
        lands, the view shows a flat floor titled "computing…" beside the panel's progress bar.
        """
        if self._scene.is_learned:
            if self.result is not None and self.result.surface is not None:
                return self.result.surface
            from optviz.core.surfaces.pending import pending_surface

            return pending_surface()
        if self._surface is None:
            self._surface = self._scene.build_surface()
        return self._surface

    @property
    def optimizers(self) -> list[OptimizerEntry]:
        return self._scene.optimizers

    def color(self, k: int) -> str:
        return self.colors()[k]

    def colors(self) -> list[str]:
        return self._scene.colors(only_enabled=False)

    def display_name(self, k: int) -> str:
        return display_name(self._scene, k)

    def hyperparams(self, k: int) -> dict[str, Value]:
        """Every value optimizer k uses: the registry's per-surface defaults updated with the scene's."""
        return self._scene.run_config(k).hyperparams

    def shown(self, k: int) -> bool:
        """Whether optimizer k's runs are shown (trails, curves, rows, exports): the one visibility rule."""
        return 0 <= k < len(self._scene.optimizers) and self._scene.optimizers[k].enabled

    def shown_runs(self) -> list[int]:
        """The optimizer indices whose runs are shown, in order."""
        return [k for k in range(len(self._scene.optimizers)) if self.shown(k)]

    @property
    def learned_result(self) -> LearnedRaceResult | None:
        """The result with its learned-race readouts (plane losses, explained fractions), or None when the
        result is not a learned race's."""
        if not self._scene.is_learned or self.result is None:
            return None
        from optviz.core.learn.learned_race import LearnedRaceResult  # torch: only once a learned race exists

        return self.result if isinstance(self.result, LearnedRaceResult) else None

    def shown_race(self) -> tuple[Scene, RaceResult, list[str]] | None:
        """What the view shows, for exports: the scene, its result and trail colours restricted to the shown
        optimizers (None before a race, or with none shown)."""
        result = self.result
        ks = self.shown_runs()
        if result is None or len(result.configs) != len(self._scene.optimizers) or not ks:
            return None
        scene = dataclasses.replace(
            self._scene, optimizers=[self._scene.optimizers[k] for k in ks], title=self.display_title()
        )
        return scene, result.select(ks), [self.color(k) for k in ks]

    def _race_basis(self) -> tuple:
        scene = self._scene
        return scene.surface, scene.learned, tuple(e.name for e in scene.optimizers if e.enabled)

    def display_title(self) -> str:
        """The scene's title while the race is still the one it was written for (same surface, same optimizers
        shown); after an edit that changes that ("Four optimizers…" with nine racing), what is racing instead."""
        if self._scene.title and self._race_basis() == self._title_basis:
            return self._scene.title
        n = len(self.shown_runs())
        return f"{n} optimizer{'s' * (n != 1)} on {self.surface.title}"

    def log_scale(self) -> bool:
        return self._scene.log_scale(self.surface)

    @property
    def cursor(self) -> float:
        return self._cursor

    @property
    def steps(self) -> int:
        return self._scene.steps

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def busy(self) -> bool:
        return self._busy

    # ---- whole scenes ----------------------------------------------------------------------------------------
    def replace_scene(self, scene: Scene, path: Path | None = None) -> None:
        """Swap in a validated scene (New, Open): results are dropped and everything redraws."""
        self._scene = scene
        self._surface = None
        self.result = None
        self._cursor = 0.0
        self._selected = 0 if scene.optimizers else -1
        self._path = Path(path) if path is not None else None
        self._title_basis = self._race_basis()
        self._bump()
        self.sceneReplaced.emit()
        self.pathChanged.emit(self._path)
        self.selectionChanged.emit(self._selected)
        self.cursorChanged.emit(self._cursor)
        self._set_dirty(False)
        self.raceInputsChanged.emit()

    def mark_saved(self, path: Path) -> None:
        self._path = Path(path)
        self.pathChanged.emit(self._path)
        self._set_dirty(False)

    def mark_clean(self) -> None:
        """Forget unsaved changes (a screenshot run, a test tearing down)."""
        self._set_dirty(False)

    def snapshot(self) -> Scene:
        """A deep copy of the scene, safe to hand to another thread or to write to a file."""
        return copy.deepcopy(self._scene)

    @contextlib.contextmanager
    def edit(self, text: str) -> Iterator[None]:
        """Group the changes made inside into one user edit named `text` (one undo step); nests."""
        self._edit_depth += 1
        if self._edit_depth == 1:
            self.editBegun.emit(text)
        try:
            yield
        finally:
            self._edit_depth -= 1
            if self._edit_depth == 0:
                self.editEnded.emit()

    @property
    def editing(self) -> bool:
        """Inside `edit`: the changes so far are part of a larger edit."""
        return self._edit_depth > 0

    def restore(self, scene: Scene) -> None:
        """Put back the race inputs of a scene recorded earlier (undo, redo): the surface, the optimizers, the
        starts and the race settings. The view options, the camera, the path and the time cursor stay; one
        signal per part that differs, then one re-race."""
        old, new = self._scene, copy.deepcopy(scene)
        surface = (new.surface, new.surface_params, new.learned) != (old.surface, old.surface_params, old.learned)
        domain = [k for k in ("xmin", "xmax", "ymin", "ymax") if new.surface_params.get(k) != old.surface_params.get(k)]
        replaced = (new.surface, new.learned) != (old.surface, old.learned) or bool(domain)  # see `_drop_result`
        starts = (new.starts, new.grid) != (old.starts, old.grid)
        settings = (new.steps, new.seed, new.tolerance) != (old.steps, old.seed, old.tolerance)
        perturbation = new.perturbation != old.perturbation
        structure = [e.name for e in new.optimizers] != [e.name for e in old.optimizers]
        # Per optimizer only where the list kept its shape (otherwise `optimizersReset` redraws everything).
        pairs = list(enumerate(zip(old.optimizers, new.optimizers, strict=False)))
        params = [k for k, (a, b) in pairs if _race_settings(a) != _race_settings(b)]
        # The clip and the schedule are in the name the legend and the rows show.
        styles = [k for k, (a, b) in pairs if _named(a) != _named(b)]
        if not (surface or starts or settings or structure or params or styles or perturbation):
            return
        result = self.result
        if structure and result is not None and len(result.configs) == len(old.optimizers) and not new.is_learned:
            # Undoing an add drops a run: drop it from the result at once, as a removal does.
            kept = _kept_rows(old.optimizers, new.optimizers)
            if kept is not None:
                self.result = result.select(kept)
        old.surface, old.surface_params, old.learned = new.surface, new.surface_params, new.learned
        old.starts, old.grid = new.starts, new.grid
        old.steps, old.seed, old.tolerance = new.steps, new.seed, new.tolerance
        old.perturbation = new.perturbation
        old.optimizers = new.optimizers
        if surface:
            self._surface = None
        self._changed()
        if replaced:
            self._drop_result()
        if surface:
            self.surfaceChanged.emit()
            self.viewOptionsChanged.emit()  # the default log scale follows the surface
        if starts or surface:
            self.startsChanged.emit()
        if perturbation:
            self.perturbationChanged.emit()
        if settings:
            self.raceSettingsChanged.emit()
            if self._cursor > new.steps:
                self.set_cursor(new.steps)
        if structure:
            self.optimizersReset.emit()
            self.select(min(max(self._selected, 0), len(new.optimizers) - 1), force=True)  # -1 with none
        else:
            for k in params:
                self.optimizerChanged.emit(k)
            for k in styles:
                self.optimizerStyleChanged.emit(k)
        self.raceInputsChanged.emit()

    # ---- surface ----------------------------------------------------------------------------------------------
    def set_surface_kind(self, name: str) -> bool:
        """Switch surface; parameters reset to the new kind's defaults and the start to its suggestion."""
        if name == self._scene.surface:
            return True
        return self._try_surface(name, {}, reset_starts=True)

    def set_surface_param(self, name: str, value: Value) -> bool:
        params = dict(self._scene.surface_params)
        params[name] = value
        return self._try_surface(self._scene.surface, params, reset_starts=name in ("xmin", "xmax", "ymin", "ymax"))

    def set_learned(self, recipe) -> bool:
        """Make the surface a learned one (an `optviz.core.learn.recipe.LearnedRecipe`), or change its recipe."""
        from optviz.core.scene import LEARNED

        try:
            recipe.validate()
        except OptvizError as exc:
            self.errorRaised.emit(str(exc))
            return False
        if recipe == self._scene.learned:
            return True
        self._scene.learned = recipe
        self._scene.surface, self._scene.surface_params = LEARNED, {}
        self._scene.starts, self._scene.grid = [], None
        self._surface = None
        self._changed()
        self._drop_result()
        self.surfaceChanged.emit()
        self.viewOptionsChanged.emit()
        self.raceInputsChanged.emit()
        return True

    def _try_surface(self, kind: str, params: dict[str, Value], reset_starts: bool) -> bool:
        try:
            schema = get_kind(kind).schema
            clean = {k: schema.check(k, v) for k, v in params.items()}
            surface = get_kind(kind).make(clean)
        except OptvizError as exc:
            self.errorRaised.emit(str(exc))
            return False
        # Drop values equal to the default, so a scene file records only what the user changed.
        defaults = schema.defaults()
        replaced = kind != self._scene.surface or self._scene.learned is not None or reset_starts
        self._scene.learned = None  # an analytic surface replaces a learned one
        self._scene.surface = kind
        self._scene.surface_params = {k: v for k, v in clean.items() if v != defaults.get(k)}
        self._surface = surface
        starts_moved = reset_starts and (self._scene.starts or self._scene.grid is not None)
        if reset_starts:
            self._scene.starts = []
            self._scene.grid = None
        self._changed()
        if replaced:
            self._drop_result()
        self.surfaceChanged.emit()
        self.viewOptionsChanged.emit()  # the default log scale follows the surface
        if starts_moved or reset_starts:
            self.startsChanged.emit()
        self.raceInputsChanged.emit()
        return True

    # ---- view options -----------------------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        self._scene.view.log_scale = bool(on)
        self._set_dirty(True)
        self.viewOptionsChanged.emit()

    def set_colormap(self, name: str) -> None:
        if name not in COLORMAPS:
            self.errorRaised.emit(f"unknown colormap {name!r}")
            return
        self._scene.view.colormap = name
        self._set_dirty(True)
        self.viewOptionsChanged.emit()

    def set_basins(self, mode: str) -> None:
        """Colour the surface by the selected optimizer's basins ("minima", "steps") or not ("off")."""
        view = self._scene.view
        view.basins = mode
        view.basins_optimizer = max(self._selected, 0)
        self._set_dirty(True)
        self.viewOptionsChanged.emit()

    def set_glyphs(self, kinds: Iterable[str]) -> None:
        """Which state glyphs the view draws at the heads (`GLYPH_KINDS`, in that order; none turns them off)."""
        from optviz.core.scene import GLYPH_KINDS

        kinds = set(kinds)
        unknown = kinds - set(GLYPH_KINDS)
        if unknown:
            self.errorRaised.emit(f"unknown state glyph {sorted(unknown)[0]!r}: one of {', '.join(GLYPH_KINDS)}")
            return
        ordered = [k for k in GLYPH_KINDS if k in kinds]
        if ordered == self._scene.view.glyphs:
            return
        self._scene.view.glyphs = ordered
        self._set_dirty(True)
        self.viewOptionsChanged.emit()

    def set_top_down(self, on: bool) -> None:
        self._scene.view.top_down = bool(on)
        self._set_dirty(True)
        self.viewOptionsChanged.emit()

    def set_camera(self, distance: float, elevation: float, azimuth: float) -> None:
        """Record the camera for the scene file (no signal: the view is where it came from)."""
        cam = self._scene.view.camera
        lo, hi = CAMERA_DISTANCE  # what a scene file accepts: a zoom beyond it is saved at the limit
        cam.distance = min(max(float(distance), lo), hi)
        cam.elevation = min(max(float(elevation), -90.0), 90.0)
        cam.azimuth = float(azimuth)

    # ---- starts and race settings --------------------------------------------------------------------------
    def set_start(self, x: float, y: float) -> None:
        """One start point for every optimizer (a click on the surface); refused, with one line, where f is
        undefined (a hole in the surface)."""
        point = (float(x), float(y))
        if not self._scene.is_learned and not defined_at(self.surface, np.array([point])).all():
            self.errorRaised.emit(undefined_start_message(point))
            return
        self._scene.starts = [point]
        self._scene.grid = None
        self._changed()
        self.startsChanged.emit()
        self.raceInputsChanged.emit()

    def set_steps(self, steps: int) -> None:
        steps = int(steps)
        if not 1 <= steps <= MAX_STEPS:
            self.errorRaised.emit(f"steps={steps} is out of range (1 to {MAX_STEPS})")
            return
        if steps == self._scene.steps:
            return
        self._scene.steps = steps
        self._changed()
        self.raceSettingsChanged.emit()
        if self._cursor > steps:
            self.set_cursor(steps)
        self.raceInputsChanged.emit()

    def set_seed(self, seed: int) -> None:
        self._scene.seed = int(seed)
        self._changed()
        self.raceSettingsChanged.emit()
        self.raceInputsChanged.emit()

    def set_perturbation(self, kind: str | None, values: dict[str, Value] | None = None) -> bool:
        """The gradient pathology of the race (`core/race/perturb.py`): a kind and its values over the kind's
        defaults, or None for none. A bad value is reported in one line and changes nothing."""
        try:
            perturbation = None if kind is None else Perturbation.make(kind, values or {})
        except OptvizError as exc:
            self.errorRaised.emit(str(exc))
            self.perturbationChanged.emit()  # the controls show the values kept, not the one refused
            return False
        if perturbation == self._scene.perturbation:
            return True
        self._scene.perturbation = perturbation
        self._changed()
        self.perturbationChanged.emit()
        self.raceInputsChanged.emit()
        return True

    # ---- optimizers ----------------------------------------------------------------------------------------
    def set_clip(self, k: int, clip: Clip | None) -> None:
        """Optimizer k's gradient clipping (None: off); its name in the legend says it."""
        entry = self._scene.optimizers[k]
        if entry.clip == clip:
            return
        entry.clip = clip
        self._changed()
        self.optimizerChanged.emit(k)
        self.optimizerStyleChanged.emit(k)
        self.raceInputsChanged.emit()

    def set_schedule(self, k: int, schedule: LrSchedule | None) -> None:
        """Optimizer k's learning-rate schedule (None: constant); its name in the legend says it."""
        entry = self._scene.optimizers[k]
        if entry.schedule == schedule:
            return
        if schedule is not None and "lr" not in get_optimizer(entry.name).schema.names:
            self.errorRaised.emit(f"{get_optimizer(entry.name).title} has no learning rate to schedule")
            return
        entry.schedule = schedule
        self._changed()
        self.optimizerChanged.emit(k)
        self.optimizerStyleChanged.emit(k)
        self.raceInputsChanged.emit()

    def set_hyperparam(self, k: int, name: str, value: Value) -> bool:
        entry = self._scene.optimizers[k]
        spec = get_optimizer(entry.name)
        try:
            clean = spec.schema.check(name, value)
            spec.resolve({**entry.hyperparams, name: clean})  # constraints between values (Rprop's step sizes)
        except OptvizError as exc:
            self.errorRaised.emit(f"{self.display_name(k)}: {exc}")
            self.optimizerChanged.emit(k)  # the controls show the values kept, not the one refused
            return False
        if entry.hyperparams.get(name) == clean:
            return True
        entry.hyperparams[name] = clean
        self._changed()
        self.optimizerChanged.emit(k)
        self.raceInputsChanged.emit()
        return True

    def reset_hyperparams(self, k: int, names: Iterable[str] | None = None) -> None:
        """Back to the registry's defaults for this surface (all of them, or the ones named)."""
        entry = self._scene.optimizers[k]
        if names is None:
            entry.hyperparams.clear()
        else:
            for name in names:
                entry.hyperparams.pop(name, None)
        self._changed()
        self.optimizerChanged.emit(k)
        self.raceInputsChanged.emit()

    def set_color(self, k: int, color: str) -> None:
        self._scene.optimizers[k].color = color
        self._set_dirty(True)
        self.optimizerStyleChanged.emit(k)

    def set_enabled(self, k: int, enabled: bool) -> None:
        self._scene.optimizers[k].enabled = bool(enabled)
        self._set_dirty(True)
        self.optimizerStyleChanged.emit(k)

    def add_optimizer(self, name: str, hyperparams: dict[str, Value] | None = None) -> int:
        """Append an optimizer with the first unused palette colour; returns its index (-1 if refused)."""
        try:
            spec = get_optimizer(name)
            if not spec.on_surfaces:
                raise OptvizError(f"{spec.title} cannot race on a surface: {spec.surface_unavailable}")
            if len(self._scene.optimizers) >= MAX_OPTIMIZERS:
                raise OptvizError(f"at most {MAX_OPTIMIZERS} optimizers race at once: remove one first")
            run_config(OptimizerEntry(spec.name, dict(hyperparams or {})), self._scene.surface)
        except OptvizError as exc:
            self.errorRaised.emit(str(exc))
            return -1
        used = set(self.colors())
        color = next((c for c in PALETTE if c not in used), PALETTE[len(used) % len(PALETTE)])
        self._scene.optimizers.append(OptimizerEntry(spec.name, dict(hyperparams or {}), color=color))
        k = len(self._scene.optimizers) - 1
        self._structure_changed(k)
        return k

    def duplicate_optimizer(self, k: int) -> int:
        entry = self._scene.optimizers[k]
        with self.edit(f"Duplicate {self.display_name(k)}"):
            return self.add_optimizer(entry.name, dict(entry.hyperparams))

    def remove_optimizer(self, k: int) -> None:
        if len(self._scene.optimizers) <= 1:
            self.errorRaised.emit("a race needs at least one optimizer")
            return
        # Freeze the implicit palette colours first, so the others keep theirs when indices shift.
        for i, entry in enumerate(self._scene.optimizers):
            entry.color = self.color(i) if not entry.color else entry.color
        del self._scene.optimizers[k]
        if self.result is not None and not self._scene.is_learned:  # a learned result waits for its re-race
            # Drop the run at once, so a removal redraws before any re-race.
            self.result = self.result.select([i for i in range(len(self.result.configs)) if i != k])
        self._structure_changed(min(self._selected, len(self._scene.optimizers) - 1))

    def _structure_changed(self, select: int) -> None:
        self._changed()
        self.optimizersReset.emit()
        self.select(select, force=True)
        self.raceInputsChanged.emit()

    def select(self, k: int, force: bool = False) -> None:
        if k == self._selected and not force:
            return
        self._selected = k
        view = self._scene.view
        if view.basins != "off" and k >= 0 and view.basins_optimizer != k:
            view.basins_optimizer = k  # one click on an optimizer shows its basins
            self.viewOptionsChanged.emit()
        self.selectionChanged.emit(k)

    # ---- tuning marks ---------------------------------------------------------------------------------------
    def tuned(self, k: int) -> str:
        """What Tune all found for optimizer k ("" when it carries no mark)."""
        return self._tuned.get(k, "")

    def set_tuned(self, marks: dict[int, str]) -> None:
        if marks == self._tuned:
            return
        self._tuned = dict(marks)
        self.tunedChanged.emit()

    def _untune(self, k: int) -> None:
        if k in self._tuned and not self._applying_tuning:
            self.set_tuned({i: v for i, v in self._tuned.items() if i != k})

    _applying_tuning = False

    def apply_tuning(self, values: dict[int, dict[str, Value]], marks: dict[int, str]) -> None:
        """Set the tuned values of each optimizer (one re-race) and mark them: one edit, "Tune all"."""
        with self.edit("Tune all"):
            self._applying_tuning = True
            try:
                for k, hp in values.items():
                    for name, value in hp.items():
                        self.set_hyperparam(k, name, value)
            finally:
                self._applying_tuning = False
            self.set_tuned(marks)

    # ---- results and time ---------------------------------------------------------------------------------
    def set_result(self, result: RaceResult, changed: frozenset[int] | None) -> None:
        """Called by the scheduler with a result that describes the current scene."""
        old_surface = None if self.result is None else self.result.surface
        self.result = result
        if result.surface is not None and result.surface is not old_surface:
            self.learnedSurfaceChanged.emit()  # a new plane: the view redraws the mesh before the trails
        self.resultChanged.emit(changed)

    def _drop_result(self) -> None:
        """A new surface (another kind, another domain, a learned recipe): the old runs describe a surface that is
        no longer drawn, so every read-out drops them in this same turn and shows "computing…" until the new race
        lands (a parameter of the same surface keeps them: a dragged slider redraws the paths in place)."""
        if self.result is not None:
            self.result = None
            self.resultChanged.emit(None)

    def set_cursor(self, step: float) -> None:
        step = min(max(float(step), 0.0), float(self._scene.steps))
        if step == self._cursor:
            return
        self._cursor = step
        self.cursorChanged.emit(step)

    def set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    # ---- bookkeeping ------------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._bump()
        self._set_dirty(True)

    def _bump(self) -> None:
        self.revision += 1

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)


def display_name(scene: Scene, k: int) -> str:
    """Optimizer k's name in the app: its label, else its title, numbered when the scene races it twice."""
    entry = scene.optimizers[k]
    if entry.label:
        return entry.label
    title = get_optimizer(entry.name).title
    # Two entries of one optimizer (a duplicate with other settings) get numbered names.
    same = [i for i, e in enumerate(scene.optimizers) if e.name == entry.name and not e.label]
    name = title if len(same) < 2 else f"{title} #{same.index(k) + 1}"
    return name + settings_suffix(entry.clip, entry.schedule)


def _named(entry: OptimizerEntry) -> tuple:
    """What of an optimizer entry its style and shown name depend on."""
    return entry.color, entry.enabled, entry.label, entry.clip, entry.schedule


def _race_settings(entry: OptimizerEntry) -> tuple:
    """What of an optimizer entry its race depends on besides its name."""
    return entry.hyperparams, entry.clip, entry.schedule


def _kept_rows(old: list[OptimizerEntry], new: list[OptimizerEntry]) -> list[int] | None:
    """The rows of `old` that make `new` when the others are dropped (colours aside: a removal fixes them), or
    None when `new` is not `old` less some rows."""
    kept, i = [], 0
    for entry in new:
        while i < len(old) and (old[i].name, old[i].hyperparams) != (entry.name, entry.hyperparams):
            i += 1
        if i == len(old):
            return None
        kept.append(i)
        i += 1
    return kept
