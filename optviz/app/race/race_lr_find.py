"""Find lr in the race panel: on an analytic or formula surface the exact answer instead of a range test, the
final loss over an lr sweep from the batched engine (`surface_lr_sweep`: the selected optimizer with its other
settings, from the scene's first start, for the scene's steps), in the shared `LrFinderDialog`. Apply sets the
lr through the model, so the undo history records it as one step.

On a learned surface the loss is a trained network's, and its lr is found on the real model: the window says in
one line to use the Training panel's Find lr.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from optviz.app.model import SceneModel
from optviz.app.widgets.background import BackgroundJob
from optviz.app.widgets.lr_finder import LrCurve, LrFinderDialog
from optviz.app.widgets.param_controls import tidy
from optviz.core.optimizers import get_optimizer
from optviz.core.sweep import default_axis

#: Learning rates in a sweep, and how many decades either side of the current lr it spans (inside the schema).
SWEEP_COUNT, DECADES = 48, 3
LEARNED = "On a learned surface the lr is found on the real model: use Find lr in the Training panel."


def sweep_lrs(name: str, current: float) -> np.ndarray:
    """`SWEEP_COUNT` learning rates, log-spaced over `DECADES` either side of `current`, inside the schema."""
    axis = default_axis(get_optimizer(name).schema, "lr")
    low, high = axis.low, axis.high
    if current > 0:
        low, high = max(low, current / 10**DECADES), min(high, current * 10**DECADES)
    return np.geomspace(low, high, SWEEP_COUNT)


class RaceLrFinder(QtCore.QObject):
    """Owns the job and the window; `find(k)` sweeps optimizer k (cancelling any older sweep)."""

    def __init__(self, model: SceneModel, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.job = BackgroundJob(self)
        self.dialog = LrFinderDialog(parent)
        self.dialog.setWindowTitle("Find lr: lr sweep")
        self.dialog.cancelRequested.connect(self.job.cancel)
        self.job.progressed.connect(self.dialog.report)
        self.job.failed.connect(self.dialog.fail)
        self.job.cancelled.connect(self.dialog.cancelled)
        self.job.succeeded.connect(self._show)
        self._target: tuple[int, str] | None = None

    def find(self, k: int) -> bool:
        model = self.model
        if not 0 <= k < len(model.optimizers):
            return False
        name = model.optimizers[k].name
        spec = get_optimizer(name)
        self.dialog.show()
        self.dialog.raise_()
        refusal = LEARNED if model.scene.is_learned else ""
        if "lr" not in spec.schema.names:
            refusal = f"{spec.title} has no learning rate to sweep."
        if refusal:
            self.job.cancel()
            self.dialog.begin(f"Find lr: {model.display_name(k)}", "")
            self.dialog.fail(refusal)
            return False
        hp = dict(model.hyperparams(k))
        current = float(hp.get("lr", 0.0))
        scene = model.snapshot()
        lrs = sweep_lrs(name, current)
        self._target = (k, name)
        self.dialog.on_apply = lambda lr: self._apply(k, name, lr)
        self.dialog.begin(
            f"Find lr: {model.display_name(k)} on {scene.surface}",
            f"the final loss after {scene.steps} steps from the first start, at {len(lrs)} learning rates "
            f"({lrs[0]:.2g} to {lrs[-1]:.2g}), raced as one batch",
        )

        def run(progress, cancelled):
            from optviz.core.sweep.lr_sweep import surface_lr_sweep
            from optviz.core.sweep.run import RunConditions

            conditions = RunConditions.of(scene, k)  # the race's own gradients
            return surface_lr_sweep(scene, name, hp, None, scene.steps, lrs, cancelled, conditions)

        self.job.start(run)
        return True

    def _show(self, result) -> None:
        k_name = self._target
        diverged = int(np.sum(result.status == "diverged"))
        note = (
            f"{result.optimizer} from ({result.start[0]:.3g}, {result.start[1]:.3g}) for {result.steps} steps"
            + (f"; {diverged} of {len(result.lrs)} learning rates diverged (gaps)" if diverged else "")
            + ". Exact: every point is a real run."
        )
        current = None
        if k_name is not None and k_name[0] < len(self.model.optimizers):
            current = self.model.hyperparams(k_name[0]).get("lr")
        self.dialog.show_curve(
            LrCurve(
                lrs=result.lrs,
                losses=result.final_losses,
                suggestions=result.suggestions,
                lr_range=(float(result.lrs[0]), float(result.lrs[-1])),
                y_label="final loss",
                log_y=True,
                note=note,
                current_lr=None if current is None else float(current),
            )
        )

    def _apply(self, k: int, name: str, lr: float) -> str:
        model = self.model
        if not (0 <= k < len(model.optimizers) and model.optimizers[k].name == name):
            return "that optimizer is no longer racing"
        value = tidy(get_optimizer(name).schema.get("lr"), lr)
        errors: list[str] = []
        model.errorRaised.connect(errors.append)
        try:
            with model.edit(f"Find lr for {model.display_name(k)}"):
                ok = model.set_hyperparam(k, "lr", value)
        finally:
            model.errorRaised.disconnect(errors.append)
        return "" if ok else (errors[0] if errors else f"lr {value:g} was refused")

    def shutdown(self, ms: int = 30_000) -> None:
        self.job.shutdown(ms)
