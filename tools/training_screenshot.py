"""Screenshot of the app with the Training panel after a short real run (the README's assets/training.png).

    xvfb-run -a python tools/training_screenshot.py [OUT.png] [--size 1600x1000] [--steps 150]

`optviz --screenshot` shows the race; this opens the Training tab, trains mlp-wide on the digits with AdamW
(fused and for-loop), 8-bit AdamW, Adafactor and SGD + momentum, waits for the run to end, and grabs the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

from PySide6 import QtCore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="assets/training.png")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from optviz.app.model import SceneModel
    from optviz.app.shell.main import create_application, parse_size
    from optviz.app.shell.main_window import MainWindow
    from optviz.app.shell.screenshot import grab_window, settle

    app = create_application()
    settings = QtCore.QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(SceneModel(), settings, autoplay=False)
    window.resize(*parse_size(args.size))
    window.show()
    window.settle(120)
    window.show_training()
    panel = window.training_panel
    setup = panel.setup
    setup.model.setCurrentText("mlp-wide")
    setup.dataset.setCurrentText("digits")
    setup.steps.setValue(args.steps)
    setup.batch.setValue(64)
    setup.schedule.setCurrentText("warmup-cosine")
    panel.optimizers.clear()
    panel.optimizers.add("adamw", "fused")
    panel.optimizers.add("adamw", "for-loop")
    panel.optimizers.add("adam8bit")
    panel.optimizers.add("adafactor")
    panel.optimizers.add("momentum", "fused", lr=0.05)
    panel.optimizers.list.setCurrentRow(0)
    done = []
    panel.finished.connect(lambda: done.append(True))
    if not panel.run():
        print(f"cannot run: {panel.status.text()}", file=sys.stderr)
        return 2
    while not done:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
    settle(0.8)
    image = grab_window(window)
    window.model.mark_clean()
    ok = image.save(args.out, "PNG")
    window.close()
    print(f"wrote {args.out}" if ok else f"cannot write {args.out}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
