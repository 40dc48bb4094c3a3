"""View > State glyphs: each shown optimizer's step drawn at its head, from the library's own state.

At the time cursor c the heads stand at step c; the glyphs show the step taken from there (step c + 1, or the
last step at the end of the race): −gradient, the update applied, −momentum and the step per unit gradient
(`optviz.core.race.glyphs`). The records come from one `StepInspector` per optimizer (its first start), made on
a worker thread (a far jump re-runs a few hundred library steps) and kept while that run's settings stand; a race
records nothing, so memory stays flat however long or wide the race. A key over the view says what each line
is and what the longest of each kind stands for (one scale per kind, shared by every optimizer).
"""

from __future__ import annotations

import html
from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets
from superqt.utils import qthrottled

from optviz.app.model import SceneModel
from optviz.app.readouts.metrics import format_value
from optviz.app.sweep.sweep_worker import SweepWorker
from optviz.core.errors import OptvizError
from optviz.core.race.glyphs import step_for_cursor
from optviz.render.scene_setup import apply_glyphs

#: Inspectors kept (one per optimizer run with its settings): a few scenes' worth, so undo or a slider back finds
#: its run at once.
KEEP_INSPECTORS = 24
#: How the key names each kind's line (`render.scene_setup.GLYPH_STYLE` draws them).
LINE_NAMES = {"gradient": "thin, pale", "momentum": "thin", "update": "thick", "scaling": "ellipse or box, pale"}


def run_key(scene, k: int) -> tuple:
    """What optimizer k's first-start run depends on: equal keys, equal records."""
    config = scene.run_config(k)
    return (
        scene.surface,
        tuple(sorted(scene.surface_params.items())),
        tuple(map(tuple, scene.starts)),
        scene.grid,
        scene.seed,
        scene.steps,
        config.optimizer,
        tuple(sorted(config.hyperparams.items())),
    )


class InspectorCache:
    """`StepInspector`s by run key, used from the worker thread only (one thread: no locking needed)."""

    def __init__(self) -> None:
        self._inspectors: OrderedDict[tuple, Any] = OrderedDict()

    def records(self, scene, ks: list[int], n: int) -> dict[int, Any]:
        """Step n of each optimizer k (its first start): {k: StepRecord or an error line}."""
        from optviz.core.race.inspect import scene_inspector

        out: dict[int, Any] = {}
        for k in ks:
            key = run_key(scene, k)
            inspector = self._inspectors.get(key)
            try:
                if inspector is None:
                    inspector = scene_inspector(scene, k, 0)
                    self._inspectors[key] = inspector
                    while len(self._inspectors) > KEEP_INSPECTORS:
                        self._inspectors.popitem(last=False)
                self._inspectors.move_to_end(key)
                out[k] = inspector.record(n)
            except OptvizError as exc:
                out[k] = str(exc)
        return out

    def __len__(self) -> int:
        return len(self._inspectors)

    @property
    def nbytes(self) -> int:
        return sum(i.nbytes for i in self._inspectors.values())


