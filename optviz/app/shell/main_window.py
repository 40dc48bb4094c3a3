"""The main window: the 3-D view and the transport in the centre, panels in docks, menus, status bar.

Layout: race panel on the left (full height); leaderboard and surface on the right; the charts (and the
optimizer-state memory chart) under the view and the right column. Docks can be moved, closed and reopened
(View menu); their layout and the window geometry are remembered between sessions.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import qdebounced

from optviz.app.export.export_actions import ExportActions
from optviz.app.inspect.inspector_panel import StepInspectorPanel
from optviz.app.model import SceneModel
from optviz.app.race.race_panel import RacePanel
from optviz.app.race.scheduler import Outcome, RaceScheduler
from optviz.app.race.transport import Transport, TransportBar
from optviz.app.readouts.charts import ChartsPanel
from optviz.app.readouts.leaderboard import Leaderboard
from optviz.app.readouts.memory_chart import MemoryChart
from optviz.app.shell.about import show_about
from optviz.app.shell.files import FileActions
from optviz.app.shell.help import show_help
from optviz.app.shell.undo import SceneHistory
from optviz.app.study.study_panel import StudyPanel
from optviz.app.surface.surface_panel import SurfacePanel
from optviz.app.sweep.sensitivity_panel import SensitivityPanel
from optviz.app.training.training_panel import TrainingPanel
from optviz.app.view.glyph_layer import glyph_menu
from optviz.app.view.view_panel import ViewPanel
from optviz.app.widgets import theme
from optviz.resources import example_scenes

ERROR_MS = 10_000
BUSY_NOTICE_MS = 150
SETTINGS_VERSION = 4  # bump when the dock layout changes, so an old saved state is not restored over it


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """`widget` in a vertical scroll area: in a short window its dock scrolls instead of squeezing a neighbour
    (the leaderboard keeps its rows)."""
    scroll = QtWidgets.QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(widget)
    scroll.verticalScrollBar().setToolTip("Scroll the panel (the window is shorter than its controls)")
    return scroll


class MainWindow(QtWidgets.QMainWindow):
    def __init__(
        self,
        model: SceneModel | None = None,
        settings: QtCore.QSettings | None = None,
        autoplay: bool = True,
    ) -> None:
        super().__init__()
        self.setObjectName("optviz_main")
        self.model = model if model is not None else SceneModel()
        self.settings = settings if settings is not None else QtCore.QSettings("optviz", "optviz")
        self.autoplay = autoplay
        self.transport = Transport(self.model, self)
        # Made first on purpose: it races on `model.raceInputsChanged`, which follows every other signal of a
        # change, so the order in which panels connect to the model does not matter.
        self.scheduler = RaceScheduler(self.model, self)

        self.view_panel = ViewPanel(self.model, self)
        self.transport_bar = TransportBar(self.transport, self)
        centre = QtWidgets.QWidget(self)
        centre_layout = QtWidgets.QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.view_panel, 1)
        centre_layout.addWidget(self.transport_bar)
        self.setCentralWidget(centre)

        self.race_panel = RacePanel(self.model)
        self.surface_panel = SurfacePanel(self.model)
        self.leaderboard = Leaderboard(self.model)
        self.memory_chart = MemoryChart(self.model)
        self.charts = ChartsPanel(self.model)
        self.charts.scrubbed.connect(self.transport.pause)
        # The bottom docks span the window's width: the charts get the width under the Race panel (whose
        # editor scrolls), and a height that reads (`default_layout`).
        self.setCorner(QtCore.Qt.Corner.BottomLeftCorner, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(QtCore.Qt.Corner.BottomRightCorner, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        readouts = QtWidgets.QWidget()
        readouts_layout = QtWidgets.QHBoxLayout(readouts)
        readouts_layout.setContentsMargins(0, 0, 0, 0)
        readouts_layout.setSpacing(0)
        readouts_layout.addWidget(self.charts, 3)
        readouts_layout.addWidget(self.memory_chart, 1)
        area = QtCore.Qt.DockWidgetArea
        self.docks = {
            "race": self._dock("Race", self.race_panel, area.LeftDockWidgetArea),
            "leaderboard": self._dock("Leaderboard", self.leaderboard, area.RightDockWidgetArea),
            "surface": self._dock("Surface", scrolled(self.surface_panel), area.RightDockWidgetArea),
            "charts": self._dock("Charts", readouts, area.BottomDockWidgetArea),
        }
        # Training (issue 5): a tab beside the charts; View > Training panel (Ctrl+Shift+T) raises and enlarges it.
        self.training_panel = TrainingPanel()
        self.docks["training"] = self._dock("Training", self.training_panel, area.BottomDockWidgetArea)
        # Sensitivity (issue 14): sweeps of the selected optimizer's settings, a tab beside the charts.
        self.sensitivity = SensitivityPanel(self.model)
        self.docks["sensitivity"] = self._dock("Sensitivity", self.sensitivity, area.BottomDockWidgetArea)
        self.docks["sensitivity"].visibilityChanged.connect(self.sensitivity.set_active)
        # The step inspector (issue 16): the selected optimizer's step at the cursor, in numbers.
        self.inspector = StepInspectorPanel(self.model, self.view_panel.step_records, self.view_panel.scene_view)
        self.docks["inspector"] = self._dock("Step inspector", self.inspector, area.BottomDockWidgetArea)
        self.docks["inspector"].visibilityChanged.connect(self.inspector.set_active)
        self.tabifyDockWidget(self.docks["charts"], self.docks["sensitivity"])
        self.tabifyDockWidget(self.docks["charts"], self.docks["inspector"])
        self.tabifyDockWidget(self.docks["charts"], self.docks["training"])
        # Studies (issue 18): tuning studies on real training, a tab beside Training. It reads its storage only
        # while in front; "Apply best" sets the Training panel's sliders.
        self.study_panel = StudyPanel()
        self.docks["studies"] = self._dock("Studies", self.study_panel, area.BottomDockWidgetArea)
        self.docks["studies"].visibilityChanged.connect(self.study_panel.set_active)
        self.tabifyDockWidget(self.docks["training"], self.docks["studies"])
        self.study_panel.applyRequested.connect(self.apply_study_best)
        QtCore.QTimer.singleShot(0, self.docks["charts"].raise_)  # the race's charts stay in front at start
        self.files = FileActions(self.model, self, self.settings, before_save=self.view_panel.store_camera)
        self.exports = ExportActions(self.model, self, self.view_panel)
        self.history = SceneHistory(self.model, self)
        self._build_menus()
        self._build_status_bar()

        self.model.dirtyChanged.connect(self.setWindowModified)
        self.model.pathChanged.connect(lambda _p: self._update_title())
        self.model.sceneReplaced.connect(self._update_title)
        self.model.sceneReplaced.connect(self._scene_loaded)
        self.model.errorRaised.connect(self.show_error)
        self.model.busyChanged.connect(self._busy)
        self.scheduler.raceApplied.connect(self._race_applied)
        self._first_result = True
        self._update_title()
        self._restore_layout()
        self.view_panel.gl.setFocus()  # arrow keys and space go to the shortcuts, not to a spin box
        self.scheduler.request()

    # ---- construction ------------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        action = menu.addAction(text)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        keys = QtGui.QKeySequence.StandardKey
        file = bar.addMenu("&File")
        self._action(file, "&New", self.files.new, keys.New, "A new scene: the default race")
        self._action(file, "&Open…", lambda: self.files.open(), keys.Open, "Open a scene file (.toml)")
        examples = file.addMenu("Open &Example")
        examples.setToolTipsVisible(True)
        for path in example_scenes():
            action = examples.addAction(path.stem.replace("_", " ").capitalize())
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.files.open_example(p))
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self._action(file, "&Save", self.files.save, keys.Save, "Save the scene (the recipe, not the results)")
        self._action(file, "Save &As…", self.files.save_as, keys.SaveAs, "Save the scene under a new name")
        file.addSeparator()
        tip = "Render the race to MP4, WebM, GIF or PNG frames, offscreen at any size"
        self._action(file, "Export &Video…", self.exports.export_video, "Ctrl+E", tip)
        tip = "Write every run's positions and losses as CSV or JSON (as `optviz race` does)"
        self._action(file, "Export &Trajectories…", lambda: self.exports.export_trajectories(), tip=tip)
        tip = "Save the view as a PNG picture at any size"
        self._action(file, "Export S&napshot PNG…", lambda: self.exports.export_snapshot(), tip=tip)
        file.addSeparator()
        self._action(file, "&Quit", self.close, keys.Quit)

        edit = bar.addMenu("&Edit")
        # Qt names them after the step ("Undo Remove Adam") and greys them when there is none. A text box with
        # the focus takes Ctrl+Z for its own undo first (it accepts the shortcut override), as it should.
        self.undo_action = self.history.stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QtGui.QKeySequence.keyBindings(keys.Undo))
        self.redo_action = self.history.stack.createRedoAction(self, "&Redo")
        redo = QtGui.QKeySequence("Ctrl+Shift+Z")  # first, so menus and the help name it on every platform
        others = [k for k in QtGui.QKeySequence.keyBindings(keys.Redo) if k != redo]
        self.redo_action.setShortcuts([redo, *others])
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)

        race = bar.addMenu("&Race")
        race.addAction(self.transport_bar.play_action)
        race.addAction(self.transport_bar.step_action)
        race.addAction(self.transport_bar.back_action)
        race.addAction(self.transport_bar.restart_action)
        race.addSeparator()
        self._action(race, "&Add optimizer…", self.race_panel.open_picker, "Ctrl+Shift+A")
        race.addSeparator()
        tip = "Search every racing optimizer's learning rate with the same budget and objective; set each one's best"
        self._action(race, "&Tune all", self.tune_all, "Ctrl+Shift+U", tip)

        view = bar.addMenu("&View")
        self._action(view, "&Reset camera", self.view_panel.reset_camera, "Home", "Back to the default 3-D view")
        self.top_down_action = self._action(view, "&2-D from above", self._toggle_top_down, "T")
        self.top_down_action.setCheckable(True)
        self.model.viewOptionsChanged.connect(lambda: self.top_down_action.setChecked(self.model.scene.view.top_down))
        self.model.sceneReplaced.connect(lambda: self.top_down_action.setChecked(self.model.scene.view.top_down))
        self.legend_action = self._action(
            view, "&Legend", self.view_panel.legend.setVisible, "L", "Show the legend over the view"
        )
        self.legend_action.setCheckable(True)
        self.legend_action.setChecked(True)
        basins = view.addMenu("&Basins of attraction")
        basins.setToolTipsVisible(True)
        self.basins_actions = QtGui.QActionGroup(self)
        modes = (
            ("off", "&Off", "The colormap alone"),
            ("minima", "&Minimum reached", "Colour each start point by the minimum the selected optimizer reaches"),
            ("steps", "&Steps needed", "Colour each start point by the steps the selected optimizer needs"),
        )
        for mode, text, tip in modes:
            action = basins.addAction(text)
            action.setCheckable(True)
            action.setToolTip(tip)
            action.setData(mode)
            action.triggered.connect(lambda _=False, m=mode: self.model.set_basins(m))
            self.basins_actions.addAction(action)
        self.basins_actions.actions()[0].setChecked(True)

        def sync_basins() -> None:
            for action in self.basins_actions.actions():
                action.setChecked(action.data() == self.model.scene.view.basins)

        self.model.viewOptionsChanged.connect(sync_basins)
        self.model.sceneReplaced.connect(sync_basins)
        self.glyph_menu = glyph_menu(self.model, self)
        view.addMenu(self.glyph_menu)
        self.transport_bar.add_menu_button(
            "Glyphs", self.glyph_menu, "State glyphs at the heads: gradient, update, ..."
        )
        view.addSeparator()
        tip = "The selected optimizer's step at the time cursor: its rule, state and numbers"
        self._action(view, "Step &inspector", self.docks["inspector"].raise_, "Ctrl+I", tip)
        tip = "Train a real model with several optimizers: loss, speed and memory"
        self._action(view, "&Training panel", self.show_training, "Ctrl+Shift+T", tip)
        tip = "Tune several optimizers on real training with equal budgets (Optuna), and compare them at their best"
        self._action(view, "&Studies", self.show_studies, "Ctrl+Shift+Y", tip)
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        tip = "What to drag and click, where the examples are, and every keyboard shortcut"
        self._action(help_menu, "&Getting started and shortcuts", lambda: show_help(self), "F1", tip)
        self._action(help_menu, "&About optviz", self.about)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.race_info = QtWidgets.QLabel(self)
        self.race_info.setProperty("role", "muted")
        self.race_info.setToolTip("The last race: how many runs were simulated, and how long the engine took")
        status.addPermanentWidget(self.race_info)
        # Turns the status bar back from red once the last error's message is gone (owned: dies with us).
        self._clear_error_style = qdebounced(lambda: status.setStyleSheet(""), ERROR_MS, parent=self)
        # "racing…" only for races that take a while: a 3 ms race would just flicker the status bar (and
        # every repaint costs a whole-window compose on software GL).
        self._show_racing_soon = qdebounced(lambda: self.race_info.setText("racing…"), BUSY_NOTICE_MS, parent=self)

    # ---- slots -------------------------------------------------------------------------------------------
    def _toggle_top_down(self, on: bool) -> None:
        self.model.set_top_down(on)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.files.recent()
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for text in recent:
            action = self.recent_menu.addAction(Path(text).name)
            action.setToolTip(text)
            action.triggered.connect(lambda _=False, p=text: self.files.open(p))

    def show_error(self, message: str) -> None:
        self.statusBar().setStyleSheet(f"QStatusBar {{ color: {theme.ERROR}; }}")
        self.statusBar().showMessage(message, ERROR_MS)
        self._clear_error_style()

    def _busy(self, busy: bool) -> None:
        if busy:
            self._show_racing_soon()
        else:
            self._show_racing_soon.cancel()

    def _race_applied(self, outcome: Outcome) -> None:
        result = outcome.result
        k, m, n = result.shape
        ran = len(outcome.simulated)
        engines = sorted(set(result.engines[i] for i in outcome.simulated)) if ran else []
        how = f"{ran} re-simulated ({', '.join(engines)} path)" if ran else "from cache"
        self._show_racing_soon.cancel()
        self.race_info.setText(
            f"{k} optimizers × {m} start{'s' * (m > 1)} × {n:,} steps · {how} · {outcome.seconds * 1000:.0f} ms"
        )
        if self._first_result:
            self._first_result = False
            if self.autoplay:
                self.transport.restart()

    def _scene_loaded(self) -> None:
        """A new scene (New, Open, an example) plays like the launch, with the keys on the view (not in a box
        of the previous scene's panels)."""
        self._first_result = True
        self.view_panel.gl.setFocus()

    def settle(self, timeout: float = 120.0) -> bool:
        """Wait for the race to land and bring every read-out up to date at once (screenshots, tests)."""
        if not self.scheduler.wait(timeout):
            return False
        if not self.sensitivity.worker.wait(timeout) or not self.view_panel.basins.wait(timeout):
            return False
        if not self.scheduler.wait(timeout):
            return False
        # The glyphs' and inspector's records of the cursor's step (while playing, every tick asks anew: not awaited).
        if not self.transport.playing and not self.view_panel.step_records.wait(timeout):
            return False
        self.charts.apply_pending_results()
        self.leaderboard.refresh()
        self.sensitivity.flush()
        return True

    def _update_title(self) -> None:
        path = self.model.path
        name = path.name if path is not None else (self.model.scene.title or "untitled scene")
        self.setWindowTitle(f"{name}[*] — optviz")

    def about(self) -> None:
        show_about(self, self.gl_renderer())

    def gl_renderer(self) -> str:
        gl = self.view_panel.gl
        if not gl.isValid():
            return ""
        try:
            from OpenGL import GL

            gl.makeCurrent()
            try:
                return GL.glGetString(GL.GL_RENDERER).decode()
            finally:
                gl.doneCurrent()
        except Exception:  # the About box must open whatever the driver says
            return ""

    # ---- layout memory -----------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        self._place_first()
        self._default_layout_pending = True
        if self.settings.value("window/version", 0, type=int) != SETTINGS_VERSION:
            return
        geometry = self.settings.value("window/geometry", QtCore.QByteArray(), type=QtCore.QByteArray)
        state = self.settings.value("window/state", QtCore.QByteArray(), type=QtCore.QByteArray)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        if not state.isEmpty() and self.restoreState(state):
            self._default_layout_pending = False

    def _place_first(self) -> None:
        """1600 x 1000 (or 90 % of a smaller screen), centred on the screen, before the window is shown: a
        window shown at 0,0 and moved later jumps in front of the user."""
        screen = QtGui.QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1600, 1000)
            return
        area = screen.availableGeometry()
        size = QtCore.QSize(min(1600, area.width() * 9 // 10), min(1000, area.height() * 9 // 10))
        self.setGeometry(
            QtWidgets.QStyle.alignedRect(
                QtCore.Qt.LayoutDirection.LeftToRight, QtCore.Qt.AlignmentFlag.AlignCenter, size, area
            )
        )

    def default_layout(self) -> None:
        """Dock sizes in proportion to the window: the view keeps about half the width, the charts 30 % of the
        height, at least 260 px (each chart ~180 px tall at 1600 x 1000; the window's size is only final when
        it is shown, hence `showEvent`)."""
        w, h = self.width(), self.height()
        horizontal, vertical = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
        self.resizeDocks(
            [self.docks["race"], self.docks["leaderboard"]], [max(280, w * 21 // 100), max(330, w // 4)], horizontal
        )
        self.resizeDocks([self.docks["charts"]], [max(260, h * 30 // 100)], vertical)
        self.resizeDocks([self.docks["leaderboard"], self.docks["surface"]], [h * 3 // 10, h // 2], vertical)

    def show_panel(self, name: str | None) -> None:
        """Bring a bottom panel to the front: charts, training, studies, or a page of the Sensitivity panel."""
        if name is None:
            return
        if name == "training":
            self.show_training()
        elif name == "inspector":
            self.docks["inspector"].raise_()
        elif name == "charts":
            self.docks["charts"].raise_()
        elif name == "tuning":
            self.tune_all()
        elif name == "studies":
            self.show_studies()
        else:
            self.show_sensitivity()
            self.sensitivity.pages.setCurrentIndex(1 if name == "all-optimizers" else 0)

    def show_sensitivity(self) -> None:
        """Show the Sensitivity tab with room for its map."""
        dock = self.docks["sensitivity"]
        dock.show()
        dock.raise_()
        self.resizeDocks([dock], [self.height() * 45 // 100], QtCore.Qt.Orientation.Vertical)

    def tune_all(self) -> None:
        self.show_sensitivity()
        self.sensitivity.tune_all()

    def show_training(self) -> None:
        """Show the Training tab and give it most of the window's height (its charts need room)."""
        dock = self.docks["training"]
        dock.show()
        dock.raise_()
        self.resizeDocks([dock], [self.height() * 62 // 100], QtCore.Qt.Orientation.Vertical)

    def show_studies(self) -> None:
        """Show the Studies tab with the Training tab's room (its tables and charts need it)."""
        dock = self.docks["studies"]
        dock.show()
        dock.raise_()
        self.resizeDocks([dock], [self.height() * 62 // 100], QtCore.Qt.Orientation.Vertical)

    def apply_study_best(self, optimizer: str, values: dict) -> None:
        """A study's "Apply best": the optimizer's sliders in the Training panel take its best trial's values."""
        self.study_panel.applied(optimizer, self.training_panel.apply_settings(optimizer, values))

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._default_layout_pending:
            self._default_layout_pending = False
            self.default_layout()

    def save_layout(self) -> None:
        self.settings.setValue("window/version", SETTINGS_VERSION)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.transport.pause()
        self.save_layout()
        self.scheduler.shutdown()
        self.sensitivity.shutdown()
        self.race_panel.lr_finder.shutdown()
        self.view_panel.basins.shutdown()
        self.view_panel.step_records.shutdown()
        self.training_panel.shutdown()
        self.study_panel.shutdown()
        super().closeEvent(event)
