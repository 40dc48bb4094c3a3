"""The Sensitivity dock: how each optimizer's outcome depends on its settings, computed live by batched sweeps.

Three pages:
- **Map**: the selected optimizer over two of its hyperparameters (default lr x beta1, or lr x momentum) on
  their schema scales, coloured by a metric (final loss on a log scale by default), diverged cells grey. A
  crosshair marks the current values; clicking or dragging on the map sets both sliders, and the race path
  follows live. Moving a slider moves the crosshair.
- **All optimizers**: the same map (lr x each one's second hyperparameter) for every racing optimizer, side by
  side on one colour scale, each titled with the share of its runs that reach the minimum.
- **Tuning**: after "Tune all", the objective against the learning rate per optimizer (log-log), the
  objective and budget written on the chart; the sliders are set to each optimizer's best, marked "tuned" in
  the leaderboard, and "Undo tuning" restores them. Tune all and Undo tuning are each one step of Edit >
  Undo too; the button is live while some tuned optimizer's settings differ from before Tune all (a Ctrl+Z
  that gave them back greys it, a redo lights it). The button's menu adds each optimizer's second
  hyperparameter to the search (the curve is then the one through the best value of it).

Maps recompute when the surface, its parameters, the starts, the step count, the seed, the tolerance or the
optimizer's other hyperparameters change: a 16 x 16 grid first (a picture at once), then 64 x 64, on a
worker thread; a newer request cancels an older one, so the UI never waits. The last few finished maps are
kept: coming back to a setting already mapped (an undo, reopening a scene, reselecting an optimizer) redraws it
at once instead of sweeping it again.
"""

from __future__ import annotations

import functools
import html
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.sweep.sweep_view import MapView
from optviz.app.sweep.sweep_worker import SweepWorker
from optviz.app.widgets.axis import compact_axes
from optviz.app.widgets.theme import ERROR, MUTED, TEXT
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.scene import Scene
from optviz.core.sweep import HyperparamSweep, RunConditions, SweepAxis, default_axis, sweep_hyperparams, tune
from optviz.core.sweep.run import median_final_loss
from optviz.core.sweep.summary import METRICS
from optviz.core.sweep.tune import OBJECTIVE, TuneResult, random_starts
from optviz.export.plots import value_range

#: Grid sizes of a map: coarse first (a picture at once), then fine.
MAP_COUNTS = (16, 64)
SMALL_COUNTS = (12, 32)
#: Finished maps kept for reuse (each a few hundred KB).
KEPT_MAPS = 8
#: Milliseconds between drawing one small map and the next (room for the UI thread to paint in between).
SMALL_FILL_MS = 15
#: How many decades either side of the current value a log axis of a map spans (within the schema's range).
FOCUS_DECADES = 3
#: Most starts a map averages over (a race on a grid of starts uses an even subset).
MAX_MAP_STARTS = 16
#: Preferred second axes, in order; lr is always the first.
SECOND_AXES = ("beta1", "momentum", "beta2", "eps", "weight_decay")
TUNE_BUDGET, TUNE_STARTS = 24, 16
#: Values of the second hyperparameter when Tune all searches one (over its schema range, on its scale).
TUNE_SECOND_COUNT = 5
#: Metrics shown on a log colour scale.
LOG_METRICS = {"final_loss", "best_loss"}
SHOWN_METRICS = ("final_loss", "best_loss", "steps_to_tolerance")


def float_params(name: str) -> list[str]:
    return [p.name for p in get_optimizer(name).schema if p.kind == "float"]


def second_axis(name: str) -> str | None:
    names = [n for n in float_params(name) if n != "lr"]
    return next((n for n in SECOND_AXES if n in names), names[0] if names else None)


def map_axis(name: str, param_name: str, current: float) -> SweepAxis:
    """A map's axis: the schema's range on its scale, but on a log axis only the three decades either side
    of the current value (a learning rate's schema range spans nine decades, most of them dead)."""
    spec = get_optimizer(name)
    axis = default_axis(spec.schema, param_name)
    if axis.log and current > 0:
        low, high = max(axis.low, current / 10**FOCUS_DECADES), min(axis.high, current * 10**FOCUS_DECADES)
        axis = SweepAxis(axis.name, low, high, axis.count, True)
    return axis


