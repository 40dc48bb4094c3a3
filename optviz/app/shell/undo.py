"""Undo and redo of scene edits: one `QUndoStack` fed from one place, the model's signals.

`SceneHistory` keeps a copy of the race inputs (surface, optimizers, starts, race settings, tuning marks) as
they were after the last recorded edit. Whenever the model says a change is fully described
(`raceInputsChanged`, or `optimizerStyleChanged` for a colour or a hidden optimizer), it compares the scene with
that copy and pushes a `SceneEdit` holding both states; undo and redo put a state back through
`SceneModel.restore`, which re-races. Widgets never talk to the history: they edit the model as always, and
compound edits (Tune all, a duplicate) name themselves with `SceneModel.edit`.

A slider drag is one step: edits of the same thing (one optimizer's hyperparameters, the start point, one
surface parameter) merge while one gesture lasts, and a gesture ends when a mouse button or a key is released
(or at an undo), and at the latest when the next one begins with a press. Loading a scene (New, Open, an
example) clears the history: the unsaved-changes prompt already guards what it replaces. View options (log
scale, colormap, top-down, basins) and the camera are not edits of the race and are not recorded.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable

from PySide6 import QtCore, QtGui

from optviz.app.model import SceneModel, display_name
from optviz.core.errors import OptvizError
from optviz.core.scene import Scene, ViewOptions
from optviz.core.surfaces import get_kind

#: QUndoCommand.id of the edits that may merge (their `key` says with which).
MERGE_ID = 1
#: Events that end a gesture: a drag's release, a key's release (an autorepeat's releases do not).
GESTURE_ENDS = (QtCore.QEvent.Type.MouseButtonRelease, QtCore.QEvent.Type.KeyRelease)
#: Events that begin a gesture: whatever the last one left open ends at once (its release's deferred end may not
#: have run yet when the next press comes straight after it).
GESTURE_STARTS = (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.KeyPress)


@dataclasses.dataclass(frozen=True)
class State:
    """What an undo step restores: the scene's race inputs (its view left at the defaults) and the tuning
    marks of the leaderboard."""

    scene: Scene
    tuned: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, model: SceneModel) -> State:
        scene = dataclasses.replace(model.snapshot(), view=ViewOptions())
        marks = tuple(sorted((k, model.tuned(k)) for k in range(len(scene.optimizers)) if model.tuned(k)))
        return cls(scene, marks)


class SceneEdit(QtGui.QUndoCommand):
    """One recorded edit: the states before and after. Pushing it does nothing (the model is already there)."""

    def __init__(self, history: SceneHistory, before: State, after: State, text: str, key: Hashable | None) -> None:
        super().__init__(text)
        self.history, self.before, self.after, self.key = history, before, after, key
        self._pushed = False

    def id(self) -> int:
        return -1 if self.key is None else MERGE_ID

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if not isinstance(other, SceneEdit) or other.key != self.key or not self.history.gesture_open:
            return False
        self.after = other.after
        self.setText(describe(self.before.scene, self.after.scene)[0])
        self.setObsolete(self.after == self.before)  # dragged back to where it began: no step at all
        return True

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True
            return
        self.history.apply(self.after)

    def undo(self) -> None:
        self.history.apply(self.before)


class SceneHistory(QtCore.QObject):
    """The undo stack of a model's scene edits (see the module doc)."""

    def __init__(self, model: SceneModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.stack = QtGui.QUndoStack(self)
        self._state = State.of(model)
        self._applying = False  # undo and redo change the model: those changes are not new edits
        self._group: str | None = None
        self.gesture_open = False
        self._presses = 0
        model.raceInputsChanged.connect(self.record)
        model.optimizerStyleChanged.connect(lambda _k: self.record())
        model.sceneReplaced.connect(self.clear)
        model.editBegun.connect(self._begin)
        model.editEnded.connect(self._end)
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind not in GESTURE_ENDS and kind not in GESTURE_STARTS:
            return False
        if isinstance(event, QtGui.QKeyEvent) and event.isAutoRepeat():
            return False  # a held key is one gesture
        if kind in GESTURE_STARTS:
            self._presses += 1
            self.end_gesture()
        else:
            # After the event is handled: a widget that commits its value on the release still joins the drag.
            QtCore.QTimer.singleShot(0, self, functools.partial(self._released, self._presses))
        return False

    def _released(self, presses: int) -> None:
        if presses == self._presses:  # a release's deferred end is not for a gesture begun since
            self.end_gesture()

    def end_gesture(self) -> None:
        """The next edit starts a step of its own, whatever it edits."""
        self.gesture_open = False

    def clear(self) -> None:
        """A new scene: nothing to undo."""
        self.stack.clear()
        self._state = State.of(self.model)
        self.end_gesture()

    def record(self) -> None:
        """Push the edit that brought the model from the last recorded state to its current one, if any."""
        if self._applying or self._group is not None:
            return
        self._push(None)

    def _begin(self, text: str) -> None:
        self._group = text

    def _end(self) -> None:
        text, self._group = self._group, None
        if not self._applying:
            self._push(text)
            self.end_gesture()  # a compound edit never merges with what follows

    def _push(self, text: str | None) -> None:
        after = State.of(self.model)
        before, self._state = self._state, after
        if after == before:
            return
        described, key = describe(before.scene, after.scene)
        command = SceneEdit(self, before, after, text or described, None if text else key)
        self.stack.push(command)
        self.gesture_open = True

    def apply(self, state: State) -> None:
        """Put `state` back in the model (undo, redo) without recording it."""
        self._applying = True
        try:
            self.model.restore(state.scene)
            self.model.set_tuned(dict(state.tuned))
        finally:
            self._applying = False
        self._state = State.of(self.model)
        self.end_gesture()


def describe(before: Scene, after: Scene) -> tuple[str, Hashable | None]:
    """The edit from `before` to `after` in a few words ("Remove Adam", "Change lr of SGD"), and the key of
    the edits it merges with (None: it never merges)."""
    old, new = before.optimizers, after.optimizers
    if len(new) > len(old):
        return f"Add {display_name(after, len(new) - 1)}", None
    if len(new) < len(old):
        pairs = enumerate(zip(old, new, strict=False))  # the first row that differs went (else the last)
        gone = next((k for k, (a, b) in pairs if (a.name, a.hyperparams) != (b.name, b.hyperparams)), len(new))
        return f"Remove {display_name(before, gone)}", None
    if (before.surface, before.learned) != (after.surface, after.learned):
        return f"Change surface to {_surface_title(after)}", None
    if before.surface_params != after.surface_params:
        names = _changed_keys(before.surface_params, after.surface_params)
        return f"Change {', '.join(names)} of {_surface_title(after)}", ("surface", tuple(names))
    if (before.starts, before.grid) != (after.starts, after.grid):
        return "Move start point", ("start",)
    for field in ("steps", "seed", "tolerance"):
        if getattr(before, field) != getattr(after, field):
            return f"Change {field}", (field,)
    if before.perturbation != after.perturbation:
        return ("Remove gradient pathology" if after.perturbation is None else "Change gradient pathology"), (
            "perturbation",
        )
    clipped = [k for k, (a, b) in enumerate(zip(old, new, strict=True)) if a.clip != b.clip]
    if len(clipped) == 1:
        return f"Change clipping of {display_name(before, clipped[0])}", ("clip", clipped[0])
    scheduled = [k for k, (a, b) in enumerate(zip(old, new, strict=True)) if a.schedule != b.schedule]
    if len(scheduled) == 1:
        return f"Change lr schedule of {display_name(before, scheduled[0])}", ("schedule", scheduled[0])
    changed = [k for k, (a, b) in enumerate(zip(old, new, strict=True)) if a.hyperparams != b.hyperparams]
    if len(changed) == 1:
        k = changed[0]
        names = _changed_keys(old[k].hyperparams, new[k].hyperparams)
        verb = "Reset" if all(n not in new[k].hyperparams for n in names) else "Change"
        return f"{verb} {', '.join(names)} of {display_name(after, k)}", ("optimizer", k)
    if changed:
        return f"Change the settings of {len(changed)} optimizers", None
    for k, (a, b) in enumerate(zip(old, new, strict=True)):
        if a.enabled != b.enabled:
            return f"{'Show' if b.enabled else 'Hide'} {display_name(after, k)}", None
        if a.color != b.color:
            return f"Change colour of {display_name(after, k)}", ("colour", k)
    return "Edit scene", None


def _changed_keys(old: dict, new: dict) -> list[str]:
    return [n for n in dict.fromkeys([*old, *new]) if old.get(n) != new.get(n)]


def _surface_title(scene: Scene) -> str:
    if scene.is_learned:
        return "a learned surface"
    try:
        return get_kind(scene.surface).title
    except OptvizError:
        return scene.surface
