"""The headless export path: Qt's eglfs platform on Mesa's surfaceless EGL gives OpenGL ES 3.2 and no
widgets. The same shader files must compile there with the ES header, and SceneView(offscreen=True) must
render. Runs in a subprocess because the platform is chosen once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    from PySide6 import QtGui
    app = QtGui.QGuiApplication([])
    from OpenGL import GL
    from optviz.render import HeightField, SceneView
    xs = np.linspace(-2, 2, 64)
    X, Y = np.meshgrid(xs, xs)
    view = SceneView(offscreen=True, size=(160, 120))
    view.set_height_field(HeightField.from_grid(xs, xs, X**2 + 2 * Y**2, log_scale=True), minima=[(0, 0)])
    view.set_trails([np.stack([np.linspace(-1.5, 0, 50), np.linspace(1.5, 0, 50)], 1)], colors=["#ff0000"])
    image = view.render_image()
    image2 = view.render_image(supersample=2)
    view.view.makeCurrent()
    version = GL.glGetString(GL.GL_VERSION).decode()
    es = view.view.context().isOpenGLES()
    view.view.doneCurrent()
    background = np.array([0x15, 0x17, 0x1C])
    covered = float((np.abs(image[..., :3].astype(int) - background).sum(-1) > 12).mean())
    red = int(((image[..., 0] > 200) & (image[..., 1] < 90) & (image[..., 2] < 90)).sum())
    view.close()
    print(json.dumps({"version": version, "es": es, "covered": covered, "red": red, "shape": image2.shape}))
    """
)

ENV = {
    "QT_QPA_PLATFORM": "eglfs",
    "EGL_PLATFORM": "surfaceless",
    "QT_QPA_EGLFS_INTEGRATION": "none",
    "QT_QPA_EGLFS_FB": "/dev/null",
    "PYOPENGL_PLATFORM": "egl",
}


def test_the_scene_renders_on_opengl_es_without_a_display():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | ENV
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=root, capture_output=True, text=True, timeout=120
    )
    unavailable = ("Qt platform plugin", "could not create an OpenGL context")
    if proc.returncode != 0 and any(text in proc.stderr for text in unavailable):
        pytest.skip(f"no surfaceless EGL here: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["es"] and "OpenGL ES" in result["version"]
    assert 0.2 < result["covered"] < 0.95
    assert result["red"] > 10
    assert result["shape"] == [120, 160, 4]