def map_starts(scene: Scene, surface) -> np.ndarray:
    starts = scene.start_points(surface)
    if len(starts) > MAX_MAP_STARTS:
        starts = starts[np.linspace(0, len(starts) - 1, MAX_MAP_STARTS).round().astype(int)]
    return starts


def metric_grid(sweep: HyperparamSweep, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, diverged) per cell, (ny, nx): medians over the starts; a cell diverges when its median does."""
    cells = sweep.cells
    if metric == "final_loss":
        values = median_final_loss(cells)
    elif metric == "best_loss":
        values = np.median(np.where(np.isnan(cells.best_loss), np.inf, cells.best_loss), axis=-1)
    else:
        steps = np.where(cells.steps_to_tolerance < 0, np.inf, cells.steps_to_tolerance).astype(float)
        values = np.median(steps, axis=-1)
    diverged = cells.diverged.mean(axis=-1) > 0.5
    return values, diverged


def tuned_second(result: TuneResult) -> bool:
    """Whether a tuning searched a second hyperparameter and found a best value of it."""
    return result.second is not None and result.second.name in result.best


def best_row(result: TuneResult) -> int:
    """The row of a tuning's objective grid that holds its best point (0 with no second hyperparameter)."""
    if not tuned_second(result):
        return 0
    return int(np.argmin(np.abs(result.second.values - result.best[result.second.name])))


@dataclass(frozen=True)
class MapRequest:
    """Everything a map depends on: equal requests give equal maps (so a slider drag on x or y reuses it)."""

    key: tuple
    k: int
    optimizer: str
    x: str
    y: str


