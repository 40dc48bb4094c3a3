"""Trajectory data as files: the JSON and CSV that `optviz race --json/--csv` writes and the app exports.

Pure data (no Qt): a `RaceResult` and the `Scene` it came from in, text out; write it with
`optviz.core.atomic.atomic_write_text` so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import io

from optviz.core.race.result import RaceResult
from optviz.core.scene import Scene

FORMAT = "optviz-race"
VERSION = 1


def race_json(scene: Scene, result: RaceResult) -> dict:
    """Every run (positions, losses, gradient norms, status) as plain data, ready for `json.dumps`."""
    k_count, m_count, _ = result.shape
    surface = scene.race_surface(result)
    return {
        "format": FORMAT,
        "version": VERSION,
        "surface": {"name": surface.name, "params": dict(surface.params)}
        | ({"learned": scene.learned.to_dict()} if scene.is_learned else {}),
        "steps": result.steps,
        "seed": result.seed,
        "tolerance": result.tolerance,
        "runs": [result.run_record(k, m) for k in range(k_count) for m in range(m_count)],
    }


def race_csv(result: RaceResult) -> str:
    """One row per run and step, up to each run's divergence; floats written exactly (`repr`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["optimizer", "label", "start", "step", "x", "y", "loss", "grad_norm", "status"])
    k_count, m_count, _ = result.shape
    for k in range(k_count):
        config = result.configs[k]
        for m in range(m_count):
            for t in range(result.valid_length(k, m)):
                x, y = result.positions[k, m, t]
                writer.writerow(
                    [
                        config.optimizer,
                        config.display_name,
                        m,
                        t,
                        repr(float(x)),
                        repr(float(y)),
                        repr(float(result.losses[k, m, t])),
                        repr(float(result.grad_norms[k, m, t])),
                        result.status[k, m],
                    ]
                )
    return buf.getvalue()
