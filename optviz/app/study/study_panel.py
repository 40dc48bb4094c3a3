"""The Studies tab: set up a tuning study on real training, run it on a worker thread, watch it land.

Top: Start / Pause / Stop, Open study…, Export report…, the progress ("trial 7 of 25 · AdamW") and a status line
(a problem is one line there, in red; nothing starts). Left: the set-up form (`study_form.py`). Right: each
optimizer at its best with "Apply best" (which asks the shell to set the Training panel's sliders), every trial,
and the pictures: best objective so far, the best trials' validation curves, hyperparameter importances and,
for a grid, the objective over the grid.

The study lives in its storage, which is the one source: whatever is shown is read back from it (`records()`
then `build_report`, on a `BackgroundJob`) after each trial this tab's worker finishes, and every few seconds
while the tab is in front, so trials that other workers (`optviz study worker`, another machine) add appear too.
Hidden, the tab reads nothing (see `set_active`).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6 import QtCore, QtWidgets
from superqt import QElidingLabel

from optviz.app.study.open_dialog import OpenStudyDialog
from optviz.app.study.study_charts import GridMapView, ImportanceBars, StudyCharts
from optviz.app.study.study_form import StudyForm, optimizer_color
from optviz.app.study.study_tables import BestTable, TrialsTable
from optviz.app.study.study_worker import DONE, FAILED, PAUSED, StudyWorker, open_job
from optviz.app.widgets.background import BackgroundJob
from optviz.app.widgets.events import process_events_until
from optviz.app.widgets.theme import ERROR, MUTED, TEXT
from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.study.report import StudyReport
from optviz.core.study.worker import TuningStudy, WorkerEvent

POLL_MS = 3000
FORM_WIDTH = 300
PROGRESS_WIDTH = 220
TABLES_WIDTH = 600
STEPS = 1000  # progress bar units per trial: a trial's steps move it


class StudyPanel(QtWidgets.QWidget):
    applyRequested = QtCore.Signal(str, dict)  # optimizer, hyperparameters: "Apply best" (the shell routes it)
    reportShown = QtCore.Signal()  # the read-outs show the storage's latest report

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("study_panel")
        self.study: TuningStudy | None = None
        self.url = ""
        self.report: StudyReport | None = None
        self.worker: StudyWorker | None = None
        self.active = False
        self._refresh_again = False
        self._pending_open = ""  # the storage of the study being opened
        self._starting_url = ""  # the storage of the study being started

        self.form = StudyForm(self)
        self.start_button = QtWidgets.QPushButton("Start", self)
        self.start_button.setToolTip(
            "Start the study, or resume it (a study of that name with the same set-up continues where it stopped; "
            "an opened study is joined as one more worker)"
        )
        self.pause_button = QtWidgets.QPushButton("Pause", self)
        self.pause_button.setToolTip("Stop after the trial in training; the study is kept and Start resumes it")
        self.stop_button = QtWidgets.QPushButton("Stop", self)
        self.stop_button.setToolTip(
            "Stop now: the trial in training is marked failed (not counted) and run again later"
        )
        self.open_button = QtWidgets.QPushButton("Open study…", self)
        self.open_button.setToolTip("Show a study from its storage (a journal file or a database URL)")
        self.export_button = QtWidgets.QPushButton("Export report…", self)
        self.export_button.setToolTip("Write the study's report as one HTML file (as `optviz study report --html`)")
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setFixedWidth(PROGRESS_WIDTH)
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Finished trials of the whole budget (all optimizers), and the trial in training")
        self.status = QElidingLabel(self)
        self.best_table = BestTable(self)
        self.trials_table = TrialsTable(self)
        self.charts = StudyCharts()
        self.importances = ImportanceBars(self)
        self.grid_map = GridMapView(self)
        self.legend = QtWidgets.QLabel(self)
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setToolTip("Each optimizer's colour in the charts and tables")
        self.reader = BackgroundJob(self)
        self.poll = QtCore.QTimer(self)
        self.poll.setInterval(POLL_MS)
        self._layout()

        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(self.open_dialog)
        self.export_button.clicked.connect(lambda: self.export_report())
        self.best_table.applyRequested.connect(self.applyRequested)
        self.reader.succeeded.connect(self._read)
        self.reader.failed.connect(lambda text: self._say(text, error=True))
        self.reader.runningChanged.connect(self._reader_running)
        self.poll.timeout.connect(self._poll)
        self._set_running(False)
        self._show(None)
        self._say("Set up a study (optimizers, what to tune, budget), then Start; or open one from its storage.")

    def _layout(self) -> None:
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.setSpacing(6)
        for button in (self.start_button, self.pause_button, self.stop_button):
            bar.addWidget(button)
        bar.addSpacing(8)
        bar.addWidget(self.open_button)
        bar.addWidget(self.export_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.status, 1)
        form_column = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(form_column)
        column.setContentsMargins(6, 4, 4, 4)
        column.addWidget(self.form)
        column.addStretch(1)
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidget(form_column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.verticalScrollBar().setToolTip("Scroll the study's set-up (the dock is shorter than the form)")
        scroll.setFixedWidth(FORM_WIDTH)
        scroll.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Ignored)
        tables = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical, self)
        tables.addWidget(self.best_table)
        tables.addWidget(self.trials_table)
        tables.setStretchFactor(0, 2)
        tables.setStretchFactor(1, 3)
        pictures = QtWidgets.QWidget(self)
        grid = QtWidgets.QGridLayout(pictures)
        grid.setContentsMargins(4, 0, 4, 2)
        grid.setSpacing(6)
        grid.addWidget(self.legend, 0, 0, 1, 2)
        grid.addWidget(self.charts.best, 1, 0)
        grid.addWidget(self.charts.curves, 1, 1)
        grid.addWidget(self.importances, 2, 0)
        grid.addWidget(self.grid_map, 2, 1)
        self.pictures_grid = grid
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)
        results = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, self)
        results.addWidget(tables)
        results.addWidget(pictures)
        results.setStretchFactor(0, 2)
        results.setStretchFactor(1, 3)
        results.setChildrenCollapsible(False)
        self.results = results
        self._split = False  # the tables' share of the width is set once the panel has a width
        body = QtWidgets.QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(scroll)
        body.addWidget(results, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        self.setMinimumSize(300, 200)  # the dock must not set the window's minimum (1280 x 800 stays possible)

    def resizeEvent(self, event: QtCore.QEvent) -> None:
        super().resizeEvent(event)
        width = self.results.width()
        if not self._split and width > 400:
            # The tables take 42 % (their settings column reads whole from about 550 px), the charts the rest.
            # The splitter keeps what the user drags after this.
            self._split = True
            tables = min(TABLES_WIDTH, max(240, width * 42 // 100))
            self.results.setSizes([tables, width - tables])

    # --- the job --------------------------------------------------------------------------------------------

    def start(self) -> bool:
        """Start (or resume, or join) the study the form describes; False with the reason in the status line."""
        if self.worker is not None:
            return False
        try:
            setup = self.form.setup()
        except OptvizError as exc:
            self._say(str(exc).splitlines()[0], error=True)
            return False
        url = self.form.storage_url()
        self.worker = StudyWorker(open_job(url, setup, setup.name, make_folder=self.form.uses_default_storage()))
        self._starting_url = url
        # Bound methods of this widget only: a lambda would run on the worker's thread, not the UI's.
        self.worker.opened.connect(self._opened)
        self.worker.event.connect(self._event)
        self.worker.finished.connect(self._finished)
        self._set_running(True)
        self._say(f"Opening study {setup.name}…")
        self.worker.start()
        return True

    def pause(self) -> None:
        if self.worker is not None and not self.worker.control.stopped:
            self.worker.pause()
            self.pause_button.setEnabled(False)
            self._say("Pausing: the trial in training finishes first; then Start resumes the study.")

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self._say("Stopping: the trial in training is marked failed and will be run again.")

    def is_running(self) -> bool:
        return self.worker is not None

    def shutdown(self, ms: int = 30_000) -> None:
        """Stop the worker and any read, and wait for their threads (the window is closing)."""
        self.poll.stop()
        if self.worker is not None:
            self.worker.wait(ms)
        self.reader.shutdown(ms)

    def wait(self, timeout: float = 60.0) -> bool:
        """Process events until the worker has ended and the read-outs show the storage (tests, screenshots)."""
        return process_events_until(lambda: self.worker is None and not self.reader.running, timeout)

    def _opened(self, study: TuningStudy) -> None:
        self.study, self.url = study, self._starting_url
        url = self.url
        self._say(f"Study {study.setup.name}: {study.total} trials ({study.budget} per optimizer) in {_short(url)}.")
        self.refresh()

    def _event(self, event: WorkerEvent) -> None:
        if event.kind == "note":
            self._say(event.message)
            return
        if event.total:
            fraction = event.fraction if event.kind == "step" else 0.0
            self.progress.setRange(0, event.total * STEPS)
            self.progress.setValue(int((event.done + fraction) * STEPS))
            if event.kind != "ended":  # an end moves the bar; the next trial's start names it
                title = get_optimizer(event.optimizer).title
                self.progress.setFormat(f"trial {min(event.done + 1, event.total)} of {event.total} · {title}")
        if event.kind == "ended":
            if event.message:
                self._say(f"{event.optimizer} #{event.trial}: {event.message}")
            self.refresh()

    def _finished(self, how: str, why: str) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.thread.wait(5000)
            worker.deleteLater()
        self._set_running(False)
        if how == FAILED:
            self._say(why, error=True)
            return
        done = self.study.finished() if self.study is not None else 0
        total = self.study.total if self.study is not None else 0
        if how == DONE:
            self._say(f"Done: {done} of {total} trials finished (trials running elsewhere are their workers').")
        elif how == PAUSED:
            self._say(f"Paused: {done} of {total} trials finished. Start resumes the study.")
        else:
            self._say(f"Stopped: {done} of {total} trials finished; the interrupted one will be run again.")
        self.refresh()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.open_button.setEnabled(not running)
        self.form.setEnabledForRun(running)
        if running:
            self.progress.setRange(0, 0)  # busy while the study opens

    # --- opening an existing study ------------------------------------------------------------------------

    def open_dialog(self) -> None:
        dialog = OpenStudyDialog(self, self.url or self.form.storage_url())
        accepted = dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
        url, name = dialog.choice()
        dialog.deleteLater()  # a child of the panel: it would otherwise stay until the window closes
        if accepted and name:
            self.open_study(url, name)

    def open_study(self, url: str, name: str) -> None:
        """Show study `name` from the storage at `url` (its set-up fills the form; Start then joins it)."""
        if self.worker is not None:
            self._say("a study is running here: pause or stop it before opening another", error=True)
            return

        def load(_progress, _cancelled) -> tuple[TuningStudy, StudyReport]:
            from optviz.core.study.report import build_report
            from optviz.core.study.storage import open_storage

            study = TuningStudy.load(open_storage(url), name)
            return study, build_report(study.setup, study.records())

        self._say(f"Opening {name} from {_short(url)}…")
        self._pending_open = url
        self.reader.start(load)

    # --- reading the storage --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the shown study's trials back from its storage and redraw (see the module doc)."""
        study = self.study
        if study is None:
            return
        if self.reader.running:
            self._refresh_again = True  # the read in flight may predate the trial that just landed
            return

        def read(_progress, _cancelled) -> StudyReport:
            from optviz.core.study.report import build_report

            return build_report(study.setup, study.records())

        self.reader.start(read)

    def set_active(self, active: bool) -> None:
        """The tab is in front (`active`) or hidden: poll the storage only while it is seen (every tabified dock
        counts as visible to Qt, so the dock's `visibilityChanged` says it)."""
        self.active = active
        if active:
            self.poll.start()
            self.refresh()
        else:
            self.poll.stop()

    def _poll(self) -> None:
        if self.active and not self.reader.running:
            self.refresh()

    def _read(self, result: object) -> None:
        if isinstance(result, tuple):  # an opened study, with its report
            study, report = result
            self.study, self.url = study, self._pending_open
            self.form.show_setup(study.setup, self.url)
            rows = report.rows
            done = sum(r.finished for r in rows)
            total = study.total
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)
            self.progress.setFormat(f"{done} of {total} trials finished")
            self._say(
                f"Opened {study.setup.name} from {_short(self.url)}: {done} of {total} trials finished. "
                "Start joins it as one more worker."
            )
            self._show(report)
            return
        self._show(result)  # type: ignore[arg-type]

    def _reader_running(self, running: bool) -> None:
        if not running and self._refresh_again:
            self._refresh_again = False
            QtCore.QTimer.singleShot(0, self.refresh)

    def _show(self, report: StudyReport | None) -> None:
        self.report = report
        colors = {}
        if report is not None:
            colors = {o.name: optimizer_color(i) for i, o in enumerate(report.setup.optimizers)}
        self.best_table.set_report(report, colors)
        self.trials_table.set_report(report, colors)
        self.charts.set_report(report, colors)
        self.importances.set_report(report, colors)
        grid = report is not None and report.setup.mode == "grid"
        self.grid_map.setVisible(grid)
        self.grid_map.set_report(report)
        # Without a grid the importances take the whole row.
        self.pictures_grid.addWidget(self.importances, 2, 0, 1, 1 if grid else 2)
        self.legend.setText(
            "&nbsp;&nbsp;&nbsp; ".join(
                f"<span style='color:{c}'>━━</span>&nbsp;<span style='color:{TEXT}'>{html.escape(n)}</span>"
                for n, c in colors.items()
            )
            or f"<span style='color:{MUTED}'>no study shown yet</span>"
        )
        self.export_button.setEnabled(report is not None)
        if report is not None and self.worker is None:
            done = sum(r.finished for r in report.rows)
            total = sum(r.budget for r in report.rows)
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)
            self.progress.setFormat(f"{done} of {total} trials finished")
        self.reportShown.emit()

    # --- the report -------------------------------------------------------------------------------------------

    def export_report(self, path: str | None = None) -> bool:
        """Write the shown study's HTML report (what `optviz study report --html` writes) to `path` (asked for
        when None); False, with the reason in the status line, when nothing was written."""
        if self.report is None:
            self._say("no study to report: start or open one first", error=True)
            return False
        if path is None:
            start = str(Path.home() / f"{self.report.setup.name}-report.html")
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export study report", start, "HTML (*.html)")
            if not path:
                return False
        from optviz.core.atomic import atomic_write_text
        from optviz.export.study_report import study_html

        try:
            atomic_write_text(path, study_html(self.report, self.url))
        except OptvizError as exc:
            self._say(str(exc).splitlines()[0], error=True)
            return False
        self._say(f"Wrote the report to {path}.")
        return True

    def applied(self, optimizer: str, why: str) -> None:
        """What became of an "Apply best" (the shell passes on the Training panel's answer)."""
        if why:
            self._say(f"{optimizer}: not applied: {why}", error=True)
        else:
            self._say(f"{optimizer}: its best trial's values are set in the Training panel (its sliders).")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setProperty("error", error)
        self.status.setStyleSheet(f"color: {ERROR if error else MUTED}")


def _short(url: str) -> str:
    from optviz.core.study.storage import safe_url

    return safe_url(url)
