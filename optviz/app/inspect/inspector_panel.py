"""The step inspector (a tab beside the charts): the selected optimizer's step at the time cursor, in numbers.

At cursor c the head stands at step c and the inspector shows step c + 1, the one taken from there (the same step
the state glyphs draw): the update rule from the registry, then every number of this step: where it starts, the
gradient it was given, the quantities the rule is made of (m̂, v̂, the denominator...: the registry's `derived`
rule), every state tensor by torch's own name as `optimizer.state[p]` holds it after the step, the update and
where it ends, and the losses before and after. For the optimizers the guides name, two plain sentences say what
the step shows. Previous and Next move the time cursor; "Follow" keeps the selected head centred in the view,
zoomed in enough to see its glyphs. Records come from `StepRecords` (asked for only while the tab is shown).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.widgets.theme import MUTED

#: Friendlier labels for the registry's derived quantities (their keys stay in the tooltip).
DERIVED_LABELS = {
    "m_hat": "m̂ (bias-corrected first moment)",
    "v_hat": "v̂ (bias-corrected second moment)",
    "denominator": "denominator",
    "step": "step (the update it makes)",
    "direction": "direction d",
    "lr_t": "lr at this step",
    "decay": "decoupled weight decay",
}
#: Zoom of the follow camera: the view's distance times this when Follow is switched on.
FOLLOW_ZOOM = 0.45


def format_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.6g}" if 1e-4 <= abs(value) < 1e6 else f"{value:.4e}"


def format_cells(value: Any) -> tuple[str, str]:
    """(x column, y column) of a state value: a pair, a scalar, a 2 x 2 matrix, a list (L-BFGS's history)."""
    if isinstance(value, list):
        return f"list of {len(value)}", ""
    array = np.asarray(value)
    if array.shape == (2,):
        return format_number(float(array[0])), format_number(float(array[1]))
    if array.size == 1:
        return format_number(float(array.reshape(-1)[0])), ""
    if array.size == 4:
        a = array.reshape(2, 2)
        return (
            f"[{format_number(float(a[0, 0]))}, {format_number(float(a[0, 1]))}]",
            f"[{format_number(float(a[1, 0]))}, {format_number(float(a[1, 1]))}]",
        )
    return f"{array.shape} array", ""


class StepInspectorPanel(QtWidgets.QWidget):
    """See the module doc. `rows` holds the table's (label, x, y) as last shown (tests read it)."""

    def __init__(self, model: SceneModel, records, scene_view, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.records = records
        self.scene_view = scene_view
        self.rows: list[tuple[str, str, str]] = []
        self.step = 0
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        left = QtWidgets.QVBoxLayout()
        header = QtWidgets.QHBoxLayout()
        self.title = QtWidgets.QLabel(self)
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.prev_button = QtWidgets.QPushButton("◀ Previous", self)
        self.prev_button.setToolTip("One step back (moves the time cursor)")
        self.prev_button.clicked.connect(lambda: self._move(-1))
        self.next_button = QtWidgets.QPushButton("Next ▶", self)
        self.next_button.setToolTip("One step forward (moves the time cursor)")
        self.next_button.clicked.connect(lambda: self._move(1))
        self.follow = QtWidgets.QCheckBox("Follow", self)
        self.follow.setToolTip("Keep this optimizer's head centred in the view, zoomed in to see its glyphs")
        self.follow.toggled.connect(self._follow_toggled)
        for button in (self.prev_button, self.next_button, self.follow):
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # the keys stay on the view's shortcuts
        header.addWidget(self.title, 1)
        header.addWidget(self.prev_button)
        header.addWidget(self.next_button)
        header.addWidget(self.follow)
        left.addLayout(header)
        self.rule = QtWidgets.QLabel(self)
        self.rule.setObjectName("update_rule")
        self.rule.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.rule.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule.setToolTip("The update rule, from the registry")
        left.addWidget(self.rule)
        self.note = QtWidgets.QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {MUTED}; font-style: italic;")
        left.addWidget(self.note)
        self.message = QtWidgets.QLabel(self)
        self.message.setWordWrap(True)
        self.message.setProperty("role", "muted")
        left.addWidget(self.message)
        left.addStretch(1)
        layout.addLayout(left, 2)
        self.table = QtWidgets.QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["quantity (torch's name)", "x", "y"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header_view.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Every number of this step, after it was taken; state entries by torch's names")
        for bar in (self.table.horizontalScrollBar(), self.table.verticalScrollBar()):
            bar.setToolTip("Scroll the numbers of this step")
        layout.addWidget(self.table, 3)

        records.delivered.connect(self._deliver)
        model.selectionChanged.connect(self._wants)
        model.optimizersReset.connect(self._wants)
        model.sceneReplaced.connect(self._wants)
        self._shown_records: dict[int, Any] = {}

    # ---- asking -----------------------------------------------------------------------------------------
    active = False  # its tab is in front (a tab behind another still counts as visible to Qt)

    def set_active(self, on: bool) -> None:
        """Ask for records only while the tab is in front (its dock's `visibilityChanged`): a tab behind the
        charts must not re-step the library at every tick of the animation."""
        self.active = bool(on)
        self._wants()

    def _wants(self, *_args: object) -> None:
        k = self.model.selected
        visible = self.active and 0 <= k < len(self.model.optimizers)
        self.records.want("inspector", [k] if visible else [])
        self._header(None)
        if self.model.scene.is_learned:
            self.message.setText("The step inspector reads the library's steps on analytic surfaces.")

    def _move(self, delta: int) -> None:
        self.model.set_cursor(math.floor(self.model.cursor) + delta)

    # ---- showing ----------------------------------------------------------------------------------------
    def _header(self, step: int | None) -> None:
        from optviz.core.optimizers import get_optimizer

        model = self.model
        k = model.selected
        if not 0 <= k < len(model.optimizers):
            self.title.setText("Select an optimizer to inspect its steps")
            self.rule.setText("")
            self.note.setText("")
            return
        spec = get_optimizer(model.optimizers[k].name)
        where = f" · step {step:,} of {model.steps:,} (from the head at step {step - 1:,})" if step else ""
        self.title.setText(
            f"<span style='color:{model.color(k)}; font-size:13pt'>●</span> "
            f"<b>{html.escape(model.display_name(k))}</b>{where}"
        )
        self.rule.setText(spec.update_rule.replace(";  ", ";\n"))  # one line per statement, as the race panel
        self.note.setText(spec.step_note)
        self.note.setVisible(bool(spec.step_note))

    def _deliver(self, n: int, records: dict[int, Any]) -> None:
        from optviz.core.optimizers import get_optimizer

        model = self.model
        k = model.selected
        record = records.get(k)
        if record is None or not self.active:
            return
        self.step = n
        self._header(n)
        if isinstance(record, str):
            self.message.setText(record)
            self.rows = []
            self._fill()
            return
        self.message.setText("")
        spec = get_optimizer(model.optimizers[k].name)
        hp = model.hyperparams(k)
        surface = model.surface
        rows = [("position before", *format_cells(record.before))]
        rows.append(("gradient g (given)", *format_cells(record.gradient)))
        if record.lr is not None:
            rows.append(("lr (scheduled)", *format_cells(record.lr)))
        for name, value in record.derived(spec, hp).items():
            rows.append((DERIVED_LABELS.get(name, name), *format_cells(value)))
        for name, value in record.state.items():
            rows.append((f"state['{name}']", *format_cells(value)))
        rows.append(("update (after − before)", *format_cells(record.update)))
        rows.append(("position after", *format_cells(record.after)))
        losses = surface.value_np(np.stack([record.before, record.after]))
        rows.append(("loss before → after", format_number(float(losses[0])), format_number(float(losses[1]))))
        self.rows = rows
        self._fill()
        if self.follow.isChecked():
            self.scene_view.look_at(*record.before)

    def _fill(self) -> None:
        self.table.setRowCount(len(self.rows))
        for r, cells in enumerate(self.rows):
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                if c:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.scene_view.zoom(FOLLOW_ZOOM)
            self.records.request_soon()
