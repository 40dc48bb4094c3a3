"""The race panel's learning-rate schedule of the selected optimizer: the kind (torch.optim.lr_scheduler's),
its parameters as sliders from the kind's schema (`core/race/lr_schedule.py`), and a preview of the learning
rate at every step of the race, the very values the race uses."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.widgets.param_controls import ParamForm
from optviz.app.widgets.schedule_preview import SchedulePreview
from optviz.core.errors import OptvizError
from optviz.core.optimizers import get_optimizer
from optviz.core.params import Value
from optviz.core.race.lr_schedule import DESCRIPTIONS, SCHEDULE_KINDS, SCHEMAS, LrSchedule, lr_values


class ScheduleControl(QtWidgets.QWidget):
    """Schedule of optimizer `k` (set by `show_optimizer`); writes `SceneModel.set_schedule`."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.k = -1
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        row = QtWidgets.QHBoxLayout()
        self.label = QtWidgets.QLabel("lr schedule", self)
        self.kind = QtWidgets.QComboBox(self)
        for i, kind in enumerate(SCHEDULE_KINDS):
            self.kind.addItem(kind, kind)
            self.kind.setItemData(i, DESCRIPTIONS[kind], QtCore.Qt.ItemDataRole.ToolTipRole)
        tip = (
            "How this optimizer's learning rate changes over the race, as torch.optim.lr_scheduler changes it "
            "(the slider's lr is the peak); lengths are shares of the race's steps"
        )
        self.label.setToolTip(tip)
        self.kind.setToolTip(tip)
        self.kind.currentIndexChanged.connect(lambda _index: self._kind_chosen())
        row.addWidget(self.label)
        row.addStretch(1)
        row.addWidget(self.kind)
        layout.addLayout(row)
        self.form_holder = QtWidgets.QVBoxLayout()
        layout.addLayout(self.form_holder)
        self.form: ParamForm | None = None
        self.preview = SchedulePreview(self, "The learning rate at each step of the race")
        layout.addWidget(self.preview)
        #: Each kind's values as last set, kept while another kind is chosen (switching back restores them).
        self._values: dict[str, dict[str, Value]] = {}
        model.raceSettingsChanged.connect(self._preview)  # the schedule spans the race's steps

    def show_optimizer(self, k: int) -> None:
        self.k = k
        entry = self.model.optimizers[k] if 0 <= k < len(self.model.optimizers) else None
        has_lr = entry is not None and "lr" in get_optimizer(entry.name).schema.names
        self.setVisible(has_lr)
        if not has_lr:
            return
        schedule = entry.schedule
        kind = "constant" if schedule is None else schedule.kind
        if schedule is not None:
            self._values[kind] = dict(schedule.params)
        with signals_blocked(self.kind):
            self.kind.setCurrentIndex(self.kind.findData(kind))
        self._build_form(kind)
        self._preview()

    def _build_form(self, kind: str) -> None:
        schema = SCHEMAS[kind]
        if self.form is None or self.form.property("kind") != kind:
            if self.form is not None:
                self.form.setParent(None)
                self.form.deleteLater()
            self.form = ParamForm(schema, self)
            self.form.setProperty("kind", kind)
            self.form.valueEdited.connect(self._edited)
            self.form.resetRequested.connect(self._reset)
            self.form.errorRaised.connect(self.model.errorRaised)
            self.form_holder.addWidget(self.form)
        self.form.set_values(self._values.get(kind, schema.defaults()), schema.defaults())
        self.form.setVisible(len(schema.names) > 0)

    def _kind_chosen(self) -> None:
        kind = self.kind.currentData()
        self._build_form(kind)
        self._apply()

    def _edited(self, name: str, value: Value) -> None:
        kind = self.kind.currentData()
        self._values.setdefault(kind, SCHEMAS[kind].defaults())[name] = value
        self._apply()

    def _reset(self, name: str) -> None:
        kind = self.kind.currentData()
        self._values.setdefault(kind, SCHEMAS[kind].defaults())[name] = SCHEMAS[kind].get(name).default
        self._build_form(kind)
        self._apply()

    def _apply(self) -> None:
        kind = self.kind.currentData()
        if not 0 <= self.k < len(self.model.optimizers):
            return
        try:
            schedule = None if kind == "constant" else LrSchedule(kind, self._values.get(kind, {}))
        except OptvizError as exc:  # the form checked each value; a kind's own rule would land here
            self.model.errorRaised.emit(str(exc))
            return
        self.model.set_schedule(self.k, schedule)
        self._preview()

    def _preview(self) -> None:
        if not 0 <= self.k < len(self.model.optimizers) or self.isHidden():
            return
        entry = self.model.optimizers[self.k]
        lr = self.model.hyperparams(self.k).get("lr")
        if not isinstance(lr, (int, float)):
            return
        self.preview.show_values(lr_values(entry.schedule, float(lr), self.model.steps))
        self.preview.setVisible(entry.schedule is not None)
