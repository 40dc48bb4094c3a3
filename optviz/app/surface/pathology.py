"""The Surface panel's "Gradient pathology" group: what every racing optimizer's gradient goes through
(`core/race/perturb.py`): none, or a kind and its parameters as sliders, with the form's inline message for
a refused value."""

from __future__ import annotations

from PySide6 import QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.widgets.param_controls import ParamForm
from optviz.core.race.perturb import KINDS, SCHEMAS, TITLES

_HELP = {
    "spike": "the gradient multiplied by a factor at chosen steps, or at random steps",
    "vanish": "the gradient scaled down from a step on, or over a window",
    "sparse": "each coordinate of the gradient zeroed at random",
    "nan": "the gradient is NaN at one step",
    "inf": "the gradient is +infinity at one step",
    "heavy": "Student-t noise added to the gradient (heavier tails than the Gaussian noise above)",
    "stale": "each run is given the gradient it saw some steps ago",
}


class PathologyBox(QtWidgets.QGroupBox):
    """Writes `SceneModel.set_perturbation`; redraws on `perturbationChanged` and a new scene."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Gradient pathology", parent)
        self.model = model
        self.setToolTip(
            "Applied identically to every optimizer's gradient (one draw from the noise seed), after the noise "
            "and before each optimizer's own clipping"
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        self.kind = QtWidgets.QComboBox(self)
        self.kind.setToolTip("What happens to every optimizer's gradient (the same draw for all): none, spikes, ...")
        self.kind.addItem("none", None)
        for kind in KINDS:
            self.kind.addItem(TITLES[kind], kind)
            self.kind.setItemData(self.kind.count() - 1, _HELP[kind], 3)  # ToolTipRole
        self.kind.currentIndexChanged.connect(self._kind_picked)
        layout.addWidget(self.kind)
        self.help = QtWidgets.QLabel(self)
        self.help.setProperty("role", "muted")
        self.help.setWordWrap(True)
        layout.addWidget(self.help)
        self.holder = QtWidgets.QVBoxLayout()
        layout.addLayout(self.holder)
        self.form: ParamForm | None = None
        self._form_for: str | None = None
        model.perturbationChanged.connect(self.refresh)
        model.sceneReplaced.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        perturbation = self.model.scene.perturbation
        kind = None if perturbation is None else perturbation.kind
        with signals_blocked(self.kind):
            self.kind.setCurrentIndex(self.kind.findData(kind))
        self.help.setText(_HELP.get(kind, "every optimizer is told the surface's own gradient (and its noise)"))
        if self._form_for != kind:
            if self.form is not None:
                self.form.setParent(None)
                self.form.deleteLater()
                self.form = None
            if kind is not None:
                self.form = ParamForm(SCHEMAS[kind], self)
                self.form.setObjectName("pathology_form")
                self.form.valueEdited.connect(self._edited)
                self.form.resetRequested.connect(self._reset)
                self.form.errorRaised.connect(self.model.errorRaised)
                self.holder.addWidget(self.form)
            self._form_for = kind
        if self.form is not None and perturbation is not None:
            self.form.set_values(perturbation.params, SCHEMAS[kind].defaults())

    def _kind_picked(self, index: int) -> None:
        self.model.set_perturbation(self.kind.itemData(index))

    def _edited(self, name: str, value: object) -> None:
        perturbation = self.model.scene.perturbation
        if perturbation is not None:
            self.model.set_perturbation(perturbation.kind, {**perturbation.params, name: value})

    def _reset(self, name: str) -> None:
        perturbation = self.model.scene.perturbation
        if perturbation is not None:
            default = SCHEMAS[perturbation.kind].get(name).default
            self.model.set_perturbation(perturbation.kind, {**perturbation.params, name: default})
