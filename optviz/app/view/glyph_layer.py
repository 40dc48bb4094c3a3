"""View > State glyphs: each shown optimizer's step drawn at its head, from the library's own state.

At the time cursor c the heads stand at step c; the glyphs show the step taken from there (step c + 1, or the
last step at the end of the race): −gradient, the update applied, −momentum and the step per unit gradient
(`optviz.core.race.glyphs`), from the records of `StepRecords` (a worker thread; a race itself records nothing).
A key over the view says what each line is and what the longest of each kind stands for (one scale per kind,
shared by every optimizer).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.readouts.metrics import format_value
from optviz.app.view.step_records import StepRecords
from optviz.render.scene_setup import apply_glyphs

#: How the key names each kind's line (`render.scene_setup.GLYPH_STYLE` draws them).
LINE_NAMES = {"gradient": "thin, pale", "momentum": "thin", "update": "thick", "scaling": "ellipse or box, pale"}


class GlyphLayer(QtCore.QObject):
    """See the module doc. `key` is the label over the view; `glyphs` the last {k: StepGlyphs} drawn."""

    drawn = QtCore.Signal()  # after each delivery drawn (tests)

    def __init__(self, model: SceneModel, scene_view, records: StepRecords, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.scene_view = scene_view
        self.records = records
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
        records.delivered.connect(self._deliver)
        for signal in (model.viewOptionsChanged, model.optimizerStyleChanged, model.optimizersReset):
            signal.connect(self._wants)
        for signal in (model.sceneReplaced, model.surfaceChanged, model.resultChanged):
            signal.connect(self._wants)
        self._wants()

    @property
    def kinds(self) -> list[str]:
        return list(self.model.scene.view.glyphs)

    def _wants(self, *_args: object) -> None:
        model = self.model
        on = bool(self.kinds) and model.result is not None
        if not on or model.scene.is_learned:
            self.glyphs = {}
            self.scene_view.set_glyphs([])
            self.key.hide()
            if on:
                self._show_key("State glyphs show the steps of analytic surfaces (a learned race trains real models).")
        self.records.want("glyphs", model.shown_runs() if on and not model.scene.is_learned else [])

    def request(self) -> None:
        """Ask for the cursor's step now (tests)."""
        self.records.request()

    def wait(self, timeout: float = 60.0) -> bool:
        return self.records.wait(timeout)

    def _deliver(self, n: int, records: dict[int, Any]) -> None:
        from optviz.core.optimizers import get_optimizer
        from optviz.core.race.glyphs import step_glyphs

        model = self.model
        if not self.kinds or model.result is None or model.scene.is_learned:
            return
        self.step = n
        self.glyphs = {}
        for k in model.shown_runs():
            record = records.get(k)
            if record is None or isinstance(record, str):
                continue
            self.glyphs[k] = step_glyphs(get_optimizer(model.optimizers[k].name), model.hyperparams(k), record)
        scales = apply_glyphs(self.scene_view, self.glyphs, model.colors(), self.kinds, model.surface.domain)
        self._key(scales)
        self.drawn.emit()

    def _key(self, scales: dict[str, float]) -> None:
        from optviz.core.race.glyphs import KIND_TITLES

        rows = []
        for kind in self.kinds:
            sizes = [g.size(kind) for g in self.glyphs.values()]
            longest = max([s for s in sizes if np.isfinite(s)], default=0.0)
            what = "none of these optimizers keeps one" if longest == 0.0 else f"longest = {format_value(longest)}"
            rows.append(f"<b>{html.escape(KIND_TITLES[kind])}</b> ({LINE_NAMES[kind]}): {what}")
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
