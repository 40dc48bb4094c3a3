"""The Training panel: train a real model with several optimizers and see what each costs and achieves.

Top: Run / Pause / Stop, the progress and the status line, always in view. Below, left: the set-up form and the
optimizer list with each optimizer's sliders and implementation (scrolled when the dock is small); right: the
live charts. The session is validated when Run is pressed (a problem is one line in the status
label, nothing starts) and trained on a `TrainingWorker` thread; the UI only ever receives batches of records.
A run that fails (out of memory, a non-finite loss) ends alone, and its line in the status says why.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from superqt import QElidingLabel
from superqt.utils import signals_blocked

from optviz.app.training.robustness_view import RobustnessView
from optviz.app.training.training_charts import TrainingCharts
from optviz.app.training.training_lr_find import TrainingLrFinder
from optviz.app.training.training_optimizers import TrainingOptimizers, run_color
from optviz.app.training.training_setup import TrainingSetup
from optviz.app.training.training_worker import TrainingWorker
from optviz.app.widgets.theme import ERROR, MUTED
from optviz.core.errors import OptvizError
from optviz.core.learn.config import TrainConfig
from optviz.core.learn.records import RunEnded, RunSummary, StepRecord
from optviz.core.learn.robustness import RobustnessConfig
from optviz.core.learn.training import TrainingSession

DEFAULT_OPTIMIZERS = ("adamw", "sgd")
SIDE_WIDTH = 620  # the two control columns, at their comfortable width
PROGRESS_WIDTH = 200


class TrainingPanel(QtWidgets.QWidget):
    started = QtCore.Signal()
    finished = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_panel")
        self.session: TrainingSession | None = None
        self.worker: TrainingWorker | None = None
        self.ended: list[RunEnded] = []
        self.runs: list[RunSummary] = []  # what the charts show (see `run`)

        self.setup = TrainingSetup(self)
        self.optimizers = TrainingOptimizers(self.setup.resolved_device(), self)
        self.run_button = QtWidgets.QPushButton("Run", self)
        self.run_button.setToolTip("Train every optimizer in the list from the same initial weights (Ctrl+Return)")
        self.run_button.setShortcut("Ctrl+Return")
        self.pause_button = QtWidgets.QPushButton("Pause", self)
        self.pause_button.setToolTip("Pause between steps; press again to resume exactly where it stopped")
        self.pause_button.setCheckable(True)
        self.stop_button = QtWidgets.QPushButton("Stop", self)
        self.stop_button.setToolTip("End every run now; results so far are kept")
        # One line beside the buttons: a long message (several failed runs) is elided, whole in the tooltip.
        self.status = QElidingLabel(self)
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Steps taken over all runs")
        self.charts = TrainingCharts(self)
        self.robustness = RobustnessView(self.robustness_config, self)
        self.lr_finder = TrainingLrFinder(self.setup, self.optimizers, self)
        # The charts and the robustness test share the space right of the controls, one tab each.
        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.charts, "Training")
        self.tabs.addTab(self.robustness, "Robustness")
        self.tabs.setTabToolTip(0, "The live charts of the training run")
        self.tabs.setTabToolTip(
            1, "What each optimizer does when one step's gradient goes bad (exploding, vanishing, sparse, NaN, inf)"
        )

        # Two narrow columns (set-up; optimizers with their sliders) beside the charts: the panel lives in a
        # bottom dock, so height is what is scarce and the columns scroll. Run, Pause and Stop are never in the
        # scroll: they sit in a bar across the top of the panel with the progress and the status line.
        setup_column = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(setup_column)
        column.setContentsMargins(6, 4, 4, 4)
        column.setSpacing(4)
        column.addWidget(_section("Set-up", self))
        column.addWidget(self.setup)
        column.addStretch(1)
        optimizer_column = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(optimizer_column)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addWidget(_section("Optimizers", self))
        column.addWidget(self.optimizers, 1)
        left = QtWidgets.QWidget(self)
        columns = QtWidgets.QHBoxLayout(left)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(0)
        columns.addWidget(setup_column)
        columns.addWidget(optimizer_column, 1)  # the width left over goes to the sliders
        scroll = _SideScroll(self)
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        # Small minimums: this dock shares the bottom area with the charts, and its minimum would otherwise
        # become the whole window's (a 1280x800 window must stay possible). Narrower, the columns scroll.
        for bar in (scroll.horizontalScrollBar(), scroll.verticalScrollBar()):
            bar.setToolTip("Scroll the training controls (the dock is smaller than they are)")
        scroll.setMinimumWidth(260)
        scroll.setMaximumWidth(SIDE_WIDTH)
        scroll.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored)
        self.action_bar = QtWidgets.QWidget(self)
        bar = QtWidgets.QHBoxLayout(self.action_bar)
        bar.setContentsMargins(6, 4, 6, 2)
        bar.setSpacing(6)
        self.run_button.setMinimumWidth(90)
        bar.addWidget(self.run_button)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.stop_button)
        self.progress.setFixedWidth(PROGRESS_WIDTH)
        bar.addWidget(self.progress)
        bar.addWidget(self.status, 1)
        body = QtWidgets.QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(scroll)
        body.addWidget(self.tabs, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.action_bar)
        layout.addLayout(body, 1)

        self.run_button.clicked.connect(self.run)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stop)
        self.optimizers.findLrRequested.connect(self.lr_finder.find)
        self.setup.changed.connect(lambda: self.optimizers.set_device(self.setup.resolved_device()))
        for name in DEFAULT_OPTIMIZERS:
            self.optimizers.add(name)
        self._set_running(False)
        self._say("Pick a model and optimizers, then Run.")

    # --- running -------------------------------------------------------------------------------------------

    def config(self) -> TrainConfig:
        return TrainConfig(optimizers=self.optimizers.runs(), **self.setup.config_kwargs())

    def apply_settings(self, name: str, values: dict) -> str:
        """Set an optimizer's hyperparameters in the list (a study's "Apply best"); the refusal, or "" when set."""
        if self.worker is not None:
            return "the Training panel is running: stop it first, then apply"
        why = self.optimizers.apply_values(name, values)
        if not why:
            shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
            self._say(f"{self.optimizers.current().label()}: {shown} (from a study's best trial). Run to train it.")
        return why

    def robustness_config(self, at_step: int, after: int, clip: float | None) -> RobustnessConfig:
        """The robustness test of the list's optimizers on the set-up (model, data, batch, device, seed)."""
        from optviz.core.learn.trial import TrialSetup

        kw = self.setup.config_kwargs()
        setup = TrialSetup(kw["model"], kw["dataset"], kw["batch_size"], kw["device"], kw["seed"])
        runs = tuple(self.lr_finder.entry(row) for row in range(len(self.optimizers.entries)))
        return RobustnessConfig(setup, runs, at_step=at_step, after=after, clip=clip)

    def run(self) -> bool:
        """Validate and start; False (and the reason in the status line) when the set-up cannot run."""
        if self.worker is not None:
            return False
        try:
            self.session = TrainingSession(self.config())
        except OptvizError as exc:
            self._say(str(exc), error=True)
            return False
        session = self.session
        # The UI's own copy of each run, filled from the events on this thread: the session's summaries are
        # written by the worker thread while the charts read, so the charts never read those.
        self.runs = [
            RunSummary(s.run, s.label, s.name, s.impl, s.hp, s.parameters, note=s.note) for s in session.summaries
        ]
        colors = [run_color(i) for i in range(len(self.runs))]
        self.charts.reset(self.runs, colors, session.config.batch_size)
        self.ended = []
        self.progress.setRange(0, session.config.steps * len(session.summaries))
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        notes = [f"{s.label}: {s.note}" for s in session.summaries if s.note]
        self._say(f"Training on {session.device_choice.reason}." + ("  " + " ".join(notes) if notes else ""))
        self.worker = TrainingWorker(session)
        self.worker.events.connect(self._events)
        self.worker.failed.connect(lambda text: self._say(text, error=True))
        self.worker.finished.connect(self._finished)
        self._set_running(True)
        self.worker.start()
        self.started.emit()
        return True

    def pause(self) -> None:
        self.pause_button.setChecked(True)

    def resume(self) -> None:
        self.pause_button.setChecked(False)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.pause_button.setChecked(False)

    def is_running(self) -> bool:
        return self.worker is not None

    def shutdown(self, ms: int = 30_000) -> None:
        """Stop a session and any search or test, and wait for their threads (the window is closing)."""
        if self.worker is not None:
            self.worker.wait(ms)
        self.lr_finder.shutdown(ms)
        self.robustness.shutdown(ms)

    def _pause_toggled(self, paused: bool) -> None:
        if self.worker is None:
            return
        if paused:
            self.worker.pause()
            self.pause_button.setText("Resume")
            self._say("Paused between steps. Resume continues exactly where it stopped.")
        else:
            self.worker.resume()
            self.pause_button.setText("Pause")
            if self.session is not None and not self.session.control.stopped:
                self._say(f"Training on {self.session.device_choice.reason}.")

    def _events(self, events: list) -> None:
        assert self.session is not None
        steps = 0
        for event in events:
            if isinstance(event, StepRecord):
                self.runs[event.run].add(event)
                steps += 1
            elif isinstance(event, RunEnded):
                self.ended.append(event)
                run = self.runs[event.run]
                run.status, run.message, run.memory = event.status, event.message, event.memory
                if event.status == "stopped":  # the bar stays where Stop left it, and says so
                    taken = max(len(r.train_loss) for r in self.runs)
                    self.progress.setFormat(f"stopped at step {taken:,} (%p%)")
                else:  # a run that ended early (diverged, failed) has no more steps to wait for
                    missing = self.session.config.steps - len(run.train_loss)
                    self.progress.setMaximum(self.progress.maximum() - missing)
        self.progress.setValue(self.progress.value() + steps)
        self.charts.add_events(events)
        failures = [f"{e.label}: {e.status}: {e.message}" for e in self.ended if e.status not in ("done", "stopped")]
        if failures:
            self._say("  ".join(failures), error=True)

    def _finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.thread.wait(5000)
            worker.deleteLater()
        self._set_running(False)
        statuses = [e.status for e in self.ended]
        if self.status.property("error") is not True:
            if statuses and all(s == "stopped" for s in statuses):
                self._say("Stopped. Results so far are kept in the charts.")
            elif statuses:
                best = min(self.runs, key=lambda s: s.final_loss()) if self.runs else None
                tail = f" Lowest validation loss: {best.label} ({best.final_loss():.4g})." if best else ""
                self._say("Done." + tail)
        self.finished.emit()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            with signals_blocked(self.pause_button):
                self.pause_button.setChecked(False)
                self.pause_button.setText("Pause")
        self.setup.setEnabledForRun(running)
        self.optimizers.setEnabled(not running)
        if running:
            self.status.setProperty("error", False)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(f"{text}\n\n(What the session is doing, and why a run ended if it ended early.)")
        self.status.setProperty("error", error)
        self.status.setStyleSheet(f"color: {ERROR if error else MUTED}")


class _SideScroll(QtWidgets.QScrollArea):
    """The controls' scroll area: asks for its full width, and scrolls only when the dock is narrower."""

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(SIDE_WIDTH, super().sizeHint().height())


def _section(text: str, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text.upper(), parent)
    label.setStyleSheet(f"color: {MUTED}; font-size: 8pt; font-weight: 600; letter-spacing: 1px")
    return label
