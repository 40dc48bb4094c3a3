"""The animation clock and its tool bar: play, pause, single step, restart, speed, total steps, step counter.

Animation only moves the model's time cursor, an index into the precomputed arrays: nothing is recomputed
while playing. The clock advances by elapsed wall time x speed, so a slow frame makes a bigger step rather
than slowing the race down, and fractional steps slide the heads smoothly at low speeds.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import signals_blocked

from optviz.app.model import SceneModel
from optviz.app.widgets.icons import icon
from optviz.core.scene import MAX_STEPS

MIN_SPEED, MAX_SPEED = 1.0, 1000.0
DEFAULT_SPEED = 200.0
FRAME_MS = 16  # ~60 frames/s; the view repaints at most once per frame whatever the speed


class Transport(QtCore.QObject):
    """See the module doc."""

    playingChanged = QtCore.Signal(bool)
    speedChanged = QtCore.Signal(float)

    def __init__(self, model: SceneModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._speed = DEFAULT_SPEED
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self._clock = QtCore.QElapsedTimer()

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, steps_per_second: float) -> None:
        speed = min(max(float(steps_per_second), MIN_SPEED), MAX_SPEED)
        if speed != self._speed:
            self._speed = speed
            self.speedChanged.emit(speed)

    def play(self) -> None:
        if self.playing:
            return
        if self.model.cursor >= self.model.steps:
            self.model.set_cursor(0)  # play at the end starts over
        self._clock.start()
        self._timer.start()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self._timer.stop()
        self.playingChanged.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self, n: int = 1) -> None:
        """Pause and move n whole steps (back where n < 0), from the whole step on that side of the cursor."""
        self.pause()
        cursor = self.model.cursor
        whole = math.floor(cursor + 1e-9) if n > 0 else math.ceil(cursor - 1e-9)
        self.model.set_cursor(whole + n)

    def restart(self) -> None:
        self.model.set_cursor(0)
        self._clock.start()
        if not self.playing:
            self.play()

    def advance(self, steps: float) -> None:
        """Move the cursor on by `steps` (the timer's tick; tests drive it directly)."""
        self.model.set_cursor(self.model.cursor + steps)
        if self.model.cursor >= self.model.steps:
            self.pause()

    def _tick(self) -> None:
        seconds = self._clock.restart() / 1000.0
        self.advance(self._speed * min(seconds, 0.25))


class TransportBar(QtWidgets.QWidget):
    """The controls of a `Transport`, with shortcuts (space, right arrow, R) that work anywhere in the window.

    A plain row of widgets rather than a QToolBar: in a narrow window the timeline shrinks instead of the
    last controls disappearing into an overflow menu.
    """

    def __init__(self, transport: Transport, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transport")
        self.transport = transport
        model = transport.model
        self.model = model
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.setSpacing(6)

        self.play_action = QtGui.QAction(icon("play"), "Play", self)
        self.play_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Space))
        self.play_action.setToolTip("Play / pause the race (Space)")
        self.play_action.triggered.connect(transport.toggle)
        self.step_action = QtGui.QAction(icon("step"), "Step", self)
        self.step_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Right))
        self.step_action.setToolTip("One step forward (Right arrow)")
        self.step_action.triggered.connect(lambda: transport.step(1))
        self.back_action = QtGui.QAction("Step back", self)
        self.back_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Left))
        self.back_action.setToolTip("One step back (Left arrow)")
        self.back_action.triggered.connect(lambda: transport.step(-1))
        self.addAction(self.back_action)  # a shortcut and a menu entry; the timeline is the button for it
        self.back_action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        self.restart_action = QtGui.QAction(icon("restart"), "Restart", self)
        self.restart_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_R))
        self.restart_action.setToolTip("Back to step 0 and play (R)")
        self.restart_action.triggered.connect(transport.restart)
        for action in (self.play_action, self.step_action, self.restart_action):
            action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)  # an action must belong to a widget in the window for its shortcut
            button = QtWidgets.QToolButton(self)
            button.setDefaultAction(action)
            button.setIconSize(QtCore.QSize(18, 18))
            button.setAutoRaise(True)
            row.addWidget(button)

        self.timeline = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, self)
        self.timeline.setObjectName("timeline")
        self.timeline.setToolTip("Scrub through the race: drag to any step")
        self.timeline.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keep arrow keys for the Step shortcut
        self.timeline.setMinimumWidth(60)
        self.timeline.valueChanged.connect(self._scrubbed)
        row.addWidget(self.timeline, 1)

        self.counter = QtWidgets.QLabel(self)
        self.counter.setObjectName("step_counter")
        self.counter.setToolTip("Current step / total steps")
        self.counter.setMinimumWidth(96)
        self.counter.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        row.addWidget(self.counter)
        row.addSpacing(8)

        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, self)
        self.speed.setObjectName("speed")
        self.speed.setRange(0, 300)  # log scale: 1 to 1,000 steps/s over three decades
        self.speed.setFixedWidth(90)
        self.speed.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip("Playback speed, 1 to 1,000 steps per second (log scale)")
        self.speed.valueChanged.connect(lambda v: transport.set_speed(10 ** (v / 100)))
        self.speed_value = QtWidgets.QLabel(self)
        self.speed_value.setMinimumWidth(self.speed_value.fontMetrics().horizontalAdvance("1000 steps/s") + 4)
        self.speed_value.setToolTip("Playback speed in optimizer steps per second")
        row.addWidget(self.speed)
        row.addWidget(self.speed_value)

        self.total = QtWidgets.QSpinBox(self)
        self.total.setSuffix(" steps")
        self.total.setObjectName("total_steps")
        self.total.setRange(1, MAX_STEPS)
        self.total.setSingleStep(100)
        self.total.setKeyboardTracking(False)  # re-race when the typing is done, not per digit
        self.total.setToolTip("Total steps each optimizer takes (re-races)")
        self.total.valueChanged.connect(model.set_steps)
        row.addWidget(self.total)

        self._row = row
        transport.playingChanged.connect(self._show_playing)
        transport.speedChanged.connect(self._show_speed)
        model.cursorChanged.connect(self._show_cursor)
        model.raceSettingsChanged.connect(self._show_steps)
        model.sceneReplaced.connect(self._show_steps)
        self._show_playing(transport.playing)
        self._show_speed(transport.speed)
        self._show_steps()

    def _scrubbed(self, value: int) -> None:
        self.transport.pause()
        self.model.set_cursor(value)

    def add_menu_button(self, text: str, menu: QtWidgets.QMenu, tip: str) -> QtWidgets.QToolButton:
        """A button at the row's end that opens `menu` (the view's options, e.g. the state glyphs)."""
        button = QtWidgets.QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setMenu(menu)
        button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self._row.addWidget(button)
        return button

    def _show_playing(self, playing: bool) -> None:
        self.play_action.setIcon(icon("pause" if playing else "play"))
        self.play_action.setText("Pause" if playing else "Play")

    def _show_speed(self, speed: float) -> None:
        with signals_blocked(self.speed):
            self.speed.setValue(round(100 * math.log10(speed)))
        self.speed_value.setText(f"{speed:.0f} steps/s")

    def _show_steps(self) -> None:
        with signals_blocked(self.total, self.timeline):
            self.total.setValue(self.model.steps)
            self.timeline.setRange(0, self.model.steps)
        self._show_cursor(self.model.cursor)

    def _show_cursor(self, cursor: float) -> None:
        step = math.floor(cursor + 1e-9)
        with signals_blocked(self.timeline):
            self.timeline.setValue(step)
        self.counter.setText(f"{step:,} / {self.model.steps:,}")
