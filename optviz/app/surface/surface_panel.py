"""The surface panel: which surface (with previews), its parameters, noise and seed, how it is drawn, and the
custom formula box.

The formula is parsed on every keystroke (the parser is cheap): a bad one shows the parser's message with a
caret under the offending column right under the box, and only a formula that parses reaches the model.
A surface undefined on part of its domain (`log(x)`) says how much of the grid the view draws as holes, and a
start that sits in one says so too.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import qdebounced, signals_blocked

from optviz.app.model import SceneModel
from optviz.app.surface.pathology import PathologyBox
from optviz.app.surface.previews import colormap_swatch, surface_preview
from optviz.app.widgets.param_controls import ParamForm
from optviz.core.errors import FormulaError
from optviz.core.scene import COLORMAPS, LEARNED
from optviz.core.surfaces import SURFACES, get_kind, parse_formula
from optviz.core.surfaces.defined import defined_at, undefined_fraction, undefined_start_message
from optviz.render.scene_setup import SURFACE_RESOLUTION

#: Parameters with their own widgets (the formula box) rather than a generated row.
_OWN_WIDGETS = {"formula"}
#: Typing pauses this long before a valid formula redraws the surface and re-races.
FORMULA_DELAY_MS = 250


class SurfacePanel(QtWidgets.QWidget):
    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)

        self.combo = QtWidgets.QComboBox(self)
        self.combo.setIconSize(QtCore.QSize(28, 28))
        self.combo.setToolTip("The loss surface the optimizers race on")
        for kind in SURFACES.values():
            self.combo.addItem(QtGui.QIcon(surface_preview(kind.name, 48)), kind.title, kind.name)
            self.combo.setItemData(
                self.combo.count() - 1,
                f"<b>{html.escape(kind.title)}</b><br>{html.escape(kind.description)}<br>"
                f"<span style='font-family:monospace'>{html.escape(kind.formula)}</span>",
                QtCore.Qt.ItemDataRole.ToolTipRole,
            )
        # A learned surface: a real network's loss over a plane in its weight space (see learned_panel).
        self.combo.addItem("Learned surface (real network)", LEARNED)
        self.combo.setItemData(
            self.combo.count() - 1,
            "<b>Learned surface</b><br>Train a small network with every optimizer from one start, draw the loss "
            "over one shared plane in weight space, and the real paths projected onto it",
            QtCore.Qt.ItemDataRole.ToolTipRole,
        )
        self.learned_panel = None  # made on first use: it loads the model zoo (torch)
        self._last_recipe = None
        self.combo.currentIndexChanged.connect(self._kind_picked)
        layout.addWidget(self.combo)

        about = QtWidgets.QHBoxLayout()
        self.preview = QtWidgets.QLabel(self)
        self.preview.setFixedSize(72, 72)
        self.preview.setToolTip("The surface from above, coloured by height (log scale where the view uses it)")
        self.description = QtWidgets.QLabel(self)
        self.description.setWordWrap(True)
        self.description.setProperty("role", "muted")
        self.description.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        about.addWidget(self.preview)
        about.addWidget(self.description, 1)
        layout.addLayout(about)

        self.formula_box = QtWidgets.QWidget(self)
        formula_layout = QtWidgets.QVBoxLayout(self.formula_box)
        formula_layout.setContentsMargins(0, 0, 0, 0)
        formula_layout.setSpacing(2)
        self.formula = QtWidgets.QLineEdit(self.formula_box)
        self.formula.setObjectName("formula")
        self.formula.setPlaceholderText("f(x, y), e.g. sin(x)*cos(y) + 0.1*(x^2 + y^2)")
        self.formula.setToolTip(html.escape(get_kind("custom").schema.get("formula").help))
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.formula.setFont(font)
        # A caret under the offending column (same fixed-width font, offset by the box's frame and padding),
        # then the parser's message.
        self.formula_caret = QtWidgets.QLabel(self.formula_box)
        self.formula_caret.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.formula_caret.setProperty("role", "error")
        self.formula_caret.setFont(font)
        self.formula_caret.setContentsMargins(8, 0, 0, 0)
        self.formula_error = QtWidgets.QLabel(self.formula_box)
        self.formula_error.setProperty("role", "error")
        self.formula_error.setWordWrap(True)
        self.formula_error.setToolTip("What the formula parser says about the text above")
        for label in (self.formula_caret, self.formula_error):
            label.hide()
        formula_layout.addWidget(self.formula)
        formula_layout.addWidget(self.formula_caret)
        formula_layout.addWidget(self.formula_error)
        layout.addWidget(self.formula_box)

        # Where f is undefined: the share of the view's grid drawn as holes, and a start in one of them.
        self.undefined = QtWidgets.QLabel(self)
        self.undefined.setProperty("role", "muted")
        self.undefined.setToolTip("Grid points where f is not a finite number (NaN or infinite) are left out")
        self.start_undefined = QtWidgets.QLabel(self)
        self.start_undefined.setProperty("role", "error")
        for label in (self.undefined, self.start_undefined):
            label.setWordWrap(True)
            label.hide()
            layout.addWidget(label)
        self._fraction: tuple[object, float] | None = None  # (surface, its undefined share), computed once
        self._apply_formula_soon = qdebounced(self._apply_formula, FORMULA_DELAY_MS)
        self.formula.textEdited.connect(self._formula_typed)

        self.params_holder = QtWidgets.QVBoxLayout()
        layout.addLayout(self.params_holder)
        self.form: ParamForm | None = None
        self._form_for: str | None = None

        seed_row = QtWidgets.QHBoxLayout()
        seed_label = self.seed_label = QtWidgets.QLabel("noise seed", self)
        self.seed = QtWidgets.QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        tip = "Seed of the gradient noise: every optimizer sees the same noise draws"
        seed_label.setToolTip(tip)
        self.seed.setToolTip(tip)
        self.seed.valueChanged.connect(self.model.set_seed)
        seed_row.addWidget(seed_label)
        seed_row.addStretch(1)
        seed_row.addWidget(self.seed)
        layout.addLayout(seed_row)
        self.pathology = PathologyBox(model, self)
        layout.addWidget(self.pathology)

        display = QtWidgets.QGridLayout()
        display.setHorizontalSpacing(8)
        self.log_scale = QtWidgets.QCheckBox("log scale", self)
        self.log_scale.setToolTip(
            "Draw height and colour on a log scale: shows the floor of high-dynamic-range surfaces "
            "(on by default for Rosenbrock, Beale, Goldstein–Price)"
        )
        self.log_scale.toggled.connect(self.model.set_log_scale)
        self.top_down = QtWidgets.QCheckBox("2-D (from above)", self)
        self.top_down.setToolTip("Look straight down on the surface: a contour map with the same trails (T)")
        self.top_down.toggled.connect(self.model.set_top_down)
        self.colormap = QtWidgets.QComboBox(self)
        self.colormap.setIconSize(QtCore.QSize(48, 10))
        self.colormap.setToolTip("Colormap of the surface (perceptually uniform; turbo is not)")
        for name in COLORMAPS:
            self.colormap.addItem(QtGui.QIcon(colormap_swatch(name)), name, name)
        self.colormap.currentIndexChanged.connect(lambda i: self.model.set_colormap(self.colormap.itemData(i)))
        display.addWidget(self.log_scale, 0, 0)
        display.addWidget(self.top_down, 0, 1)
        display.addWidget(QtWidgets.QLabel("colormap", self), 1, 0)
        display.addWidget(self.colormap, 1, 1)
        layout.addLayout(display)
        layout.addStretch(1)

        model.sceneReplaced.connect(self.refresh)
        model.surfaceChanged.connect(self.refresh)
        model.learnedSurfaceChanged.connect(self.refresh)
        model.viewOptionsChanged.connect(self.refresh)
        model.raceSettingsChanged.connect(self.refresh)
        model.startsChanged.connect(self._show_defined)
        self.refresh()

    # ---- model -> widgets -------------------------------------------------------------------------------
    def refresh(self) -> None:
        scene = self.model.scene
        self._show_learned(scene.is_learned)
        if scene.is_learned:
            self._refresh_learned()
            self._show_defined()
            return
        kind = get_kind(scene.surface)
        if self._form_for != kind.name:
            if self.form is not None:
                self.form.setParent(None)
                self.form.deleteLater()
            self.form = ParamForm([p for p in kind.schema if p.name not in _OWN_WIDGETS], self)
            self.form.valueEdited.connect(self.model.set_surface_param)
            self.form.resetRequested.connect(self._reset_param)
            self.form.errorRaised.connect(self.model.errorRaised)
            self.params_holder.addWidget(self.form)
            self._form_for = kind.name
        values = kind.schema.resolve(scene.surface_params)
        self.form.set_values(values, kind.schema.defaults())
        with signals_blocked(self.seed):
            self.seed.setValue(scene.seed)
        self._show_view_options(kind.name)
        self.description.setText(f"{html.escape(kind.description)}<br><i>{html.escape(kind.formula)}</i>")
        is_custom = "formula" in kind.schema.names
        self.formula_box.setVisible(is_custom)
        if is_custom and not self.formula.hasFocus():
            self.formula.setText(str(values["formula"]))
            self._show_formula_error(None)
        params = tuple(sorted((k, v) for k, v in values.items() if k != "noise"))
        self.preview.setPixmap(surface_preview(kind.name, 72, scene.view.colormap, params))
        self._show_defined()

    def _show_defined(self) -> None:
        """The share of the domain where f is undefined (nothing when f is defined everywhere), and the start
        when it sits where f is undefined (a grid of starts may cross a hole: those runs say so)."""
        scene = self.model.scene
        share, bad_start = 0.0, None
        if not scene.is_learned:
            surface = self.model.surface
            if self._fraction is None or self._fraction[0] is not surface:
                _, _, values = surface.grid(SURFACE_RESOLUTION)  # the grid the view draws
                self._fraction = (surface, undefined_fraction(values))
            share = self._fraction[1]
            if scene.grid is None:
                points = scene.start_points(surface)
                ok = defined_at(surface, points)
                bad_start = None if ok.all() else tuple(points[~ok][0])
        self.undefined.setText(f"f is undefined on {_percent(share)} of the domain (shown as holes)")
        self.undefined.setVisible(share > 0)
        if bad_start is not None:
            self.start_undefined.setText(undefined_start_message(bad_start) + " (click the surface)")
        self.start_undefined.setVisible(bad_start is not None)

    def _show_view_options(self, kind: str) -> None:
        """The surface choice and the view options, as the scene has them."""
        view = self.model.scene.view
        with signals_blocked(self.combo, self.log_scale, self.top_down, self.colormap):
            self.combo.setCurrentIndex(self.combo.findData(kind))
            self.log_scale.setChecked(self.model.log_scale())
            self.top_down.setChecked(view.top_down)
            self.colormap.setCurrentIndex(self.colormap.findData(view.colormap))

    def _show_learned(self, learned: bool) -> None:
        if learned and self.learned_panel is None:
            from optviz.app.learned.learned_panel import LearnedPanel

            self.learned_panel = LearnedPanel(self.model, self)
            layout = self.layout()
            layout.insertWidget(layout.indexOf(self.formula_box) + 1, self.learned_panel)
        if self.learned_panel is not None:
            self.learned_panel.setVisible(learned)
        for widget in (self.preview, self.seed, self.seed_label, self.pathology):
            widget.setVisible(not learned)
        if self.form is not None:
            self.form.setVisible(not learned)
        if learned:
            self.formula_box.setVisible(False)

    def _refresh_learned(self) -> None:
        scene = self.model.scene
        self._last_recipe = scene.learned
        self._show_view_options(LEARNED)
        self.description.setText(
            "The training loss of a real network over a 2-D plane in its weight space; every optimizer trains "
            "from the same start and its real path is projected onto the one shared plane."
        )
        self.learned_panel.refresh()

    # ---- widgets -> model -------------------------------------------------------------------------------
    def _kind_picked(self, index: int) -> None:
        if self.combo.itemData(index) == LEARNED:
            from optviz.core.learn.recipe import LearnedRecipe

            self.model.set_learned(self._last_recipe or LearnedRecipe())
            return
        self.model.set_surface_kind(self.combo.itemData(index))

    def _reset_param(self, name: str) -> None:
        self.model.set_surface_param(name, get_kind(self.model.scene.surface).schema.get(name).default)

    def _formula_typed(self, text: str) -> None:
        try:
            parse_formula(text)
        except FormulaError as exc:
            self._apply_formula_soon.cancel()
            self._show_formula_error(exc)
            return
        self._show_formula_error(None)
        self._apply_formula_soon()

    def _apply_formula(self) -> None:
        self.model.set_surface_param("formula", self.formula.text())

    def _show_formula_error(self, exc: FormulaError | None) -> None:
        invalid = exc is not None
        if invalid:
            message = str(exc).split(" at column")[0]
            self.formula_caret.setText(" " * exc.position + "^")
            self.formula_error.setText(f"{message} (column {exc.position + 1})")
        self.formula_caret.setVisible(invalid)
        self.formula_error.setVisible(invalid)
        if self.formula.property("invalid") != invalid:
            self.formula.setProperty("invalid", invalid)
            self.formula.style().unpolish(self.formula)
            self.formula.style().polish(self.formula)


def _percent(share: float) -> str:
    """A share as a whole percentage that never rounds a few points to 0 % or to all of the domain."""
    pct = 100.0 * share
    if 0.0 < pct < 1.0:
        return "under 1%"
    if 99.0 < pct < 100.0:
        return "over 99%"
    return f"{pct:.0f}%"
