"""The core is pure numerics: importing it loads no Qt, no pyqtgraph, no OpenGL (and not even torch)."""

import subprocess
import sys


def test_core_imports_no_gui_or_gl():
    code = (
        "import sys\n"
        "import optviz.core, optviz.core.surfaces, optviz.core.optimizers, optviz.core.race, optviz.core.scene\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'OpenGL', 'superqt')]\n"
        "print(','.join(bad))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "", f"optviz.core imported GUI/GL modules: {out[0]}"
    assert out[1] == "False", "importing the core should not import torch (listing stays fast)"
