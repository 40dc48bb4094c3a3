"""`StepRecords`: the per-step optimizer state the state glyphs and the step inspector show, on a worker thread.

Consumers say which optimizers they want (`want(name, ks)`: the glyphs want every shown optimizer while glyphs
are on, the step inspector the selected one while it is open); at each change of the time cursor or the race,
one request asks for the step taken from the head (`core.race.glyphs.step_for_cursor`) of the union, and
`delivered(n, records)` hands every consumer the same records ({k: StepRecord, or an error line}).

One `StepInspector` per optimizer run (its first start), kept while that run's settings stand (a few scenes'
worth), used from the worker thread only; a race records nothing, so memory stays flat however long or wide the
race is (`benchmarks/inspector_memory.py`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6 import QtCore
from superqt.utils import qthrottled

from optviz.app.model import SceneModel
from optviz.app.sweep.sweep_worker import SweepWorker
from optviz.core.errors import OptvizError
from optviz.core.race.glyphs import step_for_cursor

#: Inspectors kept: a few scenes' worth, so an undo or a slider moved back finds its run at once.
KEEP_INSPECTORS = 24


def run_key(scene, k: int) -> tuple:
    """What optimizer k's first-start run depends on: equal keys, equal records."""
    config = scene.run_config(k)
    return (
        scene.surface,
        tuple(sorted(scene.surface_params.items())),
        tuple(map(tuple, scene.starts)),
        scene.grid,
        scene.seed,
        scene.steps,
        config.optimizer,
        tuple(sorted(config.hyperparams.items())),
    )


class InspectorCache:
    """`StepInspector`s by run key, used from the worker thread only (one thread: no locking needed)."""

    def __init__(self) -> None:
        self._inspectors: OrderedDict[tuple, Any] = OrderedDict()

    def records(self, scene, ks: list[int], n: int) -> dict[int, Any]:
        """Step n of each optimizer k (its first start): {k: StepRecord or an error line}."""
        from optviz.core.race.inspect import scene_inspector

        out: dict[int, Any] = {}
        for k in ks:
            key = run_key(scene, k)
            inspector = self._inspectors.get(key)
            try:
                if inspector is None:
                    inspector = scene_inspector(scene, k, 0)
                    self._inspectors[key] = inspector
                    while len(self._inspectors) > KEEP_INSPECTORS:
                        self._inspectors.popitem(last=False)
                self._inspectors.move_to_end(key)
                out[k] = inspector.record(n)
            except OptvizError as exc:
                out[k] = str(exc)
        return out

    def __len__(self) -> int:
        return len(self._inspectors)

    @property
    def nbytes(self) -> int:
        """Bytes the inspectors hold now (records and checkpoints)."""
        return sum(i.nbytes for i in self._inspectors.values())


class StepRecords(QtCore.QObject):
    """See the module doc."""

    delivered = QtCore.Signal(int, object)  # step n, {k: StepRecord or an error line}

    def __init__(self, model: SceneModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.cache = InspectorCache()
        self.worker = SweepWorker(self)
        self.worker.finished.connect(self._deliver)
        self.worker.failed.connect(lambda _tag, message: model.errorRaised.emit(message))
        self._wanted: dict[str, list[int]] = {}
        self.step = 0
        self.request_soon = qthrottled(self.request, 30)  # a scrub asks at most ~30 times a second
        model.cursorChanged.connect(self.request_soon)
        for signal in (model.resultChanged, model.optimizerStyleChanged, model.selectionChanged):
            signal.connect(self.request_soon)

    def want(self, consumer: str, ks: list[int]) -> None:
        """`consumer` wants the records of optimizers `ks` (none: it wants nothing now)."""
        if ks:
            self._wanted[consumer] = list(ks)
        else:
            self._wanted.pop(consumer, None)
        self.request_soon()

    def request(self, *_args: object) -> None:
        """Ask for the records of the cursor's step (the newest request cancels an older one)."""
        model = self.model
        ks = sorted({k for wanted in self._wanted.values() for k in wanted if 0 <= k < len(model.optimizers)})
        if not ks or model.result is None or model.scene.is_learned:
            self.worker.cancel()
            return
        scene = model.snapshot()
        n = step_for_cursor(model.cursor, scene.steps)
        self.worker.request((n, model.revision), lambda _c, _cancelled: self.cache.records(scene, ks, n), [1])

    def _deliver(self, tag: tuple, _count: int, records: dict[int, Any]) -> None:
        n, revision = tag
        if revision != self.model.revision:
            self.request_soon()  # the race changed meanwhile: these records describe the old one
            return
        self.step = n
        self.delivered.emit(n, records)

    def wait(self, timeout: float = 60.0) -> bool:
        """Process events until the latest request has been delivered (tests, screenshots)."""
        self.request_soon.flush()
        return self.worker.wait(timeout)

    def shutdown(self) -> None:
        self.worker.shutdown()
