"""The race panel: the racing optimizers (add, remove, duplicate, enable, colour) and the hyperparameters of
the selected one, generated from the registry schema.

Rows and the editor write the model; the model's signals rebuild or refresh them with signals blocked.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import MAX_OPTIMIZERS, SceneModel
from optviz.app.race.clip_control import ClipControl
from optviz.app.race.race_lr_find import RaceLrFinder
from optviz.app.race.schedule_control import ScheduleControl
from optviz.app.widgets.icons import icon, swatch
from optviz.app.widgets.param_controls import ParamForm
from optviz.app.widgets.picker import OptimizerPicker, spec_tooltip
from optviz.core.optimizers import get_optimizer


class OptimizerRow(QtWidgets.QFrame):
    """One racing optimizer: enable box, colour button, name (click to select), duplicate and remove."""

    def __init__(self, model: SceneModel, k: int, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.k = model, k
        self.setProperty("role", "row")
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 4, 3)
        layout.setSpacing(6)
        self.enabled_box = QtWidgets.QCheckBox(self)
        self.enabled_box.setToolTip("Race this optimizer (unchecked: hidden from the view, charts and leaderboard)")
        self.enabled_box.toggled.connect(lambda on: self.model.set_enabled(self.k, on))
        self.color_button = QtWidgets.QToolButton(self)
        self.color_button.setAutoRaise(True)
        self.color_button.setToolTip("Pick this optimizer's colour")
        self.color_button.clicked.connect(self._pick_color)
        self.name = QtWidgets.QLabel(self)
        self.name.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.duplicate_button = self._tool("duplicate", "Duplicate: race a second copy to compare two settings")
        self.duplicate_button.clicked.connect(lambda: self.model.duplicate_optimizer(self.k))
        self.remove_button = self._tool("remove", "Remove this optimizer from the race")
        self.remove_button.clicked.connect(lambda: self.model.remove_optimizer(self.k))
        layout.addWidget(self.enabled_box)
        layout.addWidget(self.color_button)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.duplicate_button)
        layout.addWidget(self.remove_button)
        self._state: tuple | None = None
        self.refresh()

    def _tool(self, name: str, tip: str) -> QtWidgets.QToolButton:
        button = QtWidgets.QToolButton(self)
        button.setIcon(icon(name))
        button.setIconSize(QtCore.QSize(14, 14))
        button.setAutoRaise(True)
        button.setToolTip(tip)
        return button

    def refresh(self) -> None:
        entry = self.model.optimizers[self.k]
        spec = get_optimizer(entry.name)
        lr = self.model.hyperparams(self.k).get("lr")
        hint = f"<span style='color:#8a93a3'>&nbsp; lr {lr:.3g}</span>" if lr is not None else ""
        count = len(self.model.optimizers)
        state = (entry.enabled, self.model.color(self.k), self.model.display_name(self.k), hint, entry.name, count)
        if state == self._state:
            return  # unchanged: touch no widget (every repaint composes the window on software GL)
        self._state = state
        with signals_blocked(self.enabled_box):
            self.enabled_box.setChecked(entry.enabled)
        self.color_button.setIcon(swatch(self.model.color(self.k), 10))
        self.name.setText(f"{html.escape(self.model.display_name(self.k))}{hint}")
        self.name.setEnabled(entry.enabled)
        self.setToolTip(spec_tooltip(spec))
        self.duplicate_button.setEnabled(count < MAX_OPTIMIZERS)
        self.duplicate_button.setToolTip(
            "Duplicate: race a second copy to compare two settings"
            if count < MAX_OPTIMIZERS
            else f"{MAX_OPTIMIZERS} optimizers race already: remove one to duplicate this one"
        )
        self.remove_button.setEnabled(count > 1)

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", selected)
        self.style().unpolish(self)
        self.style().polish(self)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        self.model.select(self.k)
        super().mousePressEvent(event)

    def _pick_color(self) -> None:
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(self.model.color(self.k)), self, "Optimizer colour")
        if color.isValid():
            self.model.set_color(self.k, color.name())


class HyperparamEditor(QtWidgets.QWidget):
    """The selected optimizer: its description and update rule, then one control per hyperparameter."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.k = -1
        self.form: ParamForm | None = None
        self._form_for: str | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QtWidgets.QHBoxLayout()
        self.title = QtWidgets.QLabel(self)
        self.title.setProperty("role", "heading")
        self.reset_button = QtWidgets.QPushButton("Defaults", self)
        self.reset_button.setIcon(icon("reset"))
        self.reset_button.setToolTip("Reset every hyperparameter of this optimizer to the registry's defaults")
        self.reset_button.clicked.connect(lambda: self.k >= 0 and self.model.reset_hyperparams(self.k))
        self.find_lr_button = QtWidgets.QPushButton("Find lr", self)
        self.find_lr_button.setToolTip(
            "Race this optimizer at many learning rates at once and pick one from the final loss against the lr"
        )
        head.addWidget(self.title, 1)
        head.addWidget(self.find_lr_button)
        head.addWidget(self.reset_button)
        layout.addLayout(head)
        self.description = QtWidgets.QLabel(self)
        self.description.setWordWrap(True)
        self.description.setProperty("role", "muted")
        self.rule = QtWidgets.QLabel(self)
        self.rule.setWordWrap(True)
        self.rule.setProperty("role", "rule")
        self.rule.setToolTip("The update rule, as the library implements it")
        layout.addWidget(self.description)
        layout.addWidget(self.rule)
        self.form_holder = QtWidgets.QVBoxLayout()
        layout.addLayout(self.form_holder)
        self.clip = ClipControl(model, self)
        layout.addWidget(self.clip)
        self.schedule = ScheduleControl(model, self)
        layout.addWidget(self.schedule)
        layout.addStretch(1)
        model.selectionChanged.connect(self.show_optimizer)
        model.optimizersReset.connect(lambda: self.show_optimizer(self.model.selected, rebuild=True))
        model.sceneReplaced.connect(lambda: self.show_optimizer(self.model.selected, rebuild=True))
        model.optimizerChanged.connect(self._changed)
        model.optimizerStyleChanged.connect(self._changed)
        model.surfaceChanged.connect(self.refresh)  # per-surface default learning rates
        self.show_optimizer(model.selected)

    def show_optimizer(self, k: int, rebuild: bool = False) -> None:
        self.k = k
        if k < 0 or k >= len(self.model.optimizers):
            self.title.setText("")
            return
        name = self.model.optimizers[k].name
        spec = get_optimizer(name)
        if rebuild or self._form_for != name or self.form is None:
            if self.form is not None:
                self.form.setParent(None)
                self.form.deleteLater()
            self.form = ParamForm(spec.schema, self)
            self.form.valueEdited.connect(lambda n, v: self.model.set_hyperparam(self.k, n, v))
            self.form.resetRequested.connect(lambda n: self.model.reset_hyperparams(self.k, [n]))
            self.form.errorRaised.connect(self.model.errorRaised)
            self.form_holder.addWidget(self.form)
            self._form_for = name
        self.find_lr_button.setEnabled("lr" in spec.schema.names)
        self.description.setText(spec.description)
        self.rule.setText(spec.update_rule.replace(";  ", ";\n"))
        self.setToolTip("")
        self.title.setToolTip(spec_tooltip(spec))
        self.refresh()

    def _changed(self, k: int) -> None:
        if k == self.k:
            self.refresh()

    def refresh(self) -> None:
        if self.form is None or not 0 <= self.k < len(self.model.optimizers):
            return
        entry = self.model.optimizers[self.k]
        spec = get_optimizer(entry.name)
        color = self.model.color(self.k)
        self.title.setText(f"<span style='color:{color}'>●</span> {html.escape(self.model.display_name(self.k))}")
        self.form.set_values(self.model.hyperparams(self.k), spec.defaults_for(self.model.scene.surface))
        self.clip.show_optimizer(self.k)
        self.schedule.show_optimizer(self.k)


