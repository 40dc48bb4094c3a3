"""The training panel's set-up form: model, data set, batch size, steps, device (with the reason shown),
precision, learning-rate schedule (with a preview of the multiplier it applies), clipping, weight decay, seed.

Combinations that cannot run are not offered: data sets a model cannot read are disabled in the list (picking
one switches the model's data set to one it fits), CUDA is disabled without a GPU (its tooltip says why) and fp16
needs CUDA. `config()` reads the form into a `TrainConfig` minus the optimizers.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from optviz.app.widgets.schedule_preview import SchedulePreview
from optviz.app.widgets.theme import MUTED
from optviz.core.learn.config import DEVICES, MAX_STEPS, PRECISION_HELP, PRECISIONS, resolve_device
from optviz.core.learn.datasets import DATASETS
from optviz.core.learn.models import MODELS
from optviz.core.learn.schedules import SCHEDULES, ScheduleConfig, preview


def _disable_item(combo: QtWidgets.QComboBox, index: int, disabled: bool, why: str = "") -> None:
    item = combo.model().item(index)  # a QStandardItemModel behind every QComboBox
    flags = item.flags()
    enabled = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
    item.setFlags(flags & ~enabled if disabled else flags | enabled)
    if why:
        item.setToolTip(why)


class TrainingSetup(QtWidgets.QWidget):
    changed = QtCore.Signal()  # anything that affects which optimizers/implementations can be offered

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.model = QtWidgets.QComboBox(self)
        for i, (name, spec) in enumerate(MODELS.items()):
            self.model.addItem(name)
            self.model.setItemData(i, spec.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.model.setToolTip("The network to train (all optimizers start from the same initial weights)")
        self.dataset = QtWidgets.QComboBox(self)
        for i, (name, info) in enumerate(DATASETS.items()):
            self.dataset.addItem(name)
            self.dataset.setItemData(i, info.description, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.dataset.setToolTip("The data set; ones the model cannot read are greyed out")
        self.batch = self._spin(1, 4096, 64, "Samples per optimizer step (full batch when larger than the data)")
        self.steps = self._spin(1, MAX_STEPS, 200, "Optimizer steps per run")
        self.device = QtWidgets.QComboBox(self)
        self.device.addItems(list(DEVICES))
        self.device.setToolTip("auto: CUDA when torch sees a GPU, otherwise the CPU")
        self.device_reason = QtWidgets.QLabel(self)
        self.device_reason.setWordWrap(True)
        self.device_reason.setStyleSheet(f"color: {MUTED}")
        self.device_reason.setToolTip("Which device a run will use, and why")
        self.precision = QtWidgets.QComboBox(self)
        self.precision.addItems(list(PRECISIONS))
        for i, name in enumerate(PRECISIONS):
            self.precision.setItemData(i, PRECISION_HELP[name], QtCore.Qt.ItemDataRole.ToolTipRole)
        self.precision.setToolTip("Numeric precision of the forward and backward pass")
        self.schedule = QtWidgets.QComboBox(self)
        for i, (name, text) in enumerate(SCHEDULES.items()):
            self.schedule.addItem(name)
            self.schedule.setItemData(i, text, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.schedule.setToolTip("Learning-rate schedule, applied to every optimizer's own learning rate")
        self.preview = SchedulePreview(self, "Learning-rate multiplier at each step (1 = the optimizer's own lr)")
        self.clip = QtWidgets.QDoubleSpinBox(self)
        self.clip.setRange(0.0, 100.0)
        self.clip.setSingleStep(0.5)
        self.clip.setSpecialValueText("off")
        self.clip.setToolTip("Clip the gradient's global norm to this value before each step (0: off)")
        self.decay_override = QtWidgets.QCheckBox("same for all", self)
        self.decay_override.setToolTip(
            "Checked: every optimizer uses this weight decay. Unchecked: each uses its own weight_decay slider. "
            "Either way only weight matrices decay; biases and norm parameters never do (parameter groups)."
        )
        self.decay = QtWidgets.QDoubleSpinBox(self)
        self.decay.setRange(0.0, 1.0)
        self.decay.setDecimals(4)
        self.decay.setSingleStep(0.01)
        self.decay.setValue(0.01)
        self.decay.setEnabled(False)
        self.decay.setToolTip("Weight decay for every optimizer (weights only, never biases or norms)")
        decay_row = QtWidgets.QHBoxLayout()
        decay_row.addWidget(self.decay_override)
        decay_row.addWidget(self.decay, 1)
        self.seed = self._spin(0, 2**31 - 1, 0, "Seed for the data split, initial weights and batch order")

        form.addRow(self._label("Model", self.model), self.model)
        form.addRow(self._label("Data set", self.dataset), self.dataset)
        # Batch and steps on rows of their own: side by side they set the column's width, which the optimizers'
        # sliders beside it need more.
        form.addRow(self._label("Batch", self.batch), self.batch)
        form.addRow(self._label("Steps", self.steps), self.steps)
        form.addRow(self._label("Device", self.device), self.device)
        form.addRow("", self.device_reason)
        form.addRow(self._label("Precision", self.precision), self.precision)
        form.addRow(self._label("Schedule", self.schedule), self.schedule)
        form.addRow("", self.preview)
        form.addRow(self._label("Clip norm", self.clip), self.clip)
        form.addRow(self._label("Weight decay", self.decay_override), decay_row)
        form.addRow(self._label("Seed", self.seed), self.seed)

        self.model.currentTextChanged.connect(self._model_changed)
        self.device.currentTextChanged.connect(self._device_changed)
        self.schedule.currentTextChanged.connect(self._update_preview)
        self.steps.valueChanged.connect(self._update_preview)
        self.decay_override.toggled.connect(self.decay.setEnabled)
        self._model_changed(self.model.currentText())
        self._device_changed(self.device.currentText())
        self._update_preview()

    def _spin(self, low: int, high: int, value: int, tip: str) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox(self)
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        return spin

    def _label(self, text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text, self)
        label.setToolTip(buddy.toolTip())
        label.setBuddy(buddy)
        return label

    # --- offering only what can run ----------------------------------------------------------------------

    def _model_changed(self, name: str) -> None:
        kinds = MODELS[name].kinds
        first_fit = None
        for i, info in enumerate(DATASETS.values()):
            fits = info.kind in kinds
            why = info.description if fits else f"{name} cannot read {info.kind} data"
            _disable_item(self.dataset, i, not fits, why)
            if fits and first_fit is None:
                first_fit = i
        if DATASETS[self.dataset.currentText()].kind not in kinds and first_fit is not None:
            self.dataset.setCurrentIndex(first_fit)
        self.changed.emit()

    def _device_changed(self, requested: str) -> None:
        import torch

        cuda_index = list(DEVICES).index("cuda")
        no_cuda = not torch.cuda.is_available()
        _disable_item(self.device, cuda_index, no_cuda, "no CUDA device visible to torch" if no_cuda else "")
        choice = resolve_device(requested)
        self.device_reason.setText(choice.reason)
        fp16 = list(PRECISIONS).index("fp16")
        _disable_item(self.precision, fp16, choice.device != "cuda", PRECISION_HELP["fp16"])
        if choice.device != "cuda" and self.precision.currentText() == "fp16":
            self.precision.setCurrentText("fp32")
        self.changed.emit()

    def _update_preview(self, *_args) -> None:
        self.preview.show_values(preview(ScheduleConfig(self.schedule.currentText()), self.steps.value()))

    def resolved_device(self) -> str:
        return resolve_device(self.device.currentText()).device

    def config_kwargs(self) -> dict:
        """The set-up as `TrainConfig` keyword arguments (without the optimizers)."""
        return {
            "model": self.model.currentText(),
            "dataset": self.dataset.currentText(),
            "batch_size": self.batch.value(),
            "steps": self.steps.value(),
            "device": self.device.currentText(),
            "precision": self.precision.currentText(),
            "schedule": ScheduleConfig(self.schedule.currentText()),
            "clip_grad_norm": self.clip.value(),
            "weight_decay": self.decay.value() if self.decay_override.isChecked() else None,
            "seed": self.seed.value(),
        }

    def setEnabledForRun(self, running: bool) -> None:
        for child in self.findChildren(QtWidgets.QWidget):
            if not isinstance(child, (QtWidgets.QLabel, SchedulePreview)):
                child.setEnabled(not running)
        if not running:
            self.decay.setEnabled(self.decay_override.isChecked())
            self._device_changed(self.device.currentText())
