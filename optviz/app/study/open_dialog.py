"""Open study…: a storage (a journal file chosen in a file dialog, or a URL typed in) and one of the optviz
studies it holds, listed by name. A storage that cannot be opened is one line in the dialog. The list is read on
a worker thread: a database far away (or one that does not answer) never freezes the window."""

from __future__ import annotations

from PySide6 import QtWidgets

from optviz.app.widgets.background import BackgroundJob
from optviz.app.widgets.theme import ERROR, MUTED
from optviz.core.errors import OptvizError
from optviz.core.study.storage import data_dir


def list_studies(url: str) -> list[str]:
    """The optviz studies in the storage at `url`; `OptvizError` (one line) when it cannot be opened."""
    from optviz.core.study.storage import open_storage
    from optviz.core.study.worker import study_names

    if not url.strip():
        raise OptvizError("give a journal file or a storage URL")
    return study_names(open_storage(url.strip()))


class OpenStudyDialog(QtWidgets.QDialog):
    def __init__(self, parent: QtWidgets.QWidget | None = None, storage: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open study")
        self.setMinimumWidth(520)
        self.storage = QtWidgets.QLineEdit(storage, self)
        self.storage.setPlaceholderText(
            "a journal file, or postgresql://user@host/db, sqlite:///FILE, grpc://HOST:PORT"
        )
        self.storage.setToolTip("The storage the study lives in (press Enter or List to see its studies)")
        browse = QtWidgets.QPushButton("Browse…", self)
        browse.setToolTip("Choose a journal file")
        self.list_button = QtWidgets.QPushButton("List", self)
        self.list_button.setToolTip("List the optviz studies in this storage")
        self.names = QtWidgets.QListWidget(self)
        self.names.setToolTip("The studies in the storage; double-click to open one")
        self.message = QtWidgets.QLabel(self)
        self.message.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Open | QtWidgets.QDialogButtonBox.StandardButton.Cancel, self
        )
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.storage, 1)
        row.addWidget(browse)
        row.addWidget(self.list_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Storage", self))
        layout.addLayout(row)
        layout.addWidget(QtWidgets.QLabel("Study", self))
        layout.addWidget(self.names, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        browse.clicked.connect(self._browse)
        self.list_button.clicked.connect(self.refresh)
        self.storage.returnPressed.connect(self.refresh)
        self.names.itemDoubleClicked.connect(lambda _item: self.accept())
        self.names.currentRowChanged.connect(self._update_buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(lambda _result: self.job.cancel())
        self.job = BackgroundJob(self)
        self.job.succeeded.connect(self._listed)
        self.job.failed.connect(lambda text: self._say(text, error=True))
        self.job.runningChanged.connect(self._update_buttons)
        self._update_buttons()
        if storage:
            self.refresh()

    def refresh(self) -> None:
        """List the studies of the storage typed in (a newer List replaces one still reading)."""
        self.names.clear()
        url = self.storage.text()
        self._say(f"reading {url.strip() or 'the storage'}…")
        self.job.start(lambda _progress, _cancelled: list_studies(url))

    def wait(self, timeout: float = 60.0) -> bool:
        """Process events until the list is read (tests)."""
        return self.job.wait(timeout)

    def _listed(self, names: list[str]) -> None:
        self.names.addItems(names)
        if names:
            self.names.setCurrentRow(0)
            self._say(f"{len(names)} stud{'ies' if len(names) > 1 else 'y'} in this storage")
        else:
            self._say("this storage holds no optviz study", error=True)
        self._update_buttons()

    def choice(self) -> tuple[str, str]:
        """(storage, study name) chosen."""
        item = self.names.currentItem()
        return self.storage.text().strip(), item.text() if item is not None else ""

    def _browse(self) -> None:
        start = self.storage.text() or str(data_dir() / "studies")
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Study journal file", start, "Optuna journal (*.journal *.log);;All files (*)"
        )
        if path:
            self.storage.setText(path)
            self.refresh()

    def _update_buttons(self, *_args: object) -> None:
        reading = self.job.running
        self.list_button.setEnabled(not reading)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Open).setEnabled(
            not reading and self.names.currentItem() is not None
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR if error else MUTED}")
