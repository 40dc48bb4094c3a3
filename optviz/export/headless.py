"""Choose where OpenGL comes from before Qt and PyOpenGL load, and make the GUI application an export needs.

- A display (DISPLAY or WAYLAND_DISPLAY): Qt's normal platform (xcb on X11), desktop OpenGL.
- No display: Qt's eglfs platform on Mesa's surfaceless EGL (OpenGL ES 3.2, offscreen only, no widgets).
  Qt aborts the whole process when a platform plugin fails, so the platform is first tried in a short
  subprocess; only a platform that worked there is used here.
- Where that is impossible: an Xvfb this process starts (and stops at exit), if `Xvfb` is installed;
  otherwise one line naming what to install. The Xvfb runs in a session of its own (a Ctrl+C at the terminal
  is for optviz, which stops the export cleanly, not for the X server under it) and, on Linux, is killed by
  the kernel when optviz dies, however it dies (`PR_SET_PDEATHSIG`): no orphaned X server.

`OPTVIZ_HEADLESS=eglfs|xvfb` forces one of the two no-display paths (tests, or a machine where one misbehaves).
Everything here must run before `PySide6.QtGui` makes an application and before anything imports `OpenGL`
(PYOPENGL_PLATFORM must match Qt's GL backend, or frames come out black).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import sys

from optviz.core.errors import OptvizError

EGLFS_ENV = {
    "QT_QPA_PLATFORM": "eglfs",
    "EGL_PLATFORM": "surfaceless",
    "QT_QPA_EGLFS_INTEGRATION": "none",
    "QT_QPA_EGLFS_FB": "/dev/null",
    "PYOPENGL_PLATFORM": "egl",
}
INSTALL_HINT = (
    "install Xvfb (Debian/Ubuntu: apt-get install xvfb) or Mesa's EGL (apt-get install libegl1 libgl1-mesa-dri)"
)
PROBE_TIMEOUT_S = 60

_PROBE = """
from PySide6 import QtGui
app = QtGui.QGuiApplication([])
ctx = QtGui.QOpenGLContext()
assert ctx.create(), "no context"
surface = QtGui.QOffscreenSurface()
surface.setFormat(ctx.format())
surface.create()
assert ctx.makeCurrent(surface), "cannot make current"
print("optviz-gl-ok")
"""

#: Notes Qt prints on the headless platforms that say nothing actionable (no screen, software GL): the
#: command's output stays one line. Any other message still reaches stderr.
_PLATFORM_NOTES = ("eglconvenience", "Cannot find EGLConfig", "software rasterizer", "QStandardPaths")

_xvfb: subprocess.Popen | None = None


def _quiet_platform_notes(_mode, _context, message: str) -> None:
    if not any(note in message for note in _PLATFORM_NOTES):
        sys.stderr.write(message + "\n")


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _eglfs_works() -> bool:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")} | EGLFS_ENV
    try:
        proc = subprocess.run(  # its own session: a Ctrl+C now is for the export, not a reason to fail the probe
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and "optviz-gl-ok" in proc.stdout


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent_preexec():
    """A `preexec_fn` that makes the child get SIGKILL when this process (its parent) dies, on Linux; None
    elsewhere (no such kernel feature). Runs in the child between fork and exec, so it only calls prctl."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def spawn_dying_with_parent(argv: list[str], **popen_kwargs) -> subprocess.Popen:
    """`subprocess.Popen(argv)` in a session of its own, killed when this process dies (see the module doc)."""
    return subprocess.Popen(argv, preexec_fn=die_with_parent_preexec(), start_new_session=True, **popen_kwargs)


def start_xvfb() -> str:
    """Start `Xvfb` on a free display number; returns the display (":N"). Stopped when this process exits."""
    global _xvfb
    binary = shutil.which("Xvfb")
    if binary is None:
        raise OptvizError(f"no display, and OpenGL without one is not available here: {INSTALL_HINT}")
    read_fd, write_fd = os.pipe()
    try:
        # -displayfd: Xvfb picks a free display number and writes it to the pipe once it is ready.
        proc = spawn_dying_with_parent(
            [binary, "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number.isdigit():
        proc.kill()
        proc.wait()
        raise OptvizError(f"Xvfb did not start; {INSTALL_HINT}")
    _xvfb = proc
    atexit.register(_stop_xvfb)
    return f":{number}"


def _stop_xvfb() -> None:
    global _xvfb
    if _xvfb is not None:
        _xvfb.terminate()
        try:
            _xvfb.wait(5)
        except subprocess.TimeoutExpired:
            _xvfb.kill()
        _xvfb = None


def choose_platform() -> str:
    """Set the environment for Qt and PyOpenGL; returns "display", "eglfs" or "xvfb"."""
    if has_display():
        return "display"
    forced = os.environ.get("OPTVIZ_HEADLESS", "").strip().lower()
    if forced not in ("", "eglfs", "xvfb"):
        raise OptvizError(f"OPTVIZ_HEADLESS={forced!r} must be eglfs or xvfb")
    if forced != "xvfb" and _eglfs_works():
        os.environ.update(EGLFS_ENV)
        return "eglfs"
    if forced == "eglfs":
        raise OptvizError(f"OPTVIZ_HEADLESS=eglfs: Qt's eglfs platform on surfaceless EGL fails here; {INSTALL_HINT}")
    os.environ["DISPLAY"] = start_xvfb()
    for name in ("QT_QPA_PLATFORM", "PYOPENGL_PLATFORM"):  # Qt's default (xcb) and GLX
        os.environ.pop(name, None)
    return "xvfb"


def ensure_gui_application():
    """The running QGuiApplication, or a new one on a platform with OpenGL (see the module doc).

    Only a QGuiApplication: widgets do not exist on eglfs, and an export needs none.
    """
    if "PySide6.QtGui" in sys.modules:
        from PySide6 import QtGui

        app = QtGui.QGuiApplication.instance()
        if app is not None:
            return app
    if "OpenGL" in sys.modules and not has_display():
        # Too late to choose PyOpenGL's backend: it was fixed when OpenGL was imported.
        raise RuntimeError("optviz.export.headless.ensure_gui_application must run before OpenGL is imported")
    platform = choose_platform()
    from PySide6 import QtCore, QtGui

    if platform != "display":
        QtCore.qInstallMessageHandler(_quiet_platform_notes)
    # Before the application exists: pyqtgraph caches shader programs per class, not per context, so an
    # offscreen context draws nothing unless contexts share GL objects.
    QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    return QtGui.QGuiApplication([sys.argv[0] if sys.argv else "optviz"])
