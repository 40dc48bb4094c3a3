"""The 3-D view in the window's centre: the render layer's `SceneView`, fed from the model, plus picking.

- The surface is rebuilt only when its shape changes (kind or a shape parameter; the noise level changes
  gradients, not the picture), coalesced so a dragged surface slider redraws at most once per frame.
- A new result re-uploads only the trails of the optimizers it names (`resultChanged(changed)`).
- A click on the surface (press and release within a few pixels, no modifier) sets the start point of every
  optimizer; Shift + drag moves it continuously while the paths re-simulate. Plain drags still orbit.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import qdebounced

from optviz.app.learned.learned_warning import PlaneWarning
from optviz.app.model import SceneModel
from optviz.app.view.basins_layer import BasinsLayer
from optviz.app.view.computing_overlay import ComputingOverlay
from optviz.app.view.glyph_layer import GlyphLayer
from optviz.app.view.legend import Legend, weight_inside
from optviz.app.view.step_records import StepRecords
from optviz.render import SceneView
from optviz.render.scene_setup import SURFACE_RESOLUTION, apply_camera, apply_race, apply_surface, apply_view_options

HINT_3D = "drag: orbit · ctrl+drag: pan · wheel: zoom · click: set start · shift+drag: move start"
HINT_2D = "drag: pan · wheel: zoom · click: set start · shift+drag: move start"
CLICK_SLOP_PX = 4  # a press and release closer than this is a click, not an orbit


class ViewPanel(QtWidgets.QWidget):
    """See the module doc. `scene_view` is the render layer's object; `gl` its widget."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scene_view = SceneView(self)
        self.gl = self.scene_view.widget
        self.gl.setObjectName("scene_gl")
        self.gl.setMinimumSize(320, 240)
        self.gl.setToolTip("")  # a tooltip would pop over the scene; the help is in the View menu and the README
        layout.addWidget(self.gl)
        self.legend = Legend(model, self.gl, self.scene_view)
        self.legend.placed.connect(self._place_hint)
        self.hint = QtWidgets.QLabel(HINT_3D, self.gl)
        self.hint.setObjectName("view_hint")
        self.hint.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hint.setStyleSheet("QLabel#view_hint { color: rgba(216,221,230,110); background: transparent; }")
        self.hint.adjustSize()
        self.plane_warning = PlaneWarning(model, self.gl)  # learned surfaces: says when the plane misleads
        self.basins = BasinsLayer(model, self.scene_view, self.gl)  # View > Basins of attraction
        self.computing = ComputingOverlay(model, self.gl)  # no result yet: what is being computed, and Cancel
        self.step_records = StepRecords(model, self)  # per-step state for the glyphs and the step inspector
        self.glyph_layer = GlyphLayer(model, self.scene_view, self.step_records, self.gl)  # View > State glyphs
        self.gl.installEventFilter(self)
        self._press: QtCore.QPointF | None = None
        self._dragging_start = False
        self._surface_key: tuple | None = None
        # 0 ms: a burst of surface changes (a dragged slider) costs one rebuild, on the next event-loop turn.
        self._rebuild_surface_soon = qdebounced(self._rebuild_surface, 0)
        self.picks = 0  # clicks that landed on the surface (tests read it)
        self._shown: set[int] = set()  # trail indices the view shows (disabled optimizers' are hidden)

        model.sceneReplaced.connect(self._scene_replaced)
        model.surfaceChanged.connect(self._rebuild_surface_soon)
        model.learnedSurfaceChanged.connect(self._rebuild_surface)
        model.viewOptionsChanged.connect(self._view_options)
        model.resultChanged.connect(self._result)
        model.optimizerStyleChanged.connect(self._style)
        model.optimizersReset.connect(self._structure)
        model.cursorChanged.connect(self.scene_view.set_cursor)
        self._scene_replaced()

    # ---- model -> view ------------------------------------------------------------------------------------
    def _scene_replaced(self) -> None:
        self._surface_key = None
        self.scene_view.set_trails([])
        self._shown = set()
        self._rebuild_surface()
        apply_camera(self.scene_view, self.model.scene)
        self.scene_view.set_cursor(self.model.cursor)

    def _rebuild_surface(self) -> None:
        surface = self.model.surface
        shape = tuple(sorted((k, v) for k, v in surface.params.items() if k != "noise"))
        # A learned surface is a new object per fitted plane: its identity is its shape.
        key = (self.model.scene.surface, shape, id(surface) if self.model.scene.is_learned else None)
        if key == self._surface_key:
            return
        kind_changed = self._surface_key is None or self._surface_key[0] != key[0]
        domain_changed = self.scene_view.field is not None and self.scene_view.field.domain != surface.domain
        if kind_changed or domain_changed:
            self.scene_view.set_trails([])
            self._shown = set()  # old trails belong to another domain: gone until the new race lands
        self._surface_key = key
        # The flat stand-in of a learned surface still computing is not drawn (its axes would read 1e-11): the
        # view shows the progress box over an empty stage instead.
        pending = getattr(surface, "pending", False)
        for item in (self.scene_view.surface_item, self.scene_view.axes, *self.scene_view.axes.childItems()):
            item.setVisible(not pending)  # the axes' labels are drawn by the static layer, not through their parent
        apply_surface(self.scene_view, self.model.scene, surface, SURFACE_RESOLUTION)
        if kind_changed and not self.model.scene.view.top_down:
            self.scene_view.reset_camera()

    def _view_options(self) -> None:
        self._rebuild_surface_soon.flush()  # a pending rebuild first: the options apply to the new surface
        apply_view_options(self.scene_view, self.model.scene, self.model.surface)
        self._place_overlays()

    def _result(self, changed: frozenset[int] | None) -> None:
        self._rebuild_surface_soon.flush()  # a pending rebuild first: it may drop trails of another domain
        result = self.model.result
        if result is None:
            self.scene_view.set_trails([])
            self._shown = set()
            return
        k_count, m_count = result.positions.shape[:2]
        if changed is None or self.scene_view.trail_count != k_count * m_count:
            self._set_race(result)
            return
        # One optimizer's runs changed (a slider): upload those paths in place; visibility and cursor stay.
        for k in sorted(changed):
            for m in range(m_count):
                stopped = int(result.stopped_at[k, m])
                status = (str(result.status[k, m]), stopped if stopped >= 0 else None)
                self.scene_view.update_trail(k * m_count + m, result.positions[k, m], status)

    def _set_race(self, result) -> None:
        apply_race(self.scene_view, result, self.model.colors())
        self._shown = set(range(self.scene_view.trail_count))  # a new set of trails starts all visible
        self._apply_visibility()
        self.scene_view.set_cursor(self.model.cursor)

    def _style(self, _k: int) -> None:
        result = self.model.result
        if result is None or self.scene_view.trail_count == 0:
            return
        m_count = result.positions.shape[1]
        colors = [c for c in self.model.colors() for _ in range(m_count)]
        if len(colors) == self.scene_view.trail_count:
            self.scene_view.set_trail_colors(colors)
        self._apply_visibility()

    def _structure(self) -> None:
        # A removal already dropped the run from the result: redraw now rather than after the next race.
        result = self.model.result
        if result is not None and len(result.configs) == len(self.model.optimizers):
            self._set_race(result)

    def _apply_visibility(self) -> None:
        result = self.model.result
        if result is None:
            return
        m_count = result.positions.shape[1]
        for k in range(len(self.model.optimizers)):
            visible = self.model.shown(k)
            for m in range(m_count):
                i = k * m_count + m
                if i < self.scene_view.trail_count and (i in self._shown) != visible:
                    self.scene_view.set_trail_visible(i, visible)
                    self._shown.symmetric_difference_update({i})

    # ---- picking -----------------------------------------------------------------------------------------
    def pick(self, pos: QtCore.QPointF) -> tuple[float, float] | None:
        return self.scene_view.pick(pos.x(), pos.y())

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if obj is not self.gl:
            return False
        kind = event.type()
        if kind == QtCore.QEvent.Type.Resize:
            self._place_overlays()
            return False
        if kind not in (
            QtCore.QEvent.Type.MouseButtonPress,
            QtCore.QEvent.Type.MouseMove,
            QtCore.QEvent.Type.MouseButtonRelease,
        ):
            return False
        event: QtGui.QMouseEvent
        shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if kind == QtCore.QEvent.Type.MouseButtonPress and event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._press = event.position()
            if shift:
                self._dragging_start = True
                self._set_start_at(event.position())
                return True  # no orbit while moving the start
            return False
        if kind == QtCore.QEvent.Type.MouseMove and self._dragging_start:
            self._set_start_at(event.position())
            return True
        left_drag = kind == QtCore.QEvent.Type.MouseMove and event.buttons() == QtCore.Qt.MouseButton.LeftButton
        if left_drag and self.model.scene.view.top_down and not shift:
            # A map seen from above pans under a drag (an orbit would turn it upside down): the view's own pan,
            # which it gives a Ctrl+drag.
            pan = QtGui.QMouseEvent(
                event.type(),
                event.position(),
                event.globalPosition(),
                event.button(),
                event.buttons(),
                event.modifiers() | QtCore.Qt.KeyboardModifier.ControlModifier,
            )
            self.gl.mouseMoveEvent(pan)
            return True
        if kind == QtCore.QEvent.Type.MouseButtonRelease and event.button() == QtCore.Qt.MouseButton.LeftButton:
            press, self._press = self._press, None
            if self._dragging_start:
                self._dragging_start = False
                return True
            if press is not None:
                delta = event.position() - press
                if abs(delta.x()) + abs(delta.y()) <= CLICK_SLOP_PX and not event.modifiers():
                    self._set_start_at(event.position())
        return False

    def _set_start_at(self, pos: QtCore.QPointF) -> None:
        xy = self.pick(pos)
        if xy is not None and np.isfinite(xy).all():
            self.picks += 1
            self.model.set_start(*xy)

    def _place_overlays(self) -> None:
        self._place_hint()
        self.plane_warning.place()
        self.basins.place()
        self.glyph_layer.place()
        self.computing.place()

    def _place_hint(self) -> None:
        """Bottom right, and only where it covers nothing of the picture (in 2-D the map and its x title fill the
        view: the mouse hint would sit on top of them; it is in Help > Getting started as well)."""
        self.hint.setText(HINT_2D if self.model.scene.view.top_down else HINT_3D)
        self.hint.adjustSize()
        self.hint.move(self.gl.width() - self.hint.width() - 12, self.gl.height() - self.hint.height() - 8)
        pixels, weights = self.scene_view.occupied_pixels((self.gl.width(), self.gl.height()))
        self.hint.setVisible(weight_inside(pixels, weights, self.hint.geometry().adjusted(-4, -4, 4, 4)) == 0.0)

    # ---- camera ------------------------------------------------------------------------------------------
    def reset_camera(self) -> None:
        if self.model.scene.view.top_down:
            self.model.set_top_down(False)
        self.scene_view.reset_camera()
        self.legend.place_soon()

    def store_camera(self) -> None:
        """Copy the camera into the scene (before saving)."""
        state = self.scene_view.camera_state()
        self.model.set_camera(state["distance"], state["elevation"], state["azimuth"])