class RacePanel(QtWidgets.QWidget):
    """The dock's contents: the add button and rows on top, the selected optimizer's editor below."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        self.add_button = QtWidgets.QPushButton("Add optimizer", self)
        self.add_button.setIcon(icon("add"))
        self.add_button.setToolTip(f"Add an optimizer from the registry (up to {MAX_OPTIMIZERS} race at once)")
        self.add_button.clicked.connect(self.open_picker)
        layout.addWidget(self.add_button)
        self.rows_box = QtWidgets.QWidget(self)
        self.rows_layout = QtWidgets.QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(1)
        layout.addWidget(self.rows_box)
        line = QtWidgets.QFrame(self)
        line.setFrameShape(QtWidgets.QFrame.Shape.HLine)
        line.setStyleSheet("color: #353b45;")
        layout.addWidget(line)
        self.editor = HyperparamEditor(model, self)
        self.lr_finder = RaceLrFinder(model, self)
        self.editor.find_lr_button.clicked.connect(lambda: self.lr_finder.find(self.model.selected))
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroll, 1)
        self.picker = OptimizerPicker(self)
        self.picker.picked.connect(self._add)
        self.rows: list[OptimizerRow] = []
        model.optimizersReset.connect(self.rebuild)
        model.sceneReplaced.connect(self.rebuild)
        model.optimizerStyleChanged.connect(self._style_changed)
        model.optimizerChanged.connect(self._style_changed)
        model.surfaceChanged.connect(lambda: self._style_changed(-1))
        model.selectionChanged.connect(self._mark_selection)
        self.rebuild()

    def open_picker(self) -> None:
        self.picker.popup(self.add_button.mapToGlobal(QtCore.QPoint(0, self.add_button.height())))

    def _add(self, name: str) -> None:
        self.model.add_optimizer(name)

    def rebuild(self) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = [OptimizerRow(self.model, k, self.rows_box) for k in range(len(self.model.optimizers))]
        for row in self.rows:
            self.rows_layout.addWidget(row)
        room = len(self.rows) < MAX_OPTIMIZERS
        self.add_button.setEnabled(room)
        self.add_button.setToolTip(
            f"Add an optimizer from the registry (up to {MAX_OPTIMIZERS} race at once)"
            if room
            else f"{MAX_OPTIMIZERS} optimizers race already, one per distinct colour: remove one to add another"
        )
        self._mark_selection(self.model.selected)

    def _style_changed(self, _k: int) -> None:
        for row in self.rows:  # names may renumber (duplicates), so refresh every row
            row.refresh()

    def _mark_selection(self, k: int) -> None:
        for row in self.rows:
            row.set_selected(row.k == k)
