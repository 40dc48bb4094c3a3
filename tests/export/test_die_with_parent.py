"""The Xvfb an export starts dies with optviz, however optviz dies (`headless.spawn_dying_with_parent`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

WAIT_S = 60

PARENT = """
import sys
from optviz.export.headless import spawn_dying_with_parent
child = spawn_dying_with_parent([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
sys.stdin.read()  # wait to be killed
"""


def gone(pid: int) -> bool:
    """No such process, or only its zombie (killed, waiting for whoever adopted it to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_child_dies_with_its_parent(sig):
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert not gone(child)
        assert os.getpgid(child) != os.getpgid(parent.pid)  # its own session: a terminal's Ctrl+C is not for it
        parent.send_signal(sig)
        parent.wait(WAIT_S)
        deadline = time.monotonic() + WAIT_S
        while not gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(child)
    finally:
        if not gone(child):
            os.kill(child, signal.SIGKILL)
