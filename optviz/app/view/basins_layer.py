"""Basins of attraction on the 3-D view: the selected optimizer from every start of a grid, computed on a
worker thread (a 32 x 32 grid first, then the scene's grid, up to 256 x 256) and draped on the surface as an
overlay, with a legend in the view's bottom-left corner.

It recomputes when anything the basins depend on changes (surface, steps, seed, tolerance, the optimizer or
its hyperparameters, the mode, the grid); a newer request cancels an older one, so a slider drag never
queues stale work and the overlay never shows another setting's basins.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.sweep.sweep_worker import SweepWorker
from optviz.core.optimizers import get_optimizer
from optviz.core.sweep.run import RunConditions
from optviz.core.sweep.scene_basins import scene_basins
from optviz.render.basins import legend_entries
from optviz.render.scene_setup import apply_basins

#: Grid sizes per side: coarse first, then the scene's own (`basins_grid`).
COARSE = 32


class BasinsLayer(QtCore.QObject):
    """See the module doc. `sweep` is the basins drawn now (None when off)."""

    def __init__(self, model: SceneModel, scene_view, parent_widget: QtWidgets.QWidget) -> None:
        super().__init__(parent_widget)
        self.model = model
        self.scene_view = scene_view
        self.worker = SweepWorker(self)
        self.worker.finished.connect(self._delivered)
        self.worker.failed.connect(lambda _tag, message: self.model.errorRaised.emit(message))
        self.sweep = None
        self._key: tuple | None = None
        self.legend = QtWidgets.QLabel(parent_widget)
        self.legend.setObjectName("basins_legend")
        self.legend.setStyleSheet(
            "QLabel#basins_legend { background: rgba(21,23,28,205); color: #d8dde6; border-radius: 4px;"
            " padding: 6px 8px; }"
        )
        self.legend.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.legend.hide()
        for signal in (model.viewOptionsChanged, model.raceInputsChanged, model.sceneReplaced):
            signal.connect(self.update)
        self.update()  # a scene opened with basins on shows them at once

    def key(self) -> tuple | None:
        scene = self.model.scene
        view = scene.view
        if view.basins == "off" or scene.is_learned or not scene.optimizers:
            return None
        k = min(view.basins_optimizer, len(scene.optimizers) - 1)
        return (
            view.basins,
            view.basins_grid,
            scene.surface,
            tuple(sorted(scene.surface_params.items())),
            scene.steps,
            scene.seed,
            scene.tolerance,
            scene.optimizers[k].name,
            tuple(sorted(self.model.hyperparams(k).items())),
            RunConditions.of(scene, k),
        )

    def update(self, *_args: object) -> None:
        key = self.key()
        if key == self._key:
            return
        self._key = key
        if key is None:
            self.worker.cancel()
            self.sweep = None
            apply_basins(self.scene_view, self.model.scene, None)
            self.legend.hide()
            return
        scene = self.model.snapshot()
        counts = sorted({min(COARSE, scene.view.basins_grid), scene.view.basins_grid})
        self.worker.request(key, lambda n, cancelled: scene_basins(scene, n, cancelled), counts)

    def _delivered(self, key: object, _n: int, sweep) -> None:
        if key != self._key:
            return
        self.sweep = sweep
        scene = self.model.scene
        apply_basins(self.scene_view, scene, sweep)
        title = get_optimizer(sweep.optimizer).title
        lines = [
            f"<span style='color:{colour}'>■</span> {html.escape(text)}"
            for colour, text in legend_entries(scene.view.basins, list(self.model.surface.minima), sweep.steps)
        ]
        what = "minimum reached" if scene.view.basins == "minima" else "steps to the tolerance"
        self.legend.setText(
            f"<b>Basins of {html.escape(title)}</b> ({what}, {sweep.nx} x {sweep.ny} starts)<br>" + "<br>".join(lines)
        )
        self.legend.adjustSize()
        self.place()
        self.legend.show()

    def place(self) -> None:
        parent = self.legend.parentWidget()
        self.legend.move(12, parent.height() - self.legend.height() - 34)

    def wait(self, timeout: float = 60.0) -> bool:
        return self.worker.wait(timeout)

    def shutdown(self) -> None:
        self.worker.shutdown()
