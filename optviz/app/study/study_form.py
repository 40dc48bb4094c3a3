"""The Studies tab's set-up form: what `optviz study run` takes, as widgets.

Model and data set (data a model cannot read greyed out, as in the Training panel), steps, batch, seeds, the
optimizers (the registry's searchable picker, those that can train), what to tune (comma text as `--tune`,
checked as it is typed: a mistake is one line under the box), trials per optimizer, TPE search or a grid, the
median pruner, and where the study lives: its name and a storage (empty: a journal file in the user's data folder).

`setup()` reads the form into a `StudySetup` (or raises the core's one-line `OptvizError`); `show_setup` fills it
from a study opened from its storage. What the form has no widget for (device, precision, values held fixed)
is kept from the study shown, so starting an opened study joins it rather than asking for another one.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.widgets.picker import OptimizerPicker, spec_tooltip
from optviz.app.widgets.theme import ERROR, MUTED
from optviz.core.errors import OptvizError
from optviz.core.learn.config import MAX_STEPS
from optviz.core.learn.datasets import DATASETS
from optviz.core.learn.models import MODELS
from optviz.core.optimizers import REGISTRY, get_optimizer
from optviz.core.palette import PALETTE
from optviz.core.study.setup import MAX_GRID_POINTS, MAX_SEEDS, MAX_TRIALS, StudyOptimizer, StudySetup
from optviz.core.study.space import parse_tune
from optviz.core.study.storage import default_storage

#: The guides' comparison: SGD with momentum, AdamW, Adafactor, LAMB and Lion (those the registry has).
DEFAULT_OPTIMIZERS = ("momentum", "adamw", "adafactor", "lamb", "lion")
DEFAULT_NAME = "digits-mlp"
MODES = {"TPE search": "tpe", "grid": "grid"}


def trainable_specs() -> list:
    return [s for s in REGISTRY.values() if not s.training_unavailable]


def optimizer_color(index: int) -> str:
    """The colour of the study's `index`-th optimizer: the HTML report's (`export/study_report.py`)."""
    return PALETTE[index % len(PALETTE)]


class StudyForm(QtWidgets.QWidget):
    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._kept: dict = {"device": "cpu", "precision": "fp32", "fixed": {}}
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.name = QtWidgets.QLineEdit(DEFAULT_NAME, self)
        self.name.setToolTip(
            "The study's name in its storage (letters, digits, '.', '_', '-'); workers join it by name"
        )
        storage_row = QtWidgets.QHBoxLayout()
        self.storage = QtWidgets.QLineEdit(self)
        self.storage.setToolTip(
            "Where the study lives: empty for a journal file in your data folder, a journal file's path, or an "
            "Optuna storage URL (postgresql://..., mysql://..., sqlite:///FILE, grpc://HOST:PORT) that other "
            "machines reach too"
        )
        self.browse = QtWidgets.QToolButton(self)
        self.browse.setText("…")
        self.browse.setToolTip("Choose a journal file")
        storage_row.addWidget(self.storage, 1)
        storage_row.addWidget(self.browse)
        self.model = QtWidgets.QComboBox(self)
        for i, (name, spec) in enumerate(MODELS.items()):
            self.model.addItem(name)
            self.model.setItemData(i, spec.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.model.setToolTip("The network every trial trains")
        self.dataset = QtWidgets.QComboBox(self)
        for i, (name, info) in enumerate(DATASETS.items()):
            self.dataset.addItem(name)
            self.dataset.setItemData(i, info.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.dataset.setToolTip("The data set; ones the model cannot read are greyed out")
        self.steps = _spin(self, 1, MAX_STEPS, 200, "Optimizer steps per training run")
        self.batch = _spin(self, 1, 4096, 64, "Samples per optimizer step")
        self.seeds = _spin(self, 1, MAX_SEEDS, 1, "Training runs per trial (seeds seed, seed + 1, ...); the "
                           "objective is their mean final validation loss")  # fmt: skip
        self.seed = _spin(self, 0, 2**31 - 1, 0, "The first seed, and the sampler's")
        self.optimizers = QtWidgets.QListWidget(self)
        self.optimizers.setToolTip("The optimizers compared: each gets the same budget, seeds and batches")
        self.optimizers.setMinimumHeight(60)
        self.optimizers.setMaximumHeight(104)
        buttons = QtWidgets.QHBoxLayout()
        self.add_button = QtWidgets.QPushButton("Add…", self)
        self.add_button.setToolTip("Add an optimizer from the registry (searchable)")
        self.remove_button = QtWidgets.QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected optimizer from the study")
        buttons.addWidget(self.add_button, 1)
        buttons.addWidget(self.remove_button, 1)
        self.tune = QtWidgets.QLineEdit("lr", self)
        self.tune.setToolTip(
            "What to tune, comma-separated, each with an optional range: lr, beta2 or lr=1e-4:1e-1,beta2 "
            "(default ranges: lr 1e-5..1 log, momentum and beta1 0.5..0.99, beta2 0.9..0.9999)"
        )
        self.tune_error = QtWidgets.QLabel(self)
        self.tune_error.setObjectName("tune_error")
        self.tune_error.setStyleSheet(f"color: {ERROR}")
        self.tune_error.setWordWrap(True)
        self.tune_error.hide()
        self.trials = _spin(self, 1, MAX_TRIALS, 12, "Trials per optimizer (a grid runs each of its cells once)")
        self.mode = QtWidgets.QComboBox(self)
        self.mode.addItems(list(MODES))
        self.mode.setToolTip("TPE: Optuna's sampler searches; grid: every combination of evenly spread values")
        self.grid_points = _spin(self, 1, MAX_GRID_POINTS, 5, "Grid values per tuned hyperparameter")
        self.pruner = QtWidgets.QCheckBox("median pruner", self)
        self.pruner.setToolTip("Stop a trial early when its validation loss is worse than the median so far")
        budget_row = QtWidgets.QHBoxLayout()
        budget_row.addWidget(self.mode, 1)
        budget_row.addWidget(self.grid_points)
        self.note = QtWidgets.QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {MUTED}")

        form.addRow(_label(self, "Study", self.name), self.name)
        form.addRow(_label(self, "Storage", self.storage), storage_row)
        form.addRow(_label(self, "Model", self.model), self.model)
        form.addRow(_label(self, "Data set", self.dataset), self.dataset)
        form.addRow(_label(self, "Steps", self.steps), self.steps)
        form.addRow(_label(self, "Batch", self.batch), self.batch)
        form.addRow(_label(self, "Seeds", self.seeds), self.seeds)
        form.addRow(_label(self, "First seed", self.seed), self.seed)
        form.addRow(_label(self, "Optimizers", self.optimizers), self.optimizers)
        form.addRow("", buttons)
        form.addRow(_label(self, "Tune", self.tune), self.tune)
        form.addRow("", self.tune_error)
        form.addRow(_label(self, "Trials", self.trials), self.trials)
        form.addRow(_label(self, "Sampler", self.mode), budget_row)
        form.addRow("", self.pruner)
        form.addRow("", self.note)

        self.picker = OptimizerPicker(self, trainable_specs(), action="add this optimizer to the study")
        self.picker.picked.connect(self.add_optimizer)
        self.add_button.clicked.connect(
            lambda: self.picker.popup(self.add_button.mapToGlobal(QtCore.QPoint(0, self.add_button.height())))
        )
        self.remove_button.clicked.connect(self._remove_selected)
        self.browse.clicked.connect(self._browse)
        self.model.currentTextChanged.connect(self._model_changed)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self.tune.textChanged.connect(self.check_tune)
        self.name.textChanged.connect(self._show_default_storage)
        for spin in (self.steps, self.batch, self.seeds, self.seed, self.trials, self.grid_points):
            spin.valueChanged.connect(self.changed)
        self.model.setCurrentText("mlp")
        self.dataset.setCurrentText("digits")
        self._model_changed(self.model.currentText())
        for name in DEFAULT_OPTIMIZERS:
            if name in REGISTRY and not REGISTRY[name].training_unavailable:
                self.add_optimizer(name)
        self._mode_changed(self.mode.currentText())
        self._show_default_storage()

    # --- optimizers --------------------------------------------------------------------------------------

    def optimizer_names(self) -> list[str]:
        return [self.optimizers.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.optimizers.count())]

    def add_optimizer(self, name: str) -> None:
        spec = get_optimizer(name)
        if spec.name in self.optimizer_names():
            return  # each optimizer gets one budget
        item = QtWidgets.QListWidgetItem(spec.title)
        item.setData(QtCore.Qt.ItemDataRole.UserRole, spec.name)
        item.setToolTip(spec_tooltip(spec))
        self.optimizers.addItem(item)
        self._recolor()
        self.changed.emit()

    def set_optimizers(self, names: list[str]) -> None:
        self.optimizers.clear()
        for name in names:
            self.add_optimizer(name)

    def _remove_selected(self) -> None:
        row = self.optimizers.currentRow()
        if row >= 0:
            self.optimizers.takeItem(row)
            self._recolor()
            self.changed.emit()

    def _recolor(self) -> None:
        for i in range(self.optimizers.count()):
            self.optimizers.item(i).setForeground(QtGui.QBrush(QtGui.QColor(optimizer_color(i))))

    # --- checks as one types ----------------------------------------------------------------------------

    def check_tune(self, *_args: object) -> bool:
        """Parse the tune text now; a mistake is one line under the box (and the box outlined)."""
        try:
            parse_tune(self.tune.text())
            problem = ""
        except OptvizError as exc:
            problem = str(exc).splitlines()[0].replace("--tune ", "", 1)
        self.tune.setProperty("invalid", bool(problem))
        self.tune.style().unpolish(self.tune)
        self.tune.style().polish(self.tune)
        self.tune_error.setText(problem)
        self.tune_error.setVisible(bool(problem))
        self.changed.emit()
        return not problem

    def _model_changed(self, name: str) -> None:
        kinds = MODELS[name].kinds
        first_fit = None
        for i, info in enumerate(DATASETS.values()):
            fits = info.kind in kinds
            item = self.dataset.model().item(i)
            enabled = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
            item.setFlags(item.flags() | enabled if fits else item.flags() & ~enabled)
            if fits and first_fit is None:
                first_fit = i
        if DATASETS[self.dataset.currentText()].kind not in kinds and first_fit is not None:
            self.dataset.setCurrentIndex(first_fit)
        self.changed.emit()

    def _mode_changed(self, text: str) -> None:
        grid = MODES[text] == "grid"
        self.grid_points.setEnabled(grid)
        self.trials.setEnabled(not grid)  # a grid's budget is its size
        self.note.setText(
            "Grid: each optimizer runs every cell once (grid values ^ tuned hyperparameters)."
            if grid
            else "TPE: Optuna's sampler, seeded: the same study asks for the same settings."
        )
        self.changed.emit()

    def _show_default_storage(self, *_args: object) -> None:
        name = self.name.text().strip() or DEFAULT_NAME
        self.storage.setPlaceholderText(f"default: {default_storage(name)}")

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self,
            "Journal file for the study",
            self.storage.text() or default_storage(self.name.text().strip() or DEFAULT_NAME),
            "Optuna journal (*.journal *.log);;All files (*)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.storage.setText(path)

    # --- reading and showing -------------------------------------------------------------------------------

    def storage_url(self) -> str:
        """The storage as typed, or the default journal file of the study's name."""
        return self.storage.text().strip() or default_storage(self.name.text().strip())

    def uses_default_storage(self) -> bool:
        return not self.storage.text().strip()

    def setup(self) -> StudySetup:
        """The form as a `StudySetup`; an `OptvizError` (one line) for what cannot run."""
        if not self.check_tune():
            raise OptvizError(f"tune: {self.tune_error.text()}")
        fixed = self._kept["fixed"]
        return StudySetup(
            name=self.name.text().strip(),
            optimizers=tuple(StudyOptimizer(n, dict(fixed.get(n, {}))) for n in self.optimizer_names()),
            tune=parse_tune(self.tune.text()),
            trials=self.trials.value(),
            mode=MODES[self.mode.currentText()],
            grid_points=self.grid_points.value(),
            pruner=self.pruner.isChecked(),
            model=self.model.currentText(),
            dataset=self.dataset.currentText(),
            steps=self.steps.value(),
            batch_size=self.batch.value(),
            seeds=self.seeds.value(),
            seed=self.seed.value(),
            device=self._kept["device"],
            precision=self._kept["precision"],
        )

    def show_setup(self, setup: StudySetup, storage: str) -> None:
        """Fill the form from an opened study (what it has no widget for is kept, see the module doc)."""
        self._kept = {
            "device": setup.device,
            "precision": setup.precision,
            "fixed": {o.name: dict(o.fixed) for o in setup.optimizers},
        }
        self.name.setText(setup.name)
        self.storage.setText("" if storage == default_storage(setup.name) else storage)
        self.model.setCurrentText(setup.model)
        self.dataset.setCurrentText(setup.dataset)
        self.steps.setValue(setup.steps)
        self.batch.setValue(setup.batch_size)
        self.seeds.setValue(setup.seeds)
        self.seed.setValue(setup.seed)
        self.set_optimizers([o.name for o in setup.optimizers])
        self.tune.setText(",".join(t.text() for t in setup.tune))
        self.trials.setValue(setup.trials)
        self.mode.setCurrentText(next(k for k, v in MODES.items() if v == setup.mode))
        self.grid_points.setValue(setup.grid_points)
        self.pruner.setChecked(setup.pruner)

    def setEnabledForRun(self, running: bool) -> None:
        for child in self.findChildren(QtWidgets.QWidget):
            if not isinstance(child, QtWidgets.QLabel) and not (
                child is self.picker or self.picker.isAncestorOf(child)
            ):
                child.setEnabled(not running)
        if not running:
            self._mode_changed(self.mode.currentText())


def _spin(parent: QtWidgets.QWidget, low: int, high: int, value: int, tip: str) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox(parent)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)
    return spin


def _label(parent: QtWidgets.QWidget, text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text, parent)
    label.setToolTip(buddy.toolTip())
    label.setBuddy(buddy)
    return label
