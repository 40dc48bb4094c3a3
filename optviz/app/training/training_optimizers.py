"""The training panel's optimizer list: add from the registry (the searchable picker), pick the implementation,
tune the selected one's hyperparameters with the sliders generated from its schema, remove.

The picker offers only optimizers that can train (the registry's `training_unavailable`), the implementation box
only what torch runs for that optimizer on the chosen device (`supported_implementations`), so what can be chosen
can run. Each entry keeps its own values; the list shows "title · implementation" in the run's colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.widgets.param_controls import ParamForm
from optviz.app.widgets.picker import OptimizerPicker, spec_tooltip
from optviz.app.widgets.theme import MUTED
from optviz.core.errors import OptvizError
from optviz.core.learn.config import OptimizerRun
from optviz.core.learn.implementations import supported_implementations
from optviz.core.optimizers import REGISTRY, get_optimizer
from optviz.core.palette import PALETTE
from optviz.core.params import Value

IMPL_HELP = {
    "for-loop": "one tensor at a time (torch's reference path; the only one for other libraries)",
    "foreach": "torch's multi-tensor ops: one call over all tensors of a group",
    "fused": "one fused kernel per step (torch ships these for SGD, Adam, AdamW and Adagrad)",
}

#: The least width of a hyperparameter slider: the column is narrow, and a squeezed slider is a bare handle.
SLIDER_WIDTH = 90


def trainable_specs() -> list:
    return [s for s in REGISTRY.values() if not s.training_unavailable]


def run_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass
class Entry:
    name: str
    impl: str = "for-loop"
    hp: dict[str, Value] = field(default_factory=dict)  # overrides only

    def label(self) -> str:
        return f"{get_optimizer(self.name).title} · {self.impl}"


class TrainingOptimizers(QtWidgets.QWidget):
    changed = QtCore.Signal()
    findLrRequested = QtCore.Signal(int)  # the row whose lr the range test should find

    def __init__(self, device: str = "cpu", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.entries: list[Entry] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        buttons = QtWidgets.QHBoxLayout()
        self.add_button = QtWidgets.QPushButton("Add optimizer…", self)
        self.add_button.setToolTip("Choose an optimizer from the registry (searchable); add several to compare")
        self.remove_button = QtWidgets.QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected optimizer from the run")
        self.find_lr_button = QtWidgets.QPushButton("Find lr", self)
        self.find_lr_button.setToolTip(
            "Run the lr range test for the selected optimizer on this set-up (model, data, batch, device) with "
            "its current settings, and pick a learning rate from the loss curve"
        )
        buttons.addWidget(self.add_button, 1)
        buttons.addWidget(self.find_lr_button)
        buttons.addWidget(self.remove_button)
        layout.addLayout(buttons)
        self.list = QtWidgets.QListWidget(self)
        self.list.setToolTip("The optimizers that will train, each on its own copy of the model; select one to tune it")
        self.list.setMinimumHeight(70)
        layout.addWidget(self.list, 1)
        impl_row = QtWidgets.QHBoxLayout()
        impl_label = QtWidgets.QLabel("Implementation", self)
        self.impl = QtWidgets.QComboBox(self)
        self.impl.setToolTip("torch's for-loop, foreach or fused path: only those that run for this optimizer here")
        impl_label.setToolTip(self.impl.toolTip())
        impl_row.addWidget(impl_label)
        impl_row.addWidget(self.impl, 1)
        layout.addLayout(impl_row)
        self.note = QtWidgets.QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {MUTED}")
        layout.addWidget(self.note)
        self.form_area = QtWidgets.QScrollArea(self)
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.form_area.setMinimumHeight(120)
        for bar in (self.form_area.horizontalScrollBar(), self.form_area.verticalScrollBar()):
            bar.setToolTip("Scroll this optimizer's hyperparameters")
        layout.addWidget(self.form_area, 2)
        self.form: ParamForm | None = None
        self.picker = OptimizerPicker(self, trainable_specs(), action="add this optimizer to the training run")
        self.picker.picked.connect(self.add)
        self.add_button.clicked.connect(self.open_picker)
        self.remove_button.clicked.connect(self.remove_selected)
        self.find_lr_button.clicked.connect(lambda: self.findLrRequested.emit(self.list.currentRow()))
        self.list.currentRowChanged.connect(self._selected)
        self.impl.currentTextChanged.connect(self._impl_chosen)

    # --- entries -------------------------------------------------------------------------------------------

    def open_picker(self) -> None:
        self.picker.popup(self.add_button.mapToGlobal(QtCore.QPoint(0, self.add_button.height())))

    def add(self, name: str, impl: str | None = None, **hp: Value) -> Entry:
        offered = supported_implementations(name, self.device)
        if impl is None:
            impl = "fused" if "fused" in offered else offered[0]  # the fastest path torch has, as torch's default
        entry = Entry(name, impl if impl in offered else offered[0], dict(hp))
        self.entries.append(entry)
        item = QtWidgets.QListWidgetItem(entry.label())
        self.list.addItem(item)
        self._refresh_items()
        self.list.setCurrentRow(len(self.entries) - 1)
        self.changed.emit()
        return entry

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        del self.entries[row]
        self.list.takeItem(row)
        self._refresh_items()
        self._selected(self.list.currentRow())  # takeItem may not report the new current row
        self.changed.emit()

    def clear(self) -> None:
        self.entries.clear()
        self.list.clear()
        self._selected(-1)

    def runs(self) -> tuple[OptimizerRun, ...]:
        return tuple(OptimizerRun(e.name, dict(e.hp), e.impl, e.label()) for e in self.entries)

    def set_device(self, device: str) -> None:
        """A new device may offer other implementations: keep each entry's choice where it still runs."""
        self.device = device
        for entry in self.entries:
            offered = supported_implementations(entry.name, device)
            if entry.impl not in offered:
                entry.impl = offered[0]
        self._refresh_items()
        self._selected(self.list.currentRow())

    def _refresh_items(self) -> None:
        for i, entry in enumerate(self.entries):
            item = self.list.item(i)
            item.setText(entry.label())
            item.setForeground(QtGui.QBrush(QtGui.QColor(run_color(i))))
            item.setToolTip(spec_tooltip(get_optimizer(entry.name)))

    # --- the selected entry's editor -------------------------------------------------------------------------

    def current(self) -> Entry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _selected(self, row: int) -> None:
        entry = self.entries[row] if 0 <= row < len(self.entries) else None
        with signals_blocked(self.impl):
            self.impl.clear()
            if entry is not None:
                offered = supported_implementations(entry.name, self.device)
                for i, impl in enumerate(offered):
                    self.impl.addItem(impl)
                    self.impl.setItemData(i, IMPL_HELP[impl], QtCore.Qt.ItemDataRole.ToolTipRole)
                self.impl.setCurrentText(entry.impl)
            self.impl.setEnabled(entry is not None and self.impl.count() > 1)
        self.remove_button.setEnabled(entry is not None)
        self.find_lr_button.setEnabled(entry is not None and "lr" in get_optimizer(entry.name).schema.names)
        self.form = None
        if entry is None:
            self.note.setText("Add optimizers to compare them on the same model and data.")
            self.form_area.setWidget(QtWidgets.QWidget())
            return
        spec = get_optimizer(entry.name)
        self.note.setText(f"{spec.title} ({spec.source}): {spec.description}")
        self.form = ParamForm(spec.schema, self, slider_width=SLIDER_WIDTH)
        self.form.valueEdited.connect(self._edited)
        self.form.resetRequested.connect(self._reset)
        self.form_area.setWidget(self.form)
        self._show_values()

    def _show_values(self) -> None:
        entry = self.current()
        if entry is None or self.form is None:
            return
        spec = get_optimizer(entry.name)
        self.form.set_values(spec.resolve(entry.hp), spec.schema.defaults())

    def _edited(self, name: str, value: Value) -> None:
        entry = self.current()
        if entry is None:
            return
        spec = get_optimizer(entry.name)
        try:
            spec.resolve({**entry.hp, name: value})  # constraints between values (Rprop's step sizes)
        except OptvizError as exc:
            self.note.setText(str(exc))  # said where the description stands; the values kept are shown again
            self._show_values()
            return
        self.note.setText(f"{spec.title} ({spec.source}): {spec.description}")
        entry.hp[name] = value
        self._show_values()
        self.changed.emit()

    def set_value(self, row: int, name: str, value: Value) -> str:
        """Set one hyperparameter of the entry at `row` (Find lr's Apply); the reason it was refused, or ""."""
        if not 0 <= row < len(self.entries):
            return "that optimizer is no longer in the list"
        entry = self.entries[row]
        spec = get_optimizer(entry.name)
        try:
            spec.schema.get(name).validate(value, spec.name)
            spec.resolve({**entry.hp, name: value})
        except OptvizError as exc:
            return str(exc)
        entry.hp[name] = value
        if row == self.list.currentRow():
            self._show_values()
        self.changed.emit()
        return ""

    def apply_values(self, name: str, values: dict[str, Value]) -> str:
        """Set `values` on the first entry of optimizer `name` (added when the list has none) and select it, so
        its sliders show them (a study's "Apply best"); all or nothing: the reason one is refused, or ""."""
        spec = get_optimizer(name)
        row = next((i for i, e in enumerate(self.entries) if e.name == spec.name), -1)
        hp = {**(self.entries[row].hp if row >= 0 else {}), **values}
        try:
            for key, value in values.items():
                spec.schema.get(key).validate(value, spec.name)
            spec.resolve(hp)
        except OptvizError as exc:
            return str(exc)
        if row < 0:
            self.add(spec.name)
            row = len(self.entries) - 1
        self.entries[row].hp = hp
        self.list.setCurrentRow(row)
        self._show_values()
        self.changed.emit()
        return ""

    def _reset(self, name: str) -> None:
        entry = self.current()
        if entry is not None:
            entry.hp.pop(name, None)
            self._show_values()
            self.changed.emit()

    def _impl_chosen(self, impl: str) -> None:
        entry = self.current()
        if entry is not None and impl:
            entry.impl = impl
            self._refresh_items()
            self.changed.emit()
