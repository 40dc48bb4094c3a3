"""Controls generated from a parameter `Schema`: one row per `Param`.

Numbers get a slider (log or linear, as the schema says, through `Param.to_unit` / `from_unit`) beside a box
that shows the value and accepts a typed one; booleans a check box; choices a combo box. Each row has a
reset button, enabled while the value differs from its default. `ParamForm.set_values` is how the model
updates the form: signals are blocked there, so showing a value never writes it back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from PySide6 import QtCore, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.widgets.icons import icon
from optviz.core.errors import OptvizError
from optviz.core.params import Param, Value

#: Slider resolution: fine enough that a log slider over 9 decades moves by 0.2 % per tick.
TICKS = 10_000
#: A log slider's handle drag, wheel notch and arrow key change the value by this factor (Shift: COARSE_RATIO):
#: absolute dragging maps nine decades onto ~100 px, x1.2 per pixel, too coarse to set a learning rate.
FINE_RATIO, COARSE_RATIO = 1.01, 1.1


class LogSlider(QtWidgets.QSlider):
    """A horizontal slider over a log scale whose handle drags relatively: each pixel multiplies the value by
    `FINE_RATIO` (Shift: `COARSE_RATIO`), wherever the handle is; the wheel and the arrow keys step by the same
    factors. A click on the groove steps coarsely towards the click, as a QSlider does (Page Up and Down too).
    Linear sliders (betas, momentum) keep absolute dragging: their whole range over ~100 px is fine enough."""

    def __init__(self, decades: float, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(QtCore.Qt.Orientation.Horizontal, parent)
        self.setRange(0, TICKS)
        self.ticks_per_decade = TICKS / decades
        self.setSingleStep(max(1, round(self.ticks_for(FINE_RATIO))))
        self.setPageStep(max(1, round(self.ticks_for(COARSE_RATIO))))
        self._drag: tuple[float, int] | None = None  # (press x, value at press)

    def ticks_for(self, ratio: float) -> float:
        """Slider ticks that multiply the value by `ratio`."""
        return math.log10(ratio) * self.ticks_per_decade

    def _step(self, modifiers: QtCore.Qt.KeyboardModifier) -> float:
        coarse = modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier
        return self.ticks_for(COARSE_RATIO if coarse else FINE_RATIO)

    def _on_handle(self, pos: QtCore.QPoint) -> bool:
        option = QtWidgets.QStyleOptionSlider()
        self.initStyleOption(option)
        control = self.style().hitTestComplexControl(QtWidgets.QStyle.ComplexControl.CC_Slider, option, pos, self)
        return control == QtWidgets.QStyle.SubControl.SC_SliderHandle

    def mousePressEvent(self, event) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._on_handle(event.position().toPoint()):
            self._drag = (event.position().x(), self.value())
            self.setSliderDown(True)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        x0, v0 = self._drag
        self.setValue(round(v0 + (event.position().x() - x0) * self._step(event.modifiers())))
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        self._drag = None
        self.setSliderDown(False)
        event.accept()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta()
        notches = (delta.y() or delta.x()) / 120  # Shift turns the wheel horizontal on some platforms
        if notches:
            self.setValue(round(self.value() + notches * self._step(event.modifiers())))
        event.accept()

    def keyPressEvent(self, event) -> None:
        keys = {
            QtCore.Qt.Key.Key_Left: -1,
            QtCore.Qt.Key.Key_Down: -1,
            QtCore.Qt.Key.Key_Right: 1,
            QtCore.Qt.Key.Key_Up: 1,
        }
        sign = keys.get(QtCore.Qt.Key(event.key()))
        if sign is None:
            super().keyPressEvent(event)
            return
        self.setValue(round(self.value() + sign * max(1.0, self._step(event.modifiers()))))
        event.accept()


def format_param(param: Param, value: Value) -> str:
    if param.kind == "bool":
        return "true" if value else "false"
    if param.kind == "int":
        return str(int(value))
    if param.kind == "float":
        v = float(value)
        if v == 0:
            return "0"
        if param.scale == "log" or abs(v) < 1e-3 or abs(v) >= 1e5:
            # 4 significant digits: what `tidy` keeps, so the box shows the value itself (1e-8, not 1e-08)
            return f"{v:.4g}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")
        return f"{v:.5g}"
    return str(value)


def tidy(param: Param, value: float) -> Value:
    """A slider position's value rounded to 4 significant digits (scene files read `lr = 0.002512`)."""
    if param.kind == "int":
        return int(value)
    if value == 0:
        return 0.0
    digits = 4 - math.floor(math.log10(abs(value))) - 1
    tidy_value = round(value, digits)
    low, high = param.slider_bounds  # an exclusive end is never offered
    return float(min(max(tidy_value, low), high))


