"""The Studies tab: a real (tiny) study runs in it on a worker thread and what it shows is what the storage
holds; Pause then Start resumes without losing a trial, Stop fails the trial in training; a bad tune text is one
inline line; an existing study opens with its trials, is polled while the tab is in front (not while hidden),
and exports the command line's HTML report; "Apply best" sets the Training panel's sliders."""

from __future__ import annotations

import math

import pytest
from PySide6 import QtCore, QtWidgets

from optviz.app.study import study_panel as study_panel_module
from optviz.app.study.open_dialog import OpenStudyDialog, list_studies
from optviz.app.study.study_panel import StudyPanel
from optviz.app.study.study_worker import StudyWorker
from optviz.app.widgets.param_controls import TICKS
from optviz.core.optimizers import get_optimizer
from optviz.core.study.report import build_report
from optviz.core.study.setup import StudyOptimizer, StudySetup
from optviz.core.study.space import parse_tune
from optviz.core.study.storage import open_storage
from optviz.core.study.worker import TuningStudy

pytestmark = pytest.mark.usefixtures("one_torch_thread")
WAIT_MS = 60_000


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVIZ_DATA_DIR", str(tmp_path / "data"))
    widget = StudyPanel()
    widget.resize(1300, 600)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def set_up(panel: StudyPanel, path, name="tab", optimizers=("adamw", "momentum"), trials=2, steps=6) -> None:
    form = panel.form
    form.name.setText(name)
    form.storage.setText(str(path))
    form.model.setCurrentText("mlp")
    form.dataset.setCurrentText("digits")
    form.steps.setValue(steps)
    form.batch.setValue(32)
    form.trials.setValue(trials)
    form.tune.setText("lr")
    form.set_optimizers(list(optimizers))


def on_worker_events(monkeypatch, handler) -> None:
    """Call `handler(worker, event)` on the worker's own thread for each event of every worker the panel
    starts, connected before the thread starts (so no event is missed): the buttons' calls without the UI's
    delay, at an exact point of the job."""

    class Worker(StudyWorker):
        def __init__(self, open_study) -> None:
            super().__init__(open_study)
            self.event.connect(lambda e: handler(self, e), QtCore.Qt.ConnectionType.DirectConnection)

    monkeypatch.setattr(study_panel_module, "StudyWorker", Worker)


def wait_idle(panel: StudyPanel, qtbot) -> None:
    qtbot.waitUntil(lambda: not panel.is_running() and not panel.reader.running, timeout=WAIT_MS)


def stored(path, name):
    study = TuningStudy.load(open_storage(str(path)), name)
    return study, study.records()


