"""Find lr in the Training panel: the range test (`core/learn/lr_find.py`) for one optimizer of the list, on the
panel's current set-up (model, data set, batch size, device, seed) and that optimizer's current settings, on a
worker thread; the loss against the lr in the shared `LrFinderDialog`, whose Apply sets that row's lr slider.

The core builds a fresh model and optimizer as a training run would and restores both afterwards, so the
search leaves nothing behind. The weight decay the set-up imposes on every optimizer applies here too.
"""

from __future__ import annotations

import warnings

from PySide6 import QtCore, QtWidgets

from optviz.app.training.training_optimizers import TrainingOptimizers
from optviz.app.training.training_setup import TrainingSetup
from optviz.app.widgets.background import BackgroundJob
from optviz.app.widgets.lr_finder import LrCurve, LrFinderDialog
from optviz.app.widgets.param_controls import tidy
from optviz.core.learn.config import LR_FIND_MAX, LR_FIND_MIN, LR_FIND_STEPS, OptimizerRun
from optviz.core.optimizers import get_optimizer


class TrainingLrFinder(QtCore.QObject):
    """Owns the job and the window; `find(row)` starts a search (cancelling any older one)."""

    def __init__(self, setup: TrainingSetup, optimizers: TrainingOptimizers, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setup, self.optimizers = setup, optimizers
        self.steps = LR_FIND_STEPS
        self.lr_range = (LR_FIND_MIN, LR_FIND_MAX)
        self.job = BackgroundJob(self)
        self.dialog = LrFinderDialog(parent)
        self.dialog.setWindowTitle("Find lr: range test")
        self.dialog.cancelRequested.connect(self.job.cancel)
        self.job.progressed.connect(self.dialog.report)
        self.job.failed.connect(self.dialog.fail)
        self.job.cancelled.connect(self.dialog.cancelled)
        self.job.succeeded.connect(self._show)
        self._row = -1
        self._setup = None

    def entry(self, row: int) -> OptimizerRun:
        """The row's optimizer as a training run would use it (the set-up's shared weight decay included)."""
        entry = self.optimizers.runs()[row]
        decay = self.setup.config_kwargs()["weight_decay"]
        if decay is not None and "weight_decay" in get_optimizer(entry.name).schema.names:
            entry = OptimizerRun(entry.name, {**entry.hp, "weight_decay": decay}, entry.impl, entry.label)
        return entry

    def find(self, row: int) -> bool:
        if not 0 <= row < len(self.optimizers.entries):
            return False
        from optviz.core.learn.trial import TrialSetup

        kwargs = self.setup.config_kwargs()
        setup = TrialSetup(kwargs["model"], kwargs["dataset"], kwargs["batch_size"], kwargs["device"], kwargs["seed"])
        entry = self.entry(row)
        spec = get_optimizer(entry.name)
        low, high = self.lr_range
        steps = self.steps
        self._row, self._setup = row, setup
        self.dialog.on_apply = lambda lr: self._apply(row, entry.name, lr)
        self.dialog.begin(
            f"Find lr: {spec.title} on {setup.model} / {setup.dataset}",
            f"the lr grows from {low:g} to {high:g} over {steps} steps (batch {setup.batch_size}); "
            "the model and optimizer are put back afterwards",
        )
        self.dialog.show()
        self.dialog.raise_()

        def run(progress, cancelled):
            from optviz.core.learn.lr_find import lr_find

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # library warnings (torchao's compile cache) are not the user's
                return lr_find(setup, entry, low, high, steps, progress, cancelled)

        self.job.start(run)
        return True

    def _show(self, result) -> None:
        setup = self._setup
        stop = result.stop_reason or "ran every step (the smoothed loss never passed 4x its minimum)"
        current = self.optimizers.entries[self._row].hp.get("lr") if self._row < len(self.optimizers.entries) else None
        if current is None:
            spec = get_optimizer(result.optimizer)
            current = spec.resolve({}).get("lr")
        self.dialog.show_curve(
            LrCurve(
                lrs=result.lrs,
                losses=result.smoothed,
                raw=result.losses,
                suggestions=result.suggestions,
                lr_range=(result.min_lr, result.max_lr),
                y_label="training loss (thick: smoothed)",
                note=f"{len(result.lrs)} of {result.steps} steps on {setup.model} / {setup.dataset}; {stop}.",
                current_lr=None if current is None else float(current),
            )
        )

    def _apply(self, row: int, name: str, lr: float) -> str:
        entries = self.optimizers.entries
        if not (0 <= row < len(entries) and entries[row].name == name):
            return "that optimizer is no longer in the list"
        return self.optimizers.set_value(row, "lr", tidy(get_optimizer(name).schema.get("lr"), lr))

    def shutdown(self, ms: int = 30_000) -> None:
        self.job.shutdown(ms)