def tooltip(param: Param) -> str:
    text = f"<b>{param.name}</b>: {param.help}" if param.help else f"<b>{param.name}</b>"
    extra = param.describe_range()
    if param.kind in ("float", "int"):
        extra += "; type a value in the box, or drag"
    return f"{text}<br><span style='color:#8a93a3'>{extra}; default {format_param(param, param.default)}</span>"


class _Row(QtCore.QObject):
    """The widgets of one parameter, in one row of the form's grid."""

    edited = QtCore.Signal(str, object)
    error = QtCore.Signal(str)
    cleared = QtCore.Signal()  # a typed value was taken: any message about this row is out of date

    def __init__(
        self, param: Param, grid: QtWidgets.QGridLayout, row: int, parent: QtWidgets.QWidget, slider_width: int = 0
    ) -> None:
        super().__init__(parent)
        self.param = param
        tip = tooltip(param)
        self.label = QtWidgets.QLabel(param.name, parent)
        self.label.setToolTip(tip)
        grid.addWidget(self.label, row, 0)
        self.slider: QtWidgets.QSlider | None = None
        self.edit: QtWidgets.QLineEdit | None = None
        self.check: QtWidgets.QCheckBox | None = None
        self.combo: QtWidgets.QComboBox | None = None
        if param.kind in ("float", "int"):
            if param.scale == "log":
                low, high = param.slider_bounds
                self.slider = LogSlider(math.log10(high / low), parent)
            else:
                self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, parent)
                self.slider.setRange(0, TICKS)
                self.slider.setSingleStep(TICKS // 200)
                self.slider.setPageStep(TICKS // 20)
            self.slider.setToolTip(tip)
            self.slider.setObjectName(f"slider_{param.name}")
            self.slider.setMinimumWidth(slider_width)
            self.slider.valueChanged.connect(self._slid)
            grid.addWidget(self.slider, row, 1)
            self.edit = QtWidgets.QLineEdit(parent)
            self.edit.setFixedWidth(72)
            self.edit.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
            self.edit.setToolTip(tip)
            self.edit.setObjectName(f"edit_{param.name}")
            self.edit.editingFinished.connect(self._typed)
            self.edit.installEventFilter(self)  # focus leaving a refused value restores the value in force
            grid.addWidget(self.edit, row, 2)
        elif param.kind == "bool":
            self.check = QtWidgets.QCheckBox(parent)
            self.check.setToolTip(tip)
            self.check.setObjectName(f"check_{param.name}")
            self.check.toggled.connect(lambda on: self.edited.emit(self.param.name, bool(on)))
            grid.addWidget(self.check, row, 1, 1, 2)
        elif param.kind == "choice":
            self.combo = QtWidgets.QComboBox(parent)
            self.combo.addItems(list(param.choices))
            self.combo.setToolTip(tip)
            self.combo.setObjectName(f"combo_{param.name}")
            self.combo.currentTextChanged.connect(lambda text: self.edited.emit(self.param.name, text))
            grid.addWidget(self.combo, row, 1, 1, 2)
        else:  # text
            self.edit = QtWidgets.QLineEdit(parent)
            self.edit.setToolTip(tip)
            self.edit.editingFinished.connect(self._typed)
            grid.addWidget(self.edit, row, 1, 1, 2)
        self.reset = QtWidgets.QToolButton(parent)
        self.reset.setIcon(icon("reset"))
        self.reset.setIconSize(QtCore.QSize(12, 12))
        self.reset.setAutoRaise(True)
        self.reset.setToolTip(f"Reset {param.name} to its default")
        self.reset.setObjectName(f"reset_{param.name}")
        grid.addWidget(self.reset, row, 3)
        self._shown: tuple[Value, bool] | None = None
        self._valid: Value = param.default  # what the box goes back to when focus leaves a refused value

    def widgets(self) -> list[QtWidgets.QWidget]:
        return [w for w in (self.label, self.slider, self.edit, self.check, self.combo, self.reset) if w is not None]

    def show_value(self, value: Value, is_default: bool) -> None:
        self._valid = value
        if self.edit is not None and self.edit.property("invalid") and not self.edit.hasFocus():
            self._shown = None  # a refused value left behind: the model's value replaces it
        if (value, is_default) == self._shown:
            return  # unchanged: no widget updates, so nothing repaints (a whole-window compose on software GL)
        self._shown = (value, is_default)
        with signals_blocked(*self.widgets()):
            if self.slider is not None:
                self.slider.setValue(round(self.param.to_unit(float(value)) * TICKS))
            if self.edit is not None:
                self.edit.setText(format_param(self.param, value))
                self._set_invalid(False)
            if self.check is not None:
                self.check.setChecked(bool(value))
            if self.combo is not None:
                self.combo.setCurrentText(str(value))
            self.reset.setEnabled(not is_default)

    def _slid(self, position: int) -> None:
        value = tidy(self.param, self.param.from_unit(position / TICKS))
        self._shown = None  # the slider shows a value the model has not confirmed yet
        self._valid = value
        self.cleared.emit()
        if self.edit is not None:
            self._set_invalid(False)
        if self.edit is not None:
            with signals_blocked(self.edit):
                self.edit.setText(format_param(self.param, value))
        self.edited.emit(self.param.name, value)

    def _typed(self) -> None:
        text = self.edit.text()
        try:
            value = self.param.parse(text)
        except OptvizError as exc:
            self.error.emit(str(exc))
            if self.edit.hasFocus():  # Return: the text stays to be corrected, marked
                self._set_invalid(True, str(exc))
            else:
                self._restore()
            return
        self._set_invalid(False)
        if value == self._valid:  # the value in force (a box restored after a refusal): nothing to change
            return
        self._shown = None
        self._valid = value
        self.cleared.emit()
        self.edited.emit(self.param.name, value)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.FocusOut and watched is self.edit and self.edit.property("invalid"):
            self._restore()
        return False

    def _restore(self) -> None:
        """Focus left a refused value: the box goes back to the value in force (the form still says why)."""
        self._set_invalid(False)
        with signals_blocked(self.edit):
            self.edit.setText(format_param(self.param, self._valid))

    def _set_invalid(self, invalid: bool, message: str = "") -> None:
        edit = self.edit
        if edit.property("invalid") == invalid:
            if invalid:
                edit.setToolTip(message)
            return
        edit.setProperty("invalid", invalid)
        edit.setToolTip(message if invalid else tooltip(self.param))
        edit.style().unpolish(edit)
        edit.style().polish(edit)


class ParamForm(QtWidgets.QWidget):
    """Rows of controls for some parameters of a schema; see the module doc."""

    valueEdited = QtCore.Signal(str, object)  # name, validated value
    resetRequested = QtCore.Signal(str)
    errorRaised = QtCore.Signal(str)

    def __init__(self, params: Iterable[Param], parent: QtWidgets.QWidget | None = None, slider_width: int = 0) -> None:
        """`slider_width`: the least width of each slider, for a form in a narrow column (a squeezed slider
        shrinks to a bare handle that cannot be read or dragged); wider than the column, the form scrolls."""
        super().__init__(parent)
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        self.rows: dict[str, _Row] = {}
        for i, param in enumerate(params):
            row = _Row(param, grid, i, self, slider_width)
            row.edited.connect(self.valueEdited)
            row.error.connect(self.errorRaised)
            row.error.connect(self.show_message)
            row.cleared.connect(lambda: self.show_message(""))
            row.reset.clicked.connect(lambda _=False, name=param.name: self.resetRequested.emit(name))
            self.rows[param.name] = row
        # Why a typed value was refused, under the rows (not only in a tooltip or a passing status line).
        self.message = QtWidgets.QLabel(self)
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.message.setObjectName("form_message")
        self.message.hide()
        grid.addWidget(self.message, len(self.rows), 0, 1, 4)

    def show_message(self, text: str) -> None:
        """Show (or, with "", hide) the line that says why a typed value was refused."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_values(self, values: Mapping[str, Value], defaults: Mapping[str, Value]) -> None:
        for name, row in self.rows.items():
            if name in values:
                row.show_value(values[name], values[name] == defaults.get(name))

    def slider(self, name: str) -> QtWidgets.QSlider:
        slider = self.rows[name].slider
        if slider is None:
            raise KeyError(f"{name} has no slider")
        return slider
