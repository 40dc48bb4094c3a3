"""optviz.export.interrupt: a signal cancels, a second one raises, the block ends in `ExportInterrupted`, and
the handlers that were there before come back."""

from __future__ import annotations

import signal
import threading

import pytest

from optviz.export.interrupt import ExportInterrupted, SignalGuard, stop_on_signals


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_cancels_and_the_block_ends_interrupted(sig, code):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    cancelled = []
    with pytest.raises(ExportInterrupted) as caught, stop_on_signals() as guard:
        guard.on_signal(lambda: cancelled.append(True))
        signal.raise_signal(sig)
        assert cancelled == [True] and guard.interrupted  # no exception at the line that happened to run
    assert caught.value.exit_code == code and caught.value.signal_name == sig.name
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_second_signal_raises_at_once():
    with pytest.raises(ExportInterrupted), stop_on_signals():
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)
        raise AssertionError("not reached")


def test_a_cancel_attached_after_the_signal_runs_at_once():
    guard = SignalGuard()
    guard.install()
    try:
        signal.raise_signal(signal.SIGINT)
        cancelled = []
        guard.on_signal(lambda: cancelled.append(True))
        assert cancelled == [True]
    finally:
        guard.restore()


def test_install_again_takes_back_what_someone_replaced():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(ExportInterrupted), stop_on_signals() as guard:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # what Qt's eglfs platform does to SIGINT and SIGTERM
        guard.install()
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == before  # the first handler seen, not the intruder's


def test_off_the_main_thread_it_does_nothing():
    seen = []

    def worker():
        with stop_on_signals() as guard:
            seen.append(guard.interrupted)

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False] and signal.getsignal(signal.SIGINT) == before


def test_a_signal_ignored_before_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with stop_on_signals() as guard:
            guard.install()
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)
            assert not guard.interrupted
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