class GlyphLayer(QtCore.QObject):
    """See the module doc. `key` is the label over the view; `glyphs` the last {k: StepGlyphs} drawn."""

    drawn = QtCore.Signal()  # after each delivery (tests, the step inspector's follow camera)

    def __init__(self, model: SceneModel, scene_view, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.scene_view = scene_view
        self.cache = InspectorCache()
        self.worker = SweepWorker(self)
        self.worker.finished.connect(self._deliver)
        self.worker.failed.connect(lambda _tag, message: self.model.errorRaised.emit(message))
        self.glyphs: dict[int, Any] = {}
        self.step = 0
        self.key = QtWidgets.QLabel(parent)
        self.key.setObjectName("glyph_key")
        self.key.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.key.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key.setStyleSheet(
            "QLabel#glyph_key { background: rgba(21, 23, 28, 200); border: 1px solid rgba(255,255,255,22);"
            " border-radius: 7px; padding: 5px 9px; color: #d8dde6; font-size: 8.5pt; }"
        )
        self.key.hide()
        self.request_soon = qthrottled(self.request, 30)  # a scrub asks at most ~30 times a second
        model.cursorChanged.connect(self.request_soon)
        for signal in (model.resultChanged, model.viewOptionsChanged, model.optimizerStyleChanged):
            signal.connect(self.request_soon)
        model.sceneReplaced.connect(self.clear)
        model.surfaceChanged.connect(self.clear)

    @property
    def kinds(self) -> list[str]:
        return list(self.model.scene.view.glyphs)

    def clear(self, *_args: object) -> None:
        self.worker.cancel()
        self.glyphs = {}
        self.scene_view.set_glyphs([])
        self.key.hide()
        self.request_soon()

    def request(self, *_args: object) -> None:
        """Ask for the records of the cursor's step (the newest request cancels an older one)."""
        model = self.model
        if not self.kinds or model.result is None:
            if self.glyphs or self.key.isVisible():
                self.glyphs = {}
                self.scene_view.set_glyphs([])
                self.key.hide()
            return
        if model.scene.is_learned:
            self._show_key("State glyphs show the steps of analytic surfaces (a learned race trains real models).")
            self.scene_view.set_glyphs([])
            return
        scene = model.snapshot()
        ks = model.shown_runs()
        n = step_for_cursor(model.cursor, scene.steps)
        self.worker.request((n, model.revision), lambda _c, _cancelled: self.cache.records(scene, ks, n), [1])

    def wait(self, timeout: float = 60.0) -> bool:
        return self.worker.wait(timeout)

    def _deliver(self, tag: tuple, _count: int, records: dict[int, Any]) -> None:
        from optviz.core.optimizers import get_optimizer
        from optviz.core.race.glyphs import step_glyphs

        n, revision = tag
        model = self.model
        if revision != model.revision or not self.kinds:
            self.request_soon()
            return
        self.step = n
        self.glyphs = {}
        for k, record in records.items():
            if isinstance(record, str) or k >= len(model.optimizers):
                continue
            hp = model.hyperparams(k)
            self.glyphs[k] = step_glyphs(get_optimizer(model.optimizers[k].name), hp, record)
        scales = apply_glyphs(self.scene_view, self.glyphs, model.colors(), self.kinds, model.surface.domain)
        self._key(scales)
        self.drawn.emit()

    def _key(self, scales: dict[str, float]) -> None:
        from optviz.core.race.glyphs import KIND_TITLES

        rows = []
        for kind in self.kinds:
            style = LINE_NAMES[kind]
            sizes = [g.size(kind) for g in self.glyphs.values()]
            longest = max([s for s in sizes if np.isfinite(s)], default=0.0)
            what = "none of these optimizers keeps one" if longest == 0.0 else f"longest = {format_value(longest)}"
            rows.append(f"<b>{html.escape(KIND_TITLES[kind])}</b> ({style}): {what}")
        self._show_key(f"State glyphs at step {self.step:,} (one scale per kind)<br>" + "<br>".join(rows))

    def _show_key(self, text: str) -> None:
        self.key.setText(text)
        self.key.adjustSize()
        self.key.show()
        self.place()

    def place(self) -> None:
        parent = self.key.parentWidget()
        basins = parent.findChild(QtWidgets.QLabel, "basins_legend")
        x = 12
        if basins is not None and basins.isVisible():
            x = basins.geometry().right() + 10
        self.key.move(x, parent.height() - self.key.height() - 34)

    def shutdown(self) -> None:
        self.worker.shutdown()


GLYPH_MENU_ITEMS = (
    ("gradient", "−&Gradient", "The steepest-descent direction at the head: the negative of the gradient given"),
    ("update", "&Update applied", "The step the optimizer took from the head"),
    ("momentum", "−&Momentum", "The first moment / momentum buffer, negated: the push it adds (where one is kept)"),
    ("scaling", "&Scaling", "The step per unit gradient on each coordinate: Adam-like ellipses, Shampoo/SOAP rotated "
     "ellipses, Lion's and signSGD's box"),
)  # fmt: skip


def _toggle(model: SceneModel, kind: str, on: bool) -> None:
    kinds = set(model.scene.view.glyphs)
    model.set_glyphs(kinds | {kind} if on else kinds - {kind})


def glyph_menu(model: SceneModel, parent: QtWidgets.QWidget) -> QtWidgets.QMenu:
    """View > State glyphs: one checkable entry per kind, plus all on and all off; follows the model."""
    menu = QtWidgets.QMenu("State &glyphs", parent)
    menu.setToolTipsVisible(True)
    actions = {}
    for kind, text, tip in GLYPH_MENU_ITEMS:
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setToolTip(tip)
        action.toggled.connect(
            lambda on, k=kind: model.set_glyphs(
                {*model.scene.view.glyphs, k} if on else set(model.scene.view.glyphs) - {k}
            )
        )
        actions[kind] = action
    menu.addSeparator()
    menu.addAction("&All", lambda: model.set_glyphs(k for k, *_ in GLYPH_MENU_ITEMS))
    menu.addAction("&None", lambda: model.set_glyphs(()))

    def sync() -> None:
        for kind, action in actions.items():
            with QtCore.QSignalBlocker(action):
                action.setChecked(kind in model.scene.view.glyphs)

    model.viewOptionsChanged.connect(sync)
    model.sceneReplaced.connect(sync)
    sync()
    menu.actions_by_kind = actions  # tests
    return menu
