"""The `optviz` command in-process: `cli("race", ...)` runs `optviz.cli.main` and returns what a shell sees.

Each case costs milliseconds instead of a fresh interpreter importing torch; the entry point itself
(`python -m optviz`, its exit status through `SystemExit`) keeps a few subprocess smoke tests in test_cli.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path_factory):
    """cli(*args, cwd=None) -> Outcome: exit status (argparse's SystemExit included), stdout and stderr.

    The cache directory is a temporary one, as a fresh shell on a clean machine would have it."""
    from optviz.cli import main

    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))

    def run(*args, cwd=None) -> Outcome:
        capsys.readouterr()
        with monkeypatch.context() as m:
            if cwd is not None:
                m.chdir(cwd)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
