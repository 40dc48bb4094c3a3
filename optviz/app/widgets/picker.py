"""A searchable pop-up list of the registry's optimizers (those that can race on a surface).

Typing filters by name, title, family and description; Enter or a double click picks. Each item's tooltip
is the optimizer's description and its update rule, so a person can read what it does before adding it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from PySide6 import QtCore, QtGui, QtWidgets

from optviz.core.optimizers import OptimizerSpec, surface_optimizers


def spec_tooltip(spec: OptimizerSpec) -> str:
    """Rich-text tooltip: title, source, description and update rule (used in the picker and the panel)."""
    rule = html.escape(spec.update_rule).replace(";  ", ";<br>")
    return (
        f"<b>{html.escape(spec.title)}</b> <span style='color:#8a93a3'>· {html.escape(spec.family)} · "
        f"{html.escape(spec.source)}</span><br>{html.escape(spec.description)}"
        f"<p style='font-family:monospace; white-space:pre-wrap'>{rule}</p>"
    )


class OptimizerPicker(QtWidgets.QFrame):
    """See the module doc. Emits `picked(name)`; shown as a pop-up under a button with `popup(at)`."""

    picked = QtCore.Signal(str)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        specs: Iterable[OptimizerSpec] | None = None,
        action: str = "add this optimizer to the race",
    ) -> None:
        """`specs`: the optimizers offered (default: those that race on surfaces; the training panel passes
        those that can train)."""
        super().__init__(parent, QtCore.Qt.WindowType.Popup)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.search = QtWidgets.QLineEdit(self)
        self.search.setPlaceholderText("Search optimizers: name, family, idea…")
        self.search.setToolTip("Filter the optimizers by name, family or description; Enter adds the first match")
        self.search.setClearButtonEnabled(True)
        self.list = QtWidgets.QTreeWidget(self)
        self.list.setColumnCount(2)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setToolTip(f"Double-click (or Enter) to {action}")
        self.list.setMinimumSize(320, 340)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        muted = QtGui.QBrush(QtGui.QColor("#8a93a3"))
        offered = surface_optimizers() if specs is None else list(specs)
        for spec in sorted(offered, key=lambda s: (s.family, s.title.lower())):
            item = QtWidgets.QTreeWidgetItem([spec.title, spec.family])
            item.setForeground(1, muted)
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, spec.name)
            item.setData(
                0,
                QtCore.Qt.ItemDataRole.UserRole + 1,
                " ".join((spec.name, spec.title, spec.family, spec.description)).lower(),
            )
            for column in (0, 1):
                item.setToolTip(column, spec_tooltip(spec))
            self.list.addTopLevelItem(item)
        self.list.resizeColumnToContents(0)
        self.list.setColumnWidth(0, self.list.columnWidth(0) + 16)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda _item, _column: self.accept_current())

    def popup(self, at: QtCore.QPoint) -> None:
        self.search.clear()
        self.move(at)
        self.show()
        self.search.setFocus()

    def _items(self) -> list[QtWidgets.QTreeWidgetItem]:
        return [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())]

    def visible_names(self) -> list[str]:
        return [item.data(0, QtCore.Qt.ItemDataRole.UserRole) for item in self._items() if not item.isHidden()]

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None or item.isHidden() else item.data(0, QtCore.Qt.ItemDataRole.UserRole)

    def _filter(self, text: str) -> None:
        query = text.strip().lower()
        words = query.split()
        best, best_rank = None, 99
        for item in self._items():
            hay = item.data(0, QtCore.Qt.ItemDataRole.UserRole + 1)
            hidden = not all(w in hay for w in words)
            item.setHidden(hidden)
            if hidden:
                continue
            # Enter adds the best match: the name itself, then a name or title starting with the query,
            # then anything that mentions it (a description naming another optimizer ranks last).
            name = item.data(0, QtCore.Qt.ItemDataRole.UserRole)
            title = item.text(0).lower()
            rank = 0 if name == query else 1 if name.startswith(query) or title.startswith(query) else 2
            if query and query not in name and query not in title:
                rank = 3
            if rank < best_rank:
                best, best_rank = item, rank
        if best is not None:
            self.list.setCurrentItem(best)

    def accept_current(self) -> None:
        name = self.current_name()
        if name is None:
            names = self.visible_names()
            if not names:
                return
            name = names[0]
        self.hide()
        self.picked.emit(name)
