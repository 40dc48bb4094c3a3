"""The race panel's clipping option for the selected optimizer: off, by norm or by value, and the threshold
as a log slider (`core/race/clip.py`: as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` clip)."""

from __future__ import annotations

from PySide6 import QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.widgets.param_controls import ParamForm
from optviz.core.params import Param
from optviz.core.race.clip import CLIP_KINDS, THRESHOLD_RANGE, Clip

#: The threshold as a schema parameter, so it gets the same slider, text box and inline message as any other.
THRESHOLD = Param(
    "threshold",
    1.0,
    low=THRESHOLD_RANGE[0],
    high=THRESHOLD_RANGE[1],
    scale="log",
    help="largest gradient norm (norm) or coordinate (value) the optimizer is given",
)


class ClipControl(QtWidgets.QWidget):
    """Clipping of optimizer `k` (set by `show_optimizer`); writes `SceneModel.set_clip`."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.k = -1
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        row = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel("gradient clipping", self)
        self.kind = QtWidgets.QComboBox(self)
        self.kind.addItem("off", None)
        for kind in CLIP_KINDS:
            self.kind.addItem(f"by {kind}", kind)
        tip = (
            "Clip the gradient this optimizer is given, after any gradient pathology: by norm scales it to at "
            "most the threshold, by value clamps each coordinate (as torch.nn.utils.clip_grad_norm_ / "
            "clip_grad_value_)"
        )
        label.setToolTip(tip)
        self.kind.setToolTip(tip)
        self.kind.currentIndexChanged.connect(lambda _index: self._apply())
        row.addWidget(label)
        row.addStretch(1)
        row.addWidget(self.kind)
        layout.addLayout(row)
        self.form = ParamForm([THRESHOLD], self)
        self.form.valueEdited.connect(self._threshold_edited)
        self.form.resetRequested.connect(self._reset)
        self.form.errorRaised.connect(model.errorRaised)
        layout.addWidget(self.form)
        self._threshold = float(THRESHOLD.default)  # kept while clipping is off, for when it comes back on

    def show_optimizer(self, k: int) -> None:
        self.k = k
        clip = self.model.optimizers[k].clip if 0 <= k < len(self.model.optimizers) else None
        if clip is not None:
            self._threshold = clip.threshold
        with signals_blocked(self.kind):
            self.kind.setCurrentIndex(self.kind.findData(None if clip is None else clip.kind))
        self.form.set_values({"threshold": self._threshold}, {"threshold": THRESHOLD.default})
        self.form.setEnabled(clip is not None)

    def _threshold_edited(self, _name: str, value: object) -> None:
        self._threshold = float(value)  # type: ignore[arg-type]
        self._apply()

    def _apply(self) -> None:
        kind = self.kind.currentData()
        if 0 <= self.k < len(self.model.optimizers):
            self.model.set_clip(self.k, None if kind is None else Clip(kind, self._threshold))
        self.form.setEnabled(kind is not None)

    def _reset(self, _name: str) -> None:
        self._threshold = float(THRESHOLD.default)
        self.form.set_values({"threshold": self._threshold}, {"threshold": THRESHOLD.default})
        self._apply()