def objective_text(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "diverged"


def assert_shows(panel: StudyPanel, records) -> None:
    """The tables and the best-so-far chart show exactly the storage's trials."""
    expected = sorted((t.optimizer, t.number, t.state, objective_text(t.value)) for ts in records.values() for t in ts)
    assert sorted(panel.trials_table.rows()) == expected
    report = build_report(panel.report.setup, records)
    curves = panel.charts.best.getPlotItem().listDataItems()
    drawn = {k: v for k, v in report.history.items() if any(math.isfinite(b) for _, b in v)}  # none yet: no line
    assert len(curves) == len(drawn)
    for curve, (name, history) in zip(curves, drawn.items(), strict=True):
        x, y = curve.getOriginalDataset()
        assert list(x) == [n for n, _ in history] and list(y) == [b for _, b in history], name
    for k, row in enumerate(report.rows):
        assert panel.best_table.item(k, 0).text() == row.optimizer
        assert panel.best_table.item(k, 2).text() == (f"{row.objective:.4g}" if row.best_trial is not None else "-")


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    """A finished study in a journal file (made by the core, as another worker would): 2 optimizers x 3 trials."""
    path = tmp_path_factory.mktemp("study") / "done.journal"
    setup = StudySetup(
        name="done",
        optimizers=(StudyOptimizer("adamw"), StudyOptimizer("lion")),
        tune=parse_tune("lr,beta2"),
        trials=3,
        model="mlp",
        dataset="digits",
        steps=6,
        batch_size=32,
    )
    TuningStudy.create(open_storage(str(path)), setup).run_worker()
    return path


def test_a_study_runs_in_the_tab_and_shows_the_storages_trials(panel, qtbot, tmp_path):
    path = tmp_path / "s.journal"
    set_up(panel, path)
    seen = []
    set_format = panel.progress.setFormat

    def record(text: str) -> None:  # what the progress bar says, in order
        seen.append(text)
        set_format(text)

    panel.progress.setFormat = record
    assert panel.start()
    assert not panel.start_button.isEnabled() and not panel.form.tune.isEnabled()
    wait_idle(panel, qtbot)
    _study, records = stored(path, "tab")
    assert [len(records[n]) for n in ("adamw", "momentum")] == [2, 2]
    assert all(t.state == "complete" for ts in records.values() for t in ts)
    assert_shows(panel, records)
    trials = list(dict.fromkeys(t for t in seen if t.startswith("trial")))
    assert trials == ["trial 1 of 4 · AdamW", "trial 2 of 4 · SGD + momentum", "trial 3 of 4 · AdamW",
                      "trial 4 of 4 · SGD + momentum"]  # fmt: skip
    assert panel.progress.format() == "4 of 4 trials finished" and "Done: 4 of 4" in panel.status.text()
    assert panel.start_button.isEnabled() and panel.export_button.isEnabled()
    assert set(panel.report.importances) == {"adamw", "momentum"}  # lr alone: all of it, for each
    assert [r[2] for r in panel.importances.rows] == [{"lr": 1.0}, {"lr": 1.0}]


def test_pause_then_start_resumes_without_losing_trials(panel, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "p.journal"
    set_up(panel, path, trials=3)
    paused = []

    def pause_once(worker, e) -> None:  # Pause as the first trial starts
        if e.kind == "started" and not paused:
            paused.append(e.trial)
            worker.pause()

    on_worker_events(monkeypatch, pause_once)
    assert panel.start()
    wait_idle(panel, qtbot)
    assert "Paused: 1 of 6 trials finished" in panel.status.text()
    _study, first = stored(path, "tab")
    kept = [(t.optimizer, t.number, t.value) for ts in first.values() for t in ts]
    assert len(kept) == 1 and first["adamw"][0].state == "complete"
    assert_shows(panel, first)
    qtbot.mouseClick(panel.start_button, QtCore.Qt.MouseButton.LeftButton)  # Start again: resumes
    wait_idle(panel, qtbot)
    _study, records = stored(path, "tab")
    assert all(len(ts) == 3 and all(t.state == "complete" for t in ts) for ts in records.values())
    assert (records["adamw"][0].optimizer, records["adamw"][0].number, records["adamw"][0].value) == kept[0]
    assert_shows(panel, records)


def test_stop_fails_the_trial_in_training_and_it_is_run_again(panel, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "x.journal"
    set_up(panel, path, optimizers=("adamw",), trials=1, steps=40)
    stopped = []

    def stop_once(worker, e) -> None:  # Stop in the middle of the first trial
        if e.kind == "step" and not stopped:
            stopped.append(e.fraction)
            worker.stop()

    on_worker_events(monkeypatch, stop_once)
    assert panel.start()
    wait_idle(panel, qtbot)
    assert panel.status.text().startswith("Stopped: 0 of 1")
    _study, records = stored(path, "tab")
    assert [t.state for t in records["adamw"]] == ["fail"] and "stopped" in records["adamw"][0].note
    assert panel.trials_table.rows() == [("adamw", 0, "fail", "-")]
    assert panel.start()
    wait_idle(panel, qtbot)
    _study, records = stored(path, "tab")
    assert [t.state for t in records["adamw"]] == ["fail", "complete"]


def test_a_bad_tune_text_is_one_inline_line_and_nothing_starts(panel, qtbot, tmp_path):
    set_up(panel, tmp_path / "b.journal")
    form = panel.form
    form.tune.setText("lr=1:0.1")
    assert form.tune_error.isVisible() and form.tune.property("invalid") is True
    assert "\n" not in form.tune_error.text() and "LOW < HIGH" in form.tune_error.text()
    assert not panel.start() and panel.worker is None
    assert panel.status.property("error") is True and "LOW < HIGH" in panel.status.text()
    form.tune.setText("lr")
    assert not form.tune_error.isVisible() and form.tune.property("invalid") is False
    # What only the whole set-up can tell (no chosen optimizer has it) is one line once the worker checks it.
    form.tune.setText("rho")
    assert panel.start()
    wait_idle(panel, qtbot)
    assert panel.status.property("error") is True
    assert "\n" not in panel.status.text() and "--tune rho: no chosen optimizer has it" in panel.status.text()
    assert list_studies(str(tmp_path / "b.journal")) == []  # refused before anything was stored


def test_an_existing_study_opens_with_its_trials_and_is_polled_only_in_front(panel, qtbot, finished_study, tmp_path):
    import shutil

    finished_study = shutil.copy(finished_study, tmp_path / "copy.journal")  # this test adds a trial to it
    assert list_studies(str(finished_study)) == ["done"]
    dialog = OpenStudyDialog(panel, str(finished_study))  # lists the storage's studies as it opens
    assert dialog.wait()
    assert [dialog.names.item(i).text() for i in range(dialog.names.count())] == ["done"]
    assert dialog.choice() == (str(finished_study), "done")
    dialog.storage.setText(str(tmp_path / "no" / "such.journal"))
    dialog.refresh()
    assert dialog.wait()
    assert "does not exist" in dialog.message.text() and dialog.names.count() == 0
    dialog.deleteLater()

    panel.open_study(str(finished_study), "done")
    wait_idle(panel, qtbot)
    study, records = stored(finished_study, "done")
    assert_shows(panel, records)
    assert panel.form.name.text() == "done" and panel.form.optimizer_names() == ["adamw", "lion"]
    assert panel.form.tune.text() == "lr,beta2" and panel.progress.format() == "6 of 6 trials finished"
    assert panel.report.importances["adamw"].trials == 3
    # Start joins it: the budget is full, so this worker trains nothing and loses nothing.
    assert panel.start()
    wait_idle(panel, qtbot)
    assert "Done: 6 of 6" in panel.status.text()
    assert _same(stored(finished_study, "done")[1], records)

    # Polling: only while the tab is in front.
    panel.set_active(False)
    assert not panel.poll.isActive()
    panel.set_active(True)
    assert panel.poll.isActive()
    wait_idle(panel, qtbot)
    study.budget = 4  # another worker with a larger budget would add a trial; here the core adds it itself
    study.run_worker(max_trials=1)
    qtbot.waitUntil(lambda: len(panel.trials_table.rows()) == 7, timeout=3 * 3000 + 2000)
    panel.set_active(False)
    assert not panel.poll.isActive()


def _same(a, b) -> bool:
    return {k: [(t.number, t.state, t.value) for t in v] for k, v in a.items()} == {
        k: [(t.number, t.state, t.value) for t in v] for k, v in b.items()
    }


def test_export_writes_the_command_lines_report(panel, qtbot, finished_study, tmp_path):
    from optviz.export.study_report import study_html

    panel.open_study(str(finished_study), "done")
    wait_idle(panel, qtbot)
    out = tmp_path / "report.html"
    assert panel.export_report(str(out))
    study, records = stored(finished_study, "done")
    assert out.read_text(encoding="utf-8") == study_html(build_report(study.setup, records), str(finished_study))
    assert not panel.export_report(str(tmp_path / "no" / "such" / "r.html"))
    assert panel.status.property("error") is True and "cannot write" in panel.status.text()


def test_apply_best_sets_the_training_panels_sliders(window, qtbot, finished_study):
    panel, training = window.study_panel, window.training_panel
    window.show_studies()
    panel.open_study(str(finished_study), "done")
    wait_idle(panel, qtbot)
    report = panel.report
    before = [e.name for e in training.optimizers.entries]
    assert "lion" not in before and "adamw" in before
    for name in ("lion", "adamw"):
        best = report.row(name).best_params
        qtbot.mouseClick(panel.best_table.buttons[name], QtCore.Qt.MouseButton.LeftButton)
        entry = training.optimizers.current()
        assert entry is not None and entry.name == name
        assert {k: entry.hp[k] for k in best} == best
        spec = get_optimizer(name)
        form = training.optimizers.form
        for key, value in best.items():
            position = round(spec.schema.get(key).to_unit(float(value)) * TICKS)
            assert form.slider(key).value() == position, (name, key)
        assert "set in the Training panel" in panel.status.text()
    after = [e.name for e in training.optimizers.entries]
    assert after == [*before, "lion"]  # lion was added, adamw's own row was set
    assert training.config().optimizers[after.index("lion")].hp == report.row("lion").best_params


def test_the_open_dialog_reads_a_storage_without_freezing_the_window(panel, qtbot, monkeypatch, finished_study):
    """A storage that is slow to answer (a database far away): the dialog says it is reading, List and Open
    wait, the window keeps painting, and the names arrive when the storage answers."""
    import threading

    from optviz.app.study import open_dialog

    answer = threading.Event()
    real = open_dialog.list_studies

    def slow(url: str) -> list[str]:
        assert answer.wait(30)
        return real(url)

    monkeypatch.setattr(open_dialog, "list_studies", slow)
    dialog = OpenStudyDialog(panel, str(finished_study))
    open_button = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Open)
    qtbot.wait(50)  # the event loop runs while the storage has not answered
    assert dialog.job.running and "reading" in dialog.message.text()
    assert not dialog.list_button.isEnabled() and not open_button.isEnabled()
    answer.set()
    assert dialog.wait()
    assert dialog.choice() == (str(finished_study), "done") and open_button.isEnabled()
    assert dialog.list_button.isEnabled() and "1 study" in dialog.message.text()
    dialog.deleteLater()