class SensitivityPanel(QtWidgets.QWidget):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.worker = SweepWorker(self)
        self.worker.finished.connect(self._delivered)
        self.worker.failed.connect(self._failed)
        self.sweep: HyperparamSweep | None = None
        self._request: MapRequest | None = None
        self._finished_maps: OrderedDict[tuple, HyperparamSweep] = OrderedDict()  # see the module doc
        self._small: dict[int, HyperparamSweep] = {}
        self._undo: dict[int, dict[str, Value]] | None = None
        self._stale = True  # the map is out of date and waits to be shown
        self.active = False  # the tab is in front (see `set_active`)
        self.tune_results = []

        self.title = QtWidgets.QLabel()
        self.x_combo, self.y_combo, self.metric_combo = (
            QtWidgets.QComboBox(),
            QtWidgets.QComboBox(),
            QtWidgets.QComboBox(),
        )
        for key in SHOWN_METRICS:
            self.metric_combo.addItem(METRICS[key], key)
        self.x_combo.setToolTip("The hyperparameter along the map's x axis (its whole range, on its scale)")
        self.y_combo.setToolTip("The hyperparameter along the map's y axis")
        self.metric_combo.setToolTip("What colours a cell: the median over the race's starts")
        self.pages = QtWidgets.QTabBar()
        for text in ("Map", "All optimizers", "Tuning"):
            self.pages.addTab(text)
        self.pages.setToolTip("One optimizer's map, every racing optimizer's map, or the result of Tune all")
        self.tune_button = QtWidgets.QToolButton()
        self.tune_button.setText("Tune all")
        self.tune_button.setToolTip(
            "Search every racing optimizer's learning rate on the same grid, scored by the same objective, "
            "and set each one's best (Undo tuning restores); the arrow adds a second hyperparameter"
        )
        self.tune_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        tune_menu = QtWidgets.QMenu(self.tune_button)
        self.tune_second_action = tune_menu.addAction(
            f"Also tune each one's second hyperparameter ({TUNE_SECOND_COUNT} values of beta1, momentum, …)"
        )
        self.tune_second_action.setCheckable(True)
        self.tune_button.setMenu(tune_menu)
        self.undo_button = QtWidgets.QPushButton("Undo tuning")
        self.undo_button.setToolTip("Give every optimizer back the settings it had before Tune all")
        self.undo_button.setEnabled(False)
        header = QtWidgets.QHBoxLayout()
        header.addWidget(self.pages)
        header.addWidget(self.title, 1)
        for label, combo in (("x", self.x_combo), ("y", self.y_combo), ("colour", self.metric_combo)):
            caption = QtWidgets.QLabel(label)
            caption.setProperty("role", "muted")
            header.addWidget(caption)
            header.addWidget(combo)
        header.addWidget(self.tune_button)
        header.addWidget(self.undo_button)
        # In a narrow dock the combos give way (they elide), never the buttons.
        for combo in (self.x_combo, self.y_combo, self.metric_combo):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
        for button in (self.tune_button, self.undo_button):  # never below their size hint (styled)
            button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Minimum, QtWidgets.QSizePolicy.Policy.Fixed)

        self.map = MapView()
        self.info = QtWidgets.QLabel()
        self.info.setProperty("role", "muted")
        self.info.setWordWrap(True)
        self.small_area = QtWidgets.QWidget()
        self.small_grid = QtWidgets.QGridLayout(self.small_area)
        self.small_grid.setContentsMargins(0, 0, 0, 0)
        self.small_views: list[tuple[QtWidgets.QLabel, MapView]] = []
        self._small_count = 0
        self._small_queue: list = []  # small maps waiting to be drawn, one per tick (`_draw_small`)
        self._small_timer = QtCore.QTimer(self)
        self._small_timer.setInterval(SMALL_FILL_MS)
        self._small_timer.timeout.connect(self._fill_next_small)
        self.tune_plot = pg.PlotWidget(background=None, axisItems=compact_axes())
        self.tune_plot.setLogMode(x=True, y=True)
        self.tune_plot.setLabel("bottom", "learning rate", color=TEXT)
        self.tune_plot.setLabel("left", "objective", color=TEXT)
        self.tune_plot.showGrid(x=True, y=True, alpha=0.12)
        self.tune_plot.addLegend(offset=(-10, 10), labelTextColor=TEXT)
        self.tune_plot.setMenuEnabled(False)
        self.stack = QtWidgets.QStackedWidget()
        for widget in (self.map, self.small_area, self.tune_plot):
            self.stack.addWidget(widget)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.info)

        self.pages.currentChanged.connect(self._page_changed)
        self.x_combo.currentIndexChanged.connect(lambda _i: self.recompute(force=True))
        self.y_combo.currentIndexChanged.connect(lambda _i: self.recompute(force=True))
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._redraw())
        self.map.picked.connect(self._picked)
        self.map.hovered.connect(self._hovered)
        self.tune_button.clicked.connect(self.tune_all)
        self.undo_button.clicked.connect(self.undo_tuning)
        model.raceInputsChanged.connect(self.recompute)
        model.selectionChanged.connect(lambda _k: self._selection_changed())
        model.optimizerChanged.connect(self._optimizer_changed)
        model.sceneReplaced.connect(self._selection_changed)
        model.sceneReplaced.connect(self._forget_tuning)
        model.optimizersReset.connect(self._selection_changed)
        for signal in (model.optimizerChanged, model.optimizersReset):
            signal.connect(lambda *_: self.undo_button.setEnabled(self._tuning_undoable()))
        self._selection_changed()

    # ---- what to sweep -------------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        k = self.model.selected
        name = self.model.optimizers[k].name if 0 <= k < len(self.model.optimizers) else None
        params = float_params(name) if name else []
        with signals_blocked(self.x_combo), signals_blocked(self.y_combo):
            for combo in (self.x_combo, self.y_combo):
                combo.clear()
                combo.addItems(params)
            if "lr" in params:
                self.x_combo.setCurrentText("lr")
            second = second_axis(name) if name else None
            if second:
                self.y_combo.setCurrentText(second)
        self.recompute(force=True)

    def _optimizer_changed(self, k: int) -> None:
        if k == self.model.selected:
            self._mark()

    def _reason_not_to_sweep(self) -> str:
        k = self.model.selected
        if self.model.scene.is_learned:
            return "Sweeps run on analytic and formula surfaces; a learned surface is a trained network."
        if not 0 <= k < len(self.model.optimizers):
            return "Add an optimizer to the race to see its map."
        spec = get_optimizer(self.model.optimizers[k].name)
        if spec.fast is None:
            return f"{spec.title} steps the library optimizer itself, too slow for a live map."
        if self.x_combo.count() < 2:
            return f"{spec.title} has one real-valued hyperparameter (lr): see its curve under Tuning."
        if self.x_combo.currentText() == self.y_combo.currentText():
            return "Choose two different hyperparameters for x and y."
        return ""

    def current_request(self) -> MapRequest | None:
        if self._reason_not_to_sweep():
            return None
        scene = self.model.scene
        k = self.model.selected
        entry = scene.optimizers[k]
        x, y = self.x_combo.currentText(), self.y_combo.currentText()
        others = {n: v for n, v in self.model.hyperparams(k).items() if n not in (x, y)}
        key = (
            scene.surface,
            tuple(sorted(scene.surface_params.items())),
            tuple(map(tuple, scene.starts)),
            scene.grid,
            scene.steps,
            scene.seed,
            scene.tolerance,
            entry.name,
            tuple(sorted(others.items())),
            x,
            y,
            RunConditions.of(scene, k),  # a map cell is that race at its values
        )
        return MapRequest(key, k, entry.name, x, y)

    def recompute(self, *_args: object, force: bool = False) -> None:
        """Start a new map when what it depends on changed (or `force`)."""
        reason = self._reason_not_to_sweep()
        if reason:
            self.worker.cancel()
            self._request, self.sweep = None, None
            self.map.clear_cells()
            self.title.setText("")
            self.info.setText(reason)
            return
        request = self.current_request()
        if not force and self._request is not None and request.key == self._request.key and self._on_map():
            self._mark()
            return
        if not self.active:
            self._stale = True  # computed when the tab comes to the front: no work for a map nobody sees
            return
        self._stale = False
        self._request = request
        hp = self.model.hyperparams(request.k)
        x_axis = map_axis(request.optimizer, request.x, float(hp[request.x]))
        y_axis = map_axis(request.optimizer, request.y, float(hp[request.y]))
        self.map.set_axes(x_axis, y_axis)
        self._mark()
        self.title.setText(f"<b>{html.escape(self.model.display_name(request.k))}</b>")
        map_key = (request.key, x_axis, y_axis)  # with the key, everything the sweep below reads
        if map_key in self._finished_maps:
            self.worker.cancel()
            self._finished_maps.move_to_end(map_key)
            self.sweep = self._finished_maps[map_key]
            self._redraw()
        else:
            self._sweep_map(map_key, request, hp, x_axis, y_axis)
        if self.pages.currentIndex() == 1:
            self._recompute_small()

    def _sweep_map(
        self, map_key: tuple, request: MapRequest, hp: dict[str, Value], x_axis: SweepAxis, y_axis: SweepAxis
    ) -> None:
        scene = self.model.snapshot()
        surface = scene.build_surface()
        starts = map_starts(scene, surface)
        self.info.setText(f"computing a {MAP_COUNTS[0]} x {MAP_COUNTS[0]} map…")
        conditions = RunConditions.of(scene, request.k)

        def run(n: int, cancelled):
            return sweep_hyperparams(
                surface,
                request.optimizer,
                hp,
                x_axis.with_count(n),
                y_axis.with_count(n),
                starts,
                scene.steps,
                scene.seed,
                scene.tolerance,
                cancelled,
                conditions,
            )

        self.worker.request(("map", map_key), run, MAP_COUNTS)

    # ---- results -------------------------------------------------------------------------------------------
    def _delivered(self, tag: object, n: int, result: object) -> None:
        kind = tag[0]
        if kind == "map":
            self.sweep = result
            self._redraw()
            if n == MAP_COUNTS[-1]:
                self._finished_maps[tag[1]] = result
                while len(self._finished_maps) > KEPT_MAPS:
                    self._finished_maps.popitem(last=False)
        elif kind == "small":
            self._small = result
            self._draw_small()
        elif kind == "tune":
            self._tuned(result)

    def _failed(self, _tag: object, message: str) -> None:
        self.info.setText(f"<span style='color:{ERROR}'>{html.escape(message)}</span>")

    @property
    def metric(self) -> str:
        return self.metric_combo.currentData() or "final_loss"

    def _redraw(self) -> None:
        if self.sweep is None:
            return
        values, diverged = metric_grid(self.sweep, self.metric)
        log = self.metric in LOG_METRICS
        levels = value_range(np.where(diverged, np.nan, values), log)
        self.map.show_cells(values, diverged, levels, log)
        self._mark()
        ny, nx = values.shape
        share = self.sweep.converged_share()
        starts = len(self.sweep.starts)
        more = "" if nx >= MAP_COUNTS[-1] else " (refining…)"
        self.info.setText(
            f"{nx} x {ny} settings x {starts} start{'s' * (starts > 1)} x {self.sweep.steps} steps{more}: "
            f"{100 * share:.0f}% of runs reach the minimum; grey cells diverge. "
            f"Click or drag on the map to set both values."
        )

    def _on_map(self) -> bool:
        """Whether the current values lie on the map drawn (a slider may have left its focus window)."""
        request, x, y = self._request, self.map.x, self.map.y
        if request is None or x is None or y is None:
            return False
        hp = self.model.hyperparams(request.k)
        return x.low <= float(hp[request.x]) <= x.high and y.low <= float(hp[request.y]) <= y.high

    def _mark(self) -> None:
        request = self._request
        if request is None or self.map.x is None:
            return
        hp = self.model.hyperparams(request.k)
        self.map.mark(float(hp[request.x]), float(hp[request.y]))

    def _picked(self, x_value: float, y_value: float) -> None:
        request = self._request
        if request is None:
            return
        # One re-race for both values: the second set_hyperparam's request coalesces with the first's.
        self.model.set_hyperparam(request.k, request.x, float(f"{x_value:.4g}"))
        self.model.set_hyperparam(request.k, request.y, float(f"{y_value:.4g}"))

    def _hovered(self, x_value: float, y_value: float) -> None:
        sweep = self.sweep
        if sweep is None:
            return
        xs, ys = sweep.x.values, sweep.y.values
        i = int(np.argmin(np.abs(np.log10(xs / x_value)) if sweep.x.log else np.abs(xs - x_value)))
        j = int(np.argmin(np.abs(np.log10(ys / y_value)) if sweep.y.log else np.abs(ys - y_value)))
        cells = sweep.cells
        values, _ = metric_grid(sweep, self.metric)
        text = f"{sweep.x.name} {xs[i]:.3g}, {sweep.y.name} {ys[j]:.3g}: {METRICS[self.metric]} {values[j, i]:.3g}"
        reasons = {str(r) for r in cells.reason[j, i] if r}
        converged = int(cells.converged[j, i].sum())
        text += f"; {converged} of {len(sweep.starts)} run(s) reach the minimum"
        if reasons:
            step = int(cells.stopped_at[j, i][cells.diverged[j, i]].min())
            text += f"; diverged (first at step {step}): {'; '.join(sorted(reasons))}"
        self.info.setText(html.escape(text))

    # ---- small multiples -----------------------------------------------------------------------------------
    def _page_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        for widget in (self.x_combo, self.y_combo):
            widget.setEnabled(index == 0)
        if index == 1:
            self._recompute_small()
        elif index == 0:
            self.recompute(force=True)

    def _recompute_small(self) -> None:
        scene = self.model.snapshot()
        if scene.is_learned:
            self.info.setText("Sweeps run on analytic and formula surfaces; a learned surface is a trained network.")
            return
        surface = scene.build_surface()
        starts = map_starts(scene, surface)
        jobs = []
        for k in self.model.shown_runs():
            name = scene.optimizers[k].name
            second = second_axis(name)
            if get_optimizer(name).fast is None or second is None:
                continue
            hp = self.model.hyperparams(k)
            x, y = map_axis(name, "lr", float(hp["lr"])), map_axis(name, second, float(hp[second]))
            jobs.append((k, name, hp, x, y, RunConditions.of(scene, k)))
        self.info.setText(f"computing {len(jobs)} maps…")

        def run(n: int, cancelled):
            return {
                k: sweep_hyperparams(
                    surface,
                    name,
                    hp,
                    x.with_count(n),
                    y.with_count(n),
                    starts,
                    scene.steps,
                    scene.seed,
                    scene.tolerance,
                    cancelled,
                    conditions,
                )
                for k, name, hp, x, y, conditions in jobs
            }

        self.worker.request(("small",), run, SMALL_COUNTS)

    def _draw_small(self) -> None:
        """Draw the delivered small maps, one per `SMALL_FILL_MS` tick: a pyqtgraph plot costs the UI thread
        ~30 ms to paint and a new one ~15 ms to make, so four at once would freeze it for ~200 ms."""
        self._small_queue = []
        if not self._small:
            self._set_small_count(0)
            return
        grids = {k: metric_grid(s, "final_loss") for k, s in self._small.items()}
        shared = value_range(np.concatenate([np.where(d, np.nan, v).ravel() for v, d in grids.values()]), True)
        self._set_small_count(len(grids))
        self._small_queue = [
            functools.partial(self._fill_small, i, k, sweep, grids[k], shared)
            for i, (k, sweep) in enumerate(self._small.items())
        ]
        low, high = shared
        self.info.setText(
            f"final loss on one log colour scale, {low:.2g} (dark) to {high:.2g} (yellow); grey: diverged; "
            "each map is lr x the optimizer's second hyperparameter; the share is of all its runs."
        )
        self._small_timer.start()

    def _fill_next_small(self) -> None:
        if self._small_queue:
            self._small_queue.pop(0)()
        if not self._small_queue:
            self._small_timer.stop()

    def flush(self) -> None:
        """Draw every small map still queued, now (screenshots and tests, after the sweeps have landed)."""
        while self._small_queue:
            self._fill_next_small()

    def _set_small_count(self, count: int) -> None:
        """Make room for `count` small maps; the plots themselves are made as they are first filled and reused
        from one delivery to the next (coarse, then fine, then every change)."""
        if count == self._small_count:
            return
        while self.small_grid.count():
            self.small_grid.takeAt(0).widget().deleteLater()
        self.small_views = []
        self._small_count = count

    def _fill_small(self, i: int, k: int, sweep: HyperparamSweep, grid, shared: tuple[float, float]) -> None:
        if i == len(self.small_views):  # first fill of this slot: make its plot
            label, view = QtWidgets.QLabel(), MapView(with_colour_bar=False)
            cell = QtWidgets.QWidget()
            box = QtWidgets.QVBoxLayout(cell)
            box.setContentsMargins(2, 2, 2, 2)
            box.addWidget(label)
            box.addWidget(view, 1)
            columns = max(1, min(4, self._small_count))
            self.small_grid.addWidget(cell, i // columns, i % columns)
            self.small_views.append((label, view))
        label, view = self.small_views[i]
        values, diverged = grid
        view.set_axes(sweep.x, sweep.y)
        view.show_cells(values, diverged, shared, True)
        hp = self.model.hyperparams(k)
        view.mark(float(hp[sweep.x.name]), float(hp[sweep.y.name]))
        label.setText(
            f"<span style='color:{self.model.color(k)}'>■</span> {html.escape(self.model.display_name(k))}: "
            f"<b>{100 * sweep.converged_share():.0f}%</b> reach the minimum"
        )

    # ---- tuning ----------------------------------------------------------------------------------------
    def tune_all(self) -> None:
        scene = self.model.snapshot()
        if scene.is_learned:
            self.info.setText("Tuning runs on analytic and formula surfaces.")
            return
        surface = scene.build_surface()
        ks = [k for k in self.model.shown_runs() if get_optimizer(scene.optimizers[k].name).fast is not None]
        entries = [(scene.optimizers[k].name, self.model.hyperparams(k)) for k in ks]
        conditions = [RunConditions.of(scene, k) for k in ks]
        starts = random_starts(surface, TUNE_STARTS, scene.seed)
        previous = {k: dict(scene.optimizers[k].hyperparams) for k in ks}
        second = self.tune_second_axes([name for name, _ in entries])
        self.pages.setCurrentIndex(2)
        grid = f"{TUNE_BUDGET} learning rates" + (f" x {TUNE_SECOND_COUNT} values of a second" if second else "")
        self.info.setText(f"tuning {len(ks)} optimizers: {grid} x {TUNE_STARTS} starts…")

        def run(_n: int, cancelled):
            budgets = tuple(b for b in (scene.steps // 4, scene.steps // 2) if b >= 1)
            results = tune(
                surface,
                entries,
                TUNE_BUDGET,
                starts,
                scene.steps,
                scene.seed,
                scene.tolerance,
                second=second,
                cancelled=cancelled,
                budgets=budgets,
                conditions=conditions,
            )
            return ks, previous, results, scene.steps

        self.worker.request(("tune",), run, (TUNE_BUDGET,))

    def tune_second_axes(self, names: list[str]) -> dict[str, SweepAxis]:
        """Each optimizer's second axis (its schema's range and scale, `TUNE_SECOND_COUNT` values) when the
        menu asks for one; an optimizer with no second real-valued hyperparameter tunes its lr alone."""
        if not self.tune_second_action.isChecked():
            return {}
        axes = {}
        for name in names:
            param = second_axis(name)
            if param is not None:
                axes[name] = default_axis(get_optimizer(name).schema, param).with_count(TUNE_SECOND_COUNT)
        return axes

    def _tuned(self, payload) -> None:
        ks, previous, results, steps = payload
        self.tune_results = list(zip(ks, results, strict=True))
        self.tune_plot.clear()
        values, marks = {}, {}
        for k, r in self.tune_results:
            # With a second hyperparameter, the curve is the row through the best point (the best value of it).
            row = r.objective[best_row(r)]
            finite = np.isfinite(row)
            xs, ys = r.lr.values[finite], row[finite]
            self.tune_plot.plot(xs, ys, pen=pg.mkPen(self.model.color(k), width=2), name=self.model.display_name(k))
            if r.best:
                self.tune_plot.plot(
                    [r.best["lr"]],
                    [r.best_objective],
                    pen=None,
                    symbol="o",
                    symbolSize=10,
                    symbolBrush=None,
                    symbolPen=pg.mkPen(self.model.color(k), width=2),
                )
                values[k] = dict(r.best)
                found = ", ".join(f"{key} {value:.3g}" for key, value in r.best.items())
                marks[k] = f"tuned: {found}, objective {r.best_objective:.3g}"
        objective = OBJECTIVE.format(k=TUNE_STARTS, steps=steps)
        searched = f"{TUNE_BUDGET} learning rates" + (
            f" x {TUNE_SECOND_COUNT} of a second hyperparameter"
            if any(tuned_second(r) for _, r in self.tune_results)
            else ""
        )
        # Two lines: the caveat must survive a narrow dock whole (a screenshot carries it).
        self.tune_plot.setTitle(
            f"<span style='color:{MUTED}; font-size:9pt'>{html.escape(objective)}<br>"
            f"{searched} each, the same for all</span>"
        )
        self._undo = previous
        self.model.apply_tuning(values, marks)
        self.undo_button.setEnabled(self._tuning_undoable())
        # Where the best learning rate moves with the step budget, a short race would pick another winner.
        budgets = sorted(self.tune_results[0][1].by_budget) if self.tune_results else []
        moves = []
        for k, r in self.tune_results:
            lrs = [best.get("lr") for _, best, _ in (r.by_budget[b] for b in budgets)]
            text = " / ".join("-" if lr is None else f"{lr:.2g}" for lr in lrs)
            if tuned_second(r):  # the curve drawn is the one through this value
                text += f" (at {r.second.name} {r.best[r.second.name]:.3g})"
            moves.append(f"{html.escape(self.model.display_name(k))} {text}")
        self.info.setText(
            f"Each optimizer set to its best ({html.escape(objective)}). Best lr after "
            f"{' / '.join(map(str, budgets))} steps: " + "; ".join(moves)
        )

    def undo_tuning(self) -> None:
        if self._undo is None:
            return
        with self.model.edit("Undo tuning"):  # one step of Edit > Undo, whose redo tunes again
            for k, old in self._undo.items():
                if k >= len(self.model.optimizers):
                    continue
                current = self.model.optimizers[k].hyperparams
                gone = [n for n in current if n not in old]
                if gone:
                    self.model.reset_hyperparams(k, gone)
                for name, value in old.items():
                    self.model.set_hyperparam(k, name, value)
            self.model.set_tuned({})
        self.undo_button.setEnabled(False)
        self.info.setText("Tuning undone: every optimizer has its settings from before.")

    def _tuning_undoable(self) -> bool:
        """Some tuned optimizer has other settings than it had before Tune all."""
        optimizers = self.model.optimizers
        undo = self._undo or {}
        return any(k < len(optimizers) and optimizers[k].hyperparams != old for k, old in undo.items())

    def _forget_tuning(self) -> None:
        self._undo = None
        self.undo_button.setEnabled(False)

    def set_active(self, on: bool) -> None:
        """Sweep only while the tab is in front (its dock's `visibilityChanged`). A tab behind the charts is
        still a visible widget to Qt, and it swept every change for nobody: half a minute of both cores for the
        map of a 10,000-step race."""
        self.active = bool(on)
        if self.active and self._stale:
            if self.pages.currentIndex() == 1:
                self._recompute_small()
            self.recompute(force=True)

    def shutdown(self) -> None:
        self.worker.shutdown()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(640, 320)
