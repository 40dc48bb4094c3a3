"""The study machinery's cost per trial against the trial's own training, as ratios measured in one run.

    python benchmarks/study.py [--trials N] [--steps N]

A TPE study of AdamW and SGD with momentum on the digits MLP (200 steps a trial, one seed), in a journal file
in a temporary folder. Per trial:
- training: the time inside the training runs (steps and evaluations), as each trial records it;
- the trial's own set-up: loading the data set, building the model, the batch-order fingerprint;
- the study machinery: everything else the worker spends (sampling, asking and telling, the budget count,
  the stale-trial check, storing the measurements, the heartbeat thread).
Goal: machinery under 5 % of training for a 200-step digits MLP trial.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from optviz.core.study.setup import StudyOptimizer, StudySetup
from optviz.core.study.space import parse_tune
from optviz.core.study.storage import open_storage
from optviz.core.study.worker import TuningStudy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6, help="trials per optimizer")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    setup = StudySetup(
        name="bench",
        optimizers=(StudyOptimizer("adamw"), StudyOptimizer("momentum")),
        tune=parse_tune("lr"),
        trials=args.trials,
        model="mlp",
        dataset="digits",
        steps=args.steps,
        device="cpu",
    )
    with tempfile.TemporaryDirectory() as folder:
        study = TuningStudy.create(open_storage(str(Path(folder) / "bench.journal")), setup)
        start = time.perf_counter()
        study.run_worker()
        wall = time.perf_counter() - start
        trials = [t for ts in study.records().values() for t in ts]
    n = len(trials)
    train = sum(s.train_seconds for t in trials for s in t.seeds)
    own = sum(t.seconds for t in trials)
    machinery = wall - own
    print(f"{n} trials of {args.steps} steps (digits MLP, CPU), {wall:.2f} s in all")
    print(f"  training            {1000 * train / n:8.1f} ms per trial")
    print(
        f"  trial's own set-up  {1000 * (own - train) / n:8.1f} ms per trial ({(own - train) / train:6.1%} of training)"
    )
    print(f"  study machinery     {1000 * machinery / n:8.1f} ms per trial ({machinery / train:6.1%} of training)")
    print(f"goal: machinery < 5 % of training: {'met' if machinery / train < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
