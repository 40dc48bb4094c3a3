"""The "Learned surface" part of the surface panel: recipe controls, progress and cancel, honesty readouts.

- Recipe: model, data set, plane, resolution, range, seed, batch size. Every change goes to the model
  (`SceneModel.set_learned`), which makes the scheduler train and compute; a model that does not fit the
  chosen data set switches the data set to the first that fits.
- While a job runs: what it does (training which optimizer, grid rows) in a progress bar, and Cancel.
  "Refit plane" fits a new shared plane to the current paths (the plane is kept while sliders move).
- Honesty: per optimizer at the time cursor, the true loss (full weight space) beside the loss the plane
  shows at the projected point, and the fraction of its path the plane explains; a chart draws both losses
  over the steps (solid: true, dashed: plane).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.theme import MUTED, PANEL, TEXT


def _fmt(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.4g}"


class LearnedPanel(QtWidgets.QWidget):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        from optviz.core.learn.datasets import DATASETS
        from optviz.core.learn.models import MODELS
        from optviz.core.learn.recipe import MAX_RANGE, MAX_RESOLUTION, MIN_RESOLUTION, PLANE_HELP, PLANES

        self.model = model
        self._models, self._datasets = MODELS, DATASETS
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        form = QtWidgets.QFormLayout()
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)

        self.net = QtWidgets.QComboBox(self)
        self.net.setToolTip("The network trained by every optimizer, from one seeded initialisation")
        for spec in MODELS.values():
            self.net.addItem(spec.name, spec.name)
            self.net.setItemData(self.net.count() - 1, spec.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.data = QtWidgets.QComboBox(self)
        self.data.setToolTip("The data set (loads offline; the same split and batch order for every optimizer)")
        for info in DATASETS.values():
            self.data.addItem(info.name, info.name)
            self.data.setItemData(self.data.count() - 1, info.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.plane = QtWidgets.QComboBox(self)
        self.plane.setToolTip(
            "The 2-D plane through weight space that is drawn, shared by every optimizer:<br>"
            + "<br>".join(f"<b>{k}</b>: {html.escape(v)}" for k, v in PLANE_HELP.items())
        )
        for name in PLANES:
            self.plane.addItem(name, name)
            self.plane.setItemData(self.plane.count() - 1, PLANE_HELP[name], QtCore.Qt.ItemDataRole.ToolTipRole)
        self.resolution = QtWidgets.QSpinBox(self)
        self.resolution.setRange(MIN_RESOLUTION, MAX_RESOLUTION)
        self.resolution.setSingleStep(10)
        self.resolution.setToolTip("Grid points per side: each is one evaluation of the whole training set")
        self.range = QtWidgets.QDoubleSpinBox(self)
        self.range.setRange(0.05, MAX_RANGE)
        self.range.setSingleStep(0.25)
        self.range.setDecimals(2)
        self.range.setToolTip(
            "Random plane: the grid's half-width in direction units (1 moves every filter by its own norm).<br>"
            "PCA and three-point: a multiple of what just covers every path (1 = fit the paths)."
        )
        self.seed = QtWidgets.QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the initialisation, the mini-batch order and the random directions")
        self.batch = QtWidgets.QSpinBox(self)
        self.batch.setRange(1, 100_000)
        self.batch.setToolTip("Mini-batch size of every training step (at least the data set: full batch)")
        for label, widget in (
            ("model", self.net),
            ("data set", self.data),
            ("plane", self.plane),
            ("resolution", self.resolution),
            ("range", self.range),
            ("seed", self.seed),
            ("batch size", self.batch),
        ):
            form.addRow(label, widget)
        layout.addLayout(form)
        for combo in (self.net, self.data, self.plane):
            combo.currentIndexChanged.connect(self._edited)
        for spin in (self.resolution, self.seed, self.batch):
            spin.editingFinished.connect(self._edited)
        self.range.editingFinished.connect(self._edited)

        row = QtWidgets.QHBoxLayout()
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.setToolTip("Training each optimizer, then the loss over the grid")
        self.cancel = QtWidgets.QPushButton("Cancel", self)
        self.cancel.setToolTip("Stop training or computing the surface (nothing restarts until you change something)")
        self.cancel.clicked.connect(self.model.learnedCancelRequested)
        self.refit = QtWidgets.QPushButton("Refit plane", self)
        self.refit.setToolTip(
            "Fit a new shared plane (and grid) to the paths as they are now. The plane is kept while sliders "
            "move, so the other paths stay put; refit when the warning says the plane explains little."
        )
        self.refit.clicked.connect(self.model.learnedRefitRequested)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel)
        row.addWidget(self.refit)
        layout.addLayout(row)
        self.status = QtWidgets.QLabel("", self)
        self.status.setProperty("role", "muted")
        self.status.setToolTip("What the learned-surface job is doing")
        layout.addWidget(self.status)

        self.table = QtWidgets.QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["optimizer", "true loss", "plane loss", "explained"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(
            "At the time cursor: the true training loss of the real weights, the loss the plane shows at the "
            "projected point, and how much of each path's movement lies in the plane"
        )
        self.table.setMaximumHeight(150)
        layout.addWidget(self.table)

        self.chart = pg.PlotWidget(self, background=PANEL, axisItems=compact_axes())
        self.chart.setToolTip("Loss against step: solid = true loss, dashed = loss read off the plane")
        self.chart.setMinimumHeight(180)  # room for three labels on its log axis
        plot = self.chart.getPlotItem()
        plot.setTitle(f"<span style='color:{TEXT}; font-size:9pt'>true (solid) vs plane (dashed) loss</span>")
        plot.setLabel("bottom", "step", color=MUTED)
        plot.showGrid(x=True, y=True, alpha=0.12)
        plot.setLogMode(x=False, y=True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.cursor_line = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#e9ecf2", width=1))
        plot.addItem(self.cursor_line, ignoreBounds=True)
        self._curves: list[pg.PlotDataItem] = []
        layout.addWidget(self.chart)

        model.learnedProgress.connect(self._progress)
        model.resultChanged.connect(self._result)
        model.optimizerStyleChanged.connect(lambda _k: self._result(None))
        model.cursorChanged.connect(self._cursor)
        model.busyChanged.connect(self._busy)
        self._busy(model.busy)
        self.refresh()

    # ---- model -> widgets ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        recipe = self.model.scene.learned
        if recipe is None:
            return
        widgets = (self.net, self.data, self.plane, self.resolution, self.range, self.seed, self.batch)
        with signals_blocked(*widgets):
            self.net.setCurrentIndex(self.net.findData(recipe.model))
            self.data.setCurrentIndex(self.data.findData(recipe.dataset))
            self.plane.setCurrentIndex(self.plane.findData(recipe.plane))
            self.resolution.setValue(recipe.resolution)
            self.range.setValue(recipe.range)
            self.seed.setValue(recipe.seed)
            self.batch.setValue(recipe.batch_size)

    def _busy(self, busy: bool) -> None:
        self.cancel.setEnabled(busy and self.model.scene.is_learned)
        if not busy:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if self.model.result is not None else 0)
            if self.status.text().startswith(("training", "computing")):
                self.status.setText("cancelled: change a setting or press Refit plane to compute again")

    def _progress(self, text: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if text == "done":
            self.status.setText("")
        else:
            self.status.setText(f"{text} · {done}/{total}" if text.startswith("computing") else text)

    def _result(self, _changed) -> None:
        result = self.model.learned_result
        if result is None:
            self.table.setRowCount(0)
            for curve in self._curves:
                curve.setData([], [])
            return
        plane_losses = result.plane_losses
        k_count = plane_losses.shape[0]
        plot = self.chart.getPlotItem()
        while len(self._curves) < 2 * k_count:
            curve = pg.PlotDataItem(connect="finite")
            plot.addItem(curve)
            self._curves.append(curve)
        while len(self._curves) > 2 * k_count:
            plot.removeItem(self._curves.pop())
        steps = np.arange(plane_losses.shape[-1], dtype=np.float64)
        for k in range(k_count):
            color = self.model.color(k) if k < len(self.model.optimizers) else "#888888"
            visible = self.model.shown(k)
            for curve, values, style in (
                (self._curves[2 * k], result.losses[k, 0], QtCore.Qt.PenStyle.SolidLine),
                (self._curves[2 * k + 1], plane_losses[k, 0], QtCore.Qt.PenStyle.DashLine),
            ):
                y = np.where(np.asarray(values) > 0, values, np.nan)
                curve.setData(steps, y, pen=pg.mkPen(color, width=1.5, style=style))
                curve.setVisible(visible)
        if self.status.text() == "":
            variance = result.plane.explained_variance
            if variance is not None:
                self.status.setText(f"PCA plane: {variance[0] * 100:.1f} % + {variance[1] * 100:.1f} % of the variance")
        self._cursor(self.model.cursor)

    def _cursor(self, step: float) -> None:
        self.cursor_line.setValue(step)
        result = self.model.learned_result
        if result is None:
            return
        plane_losses = result.plane_losses
        k_count = plane_losses.shape[0]
        t = int(min(max(step, 0), plane_losses.shape[-1] - 1))
        self.table.setRowCount(k_count)
        for k in range(k_count):
            name = self.model.display_name(k) if k < len(self.model.optimizers) else result.configs[k].display_name
            cells = (
                name,
                _fmt(float(result.losses[k, 0, t])),
                _fmt(float(plane_losses[k, 0, t])),
                f"{float(result.explained[k]) * 100:.0f} %",
            )
            for column, text in enumerate(cells):
                item = self.table.item(k, column)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    self.table.setItem(k, column, item)
                item.setText(text)
            if k < len(self.model.optimizers):
                self.table.item(k, 0).setForeground(pg.mkColor(self.model.color(k)))

    # ---- widgets -> model ---------------------------------------------------------------------------------
    def recipe_from_widgets(self):
        from optviz.core.learn.recipe import LearnedRecipe

        model_name, dataset = self.net.currentData(), self.data.currentData()
        kinds = self._models[model_name].kinds
        if self._datasets[dataset].kind not in kinds:
            dataset = next(name for name, info in self._datasets.items() if info.kind in kinds)
        return LearnedRecipe(
            model=model_name,
            dataset=dataset,
            plane=self.plane.currentData(),
            resolution=self.resolution.value(),
            range=float(self.range.value()),
            seed=self.seed.value(),
            batch_size=self.batch.value(),
        )

    def _edited(self, *_args: object) -> None:
        if self.model.scene.is_learned:
            self.model.set_learned(self.recipe_from_widgets())
            self.refresh()
