"""Studies across processes: a worker killed mid-trial loses no finished trial and its trial is failed and
run again; two worker processes complete the budget with no duplicate and no loss, on the default journal file
and on a PostgreSQL server this test starts in a temporary folder."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from optviz.core.study.space import parse_tune
from optviz.core.study.storage import open_storage
from optviz.core.study.worker import TuningStudy

ROOT = Path(__file__).resolve().parents[3]


def _worker(storage: str, name: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "optviz", "study", "worker", "--storage", storage, "--study", name, "--quiet"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until(check, what: str, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def test_a_killed_worker_loses_no_finished_trial_and_its_trial_is_failed_and_run_again(make_setup, journal):
    path, storage = journal
    setup = make_setup(optimizers=("momentum",), tune=parse_tune("lr"), trials=3, steps=300, seeds=1)
    study = TuningStudy.create(storage, setup)
    worker = _worker(path, setup.name)
    try:

        def one_done_one_running() -> bool:
            states = [t.state for t in study.records()["momentum"]]
            return "complete" in states and states[-1] == "running"

        _wait_until(one_done_one_running, "a finished trial and a running one")
        before = {t.number: (t.params, t.value) for t in study.records()["momentum"] if t.state == "complete"}
        running = study.records()["momentum"][-1].number
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.communicate()
    resumed = TuningStudy.load(open_storage(path), setup.name)
    summary = resumed.run_worker()
    assert summary.failed_stale == [f"momentum #{running}"]  # at once: its process is gone from this host
    trials = {t.number: t for t in resumed.records()["momentum"]}
    assert {n: (trials[n].params, trials[n].value) for n in before} == before
    assert trials[running].state == "fail" and "its worker process ended" in trials[running].note
    assert sum(t.state == "complete" for t in trials.values()) == 3


def _two_workers_finish(storage_url: str, storage, make_setup) -> None:
    setup = make_setup(trials=3, steps=60, seeds=1)
    study = TuningStudy.create(storage, setup)
    workers = [_worker(storage_url, setup.name) for _ in range(2)]
    outputs = [w.communicate(timeout=180) for w in workers]
    for w, (_out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
    trained = sum(int(out.split("trained ")[1].split()[0]) for out, _ in outputs)
    records = study.records()
    for name, trials in records.items():
        complete = [t for t in trials if t.state == "complete"]
        assert len(complete) == 3, name  # the budget, not one more, not one less
        assert len({t.number for t in complete}) == 3
        others = [t for t in trials if t.state != "complete"]
        assert all(t.state == "fail" and "took the last place first" in t.note for t in others), others
    assert trained == 6


def test_two_worker_processes_on_the_journal_file_complete_the_budget_once(make_setup, journal):
    path, storage = journal
    _two_workers_finish(path, storage, make_setup)


def _postgres_program(name: str) -> str | None:
    """A PostgreSQL program on PATH, else from Debian's versioned folder (the newest version)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL server in a temporary folder, listening on 127.0.0.1 (trust authentication)."""
    pytest.importorskip("psycopg", reason="psycopg (PostgreSQL's driver) is not installed (pip install -e '.[test]')")
    initdb, pg_ctl = _postgres_program("initdb"), _postgres_program("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed here (on Debian: apt install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="optviz-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user where there is one
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("PostgreSQL will not run as root, and there is no postgres user to run it as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        made = subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "optviz"], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"PostgreSQL's initdb failed here: {made.stderr.decode().strip().splitlines()[-1]}")
        started = subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"],
            capture_output=True,
        )
        if started.returncode != 0:
            pytest.skip(f"a PostgreSQL server could not start here: {started.stderr.decode().strip()[:200]}")
        yield f"postgresql://optviz@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_worker_processes_on_postgresql_complete_the_budget_once(make_setup, postgres_url):
    _two_workers_finish(postgres_url, open_storage(postgres_url), make_setup)
