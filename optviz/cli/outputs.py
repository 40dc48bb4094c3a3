"""One policy for every file a command writes (`race --json/--csv`, `landscape --out/--json`, `train --json`).

Every output is checked right after parsing, before any work starts, and a refusal is one line (exit 2):

- an existing file is replaced only with `--force`;
- `-` means standard output (once per command); the human-readable table then goes to stderr;
- a folder, a FIFO, a socket or a device node is refused: optviz never replaces one with a regular file
  (write to `-` and redirect, e.g. `--json - > fifo`, to feed a pipe);
- a symlink is followed: its target is checked and replaced atomically, the link itself stays;
- the same file given twice (after following links) is refused, as is a missing or unwritable folder.

Files are written whole (`optviz.core.atomic`) and before anything is printed, so a closed or full standard
output (`| head -1`, `> /dev/full`) never costs a file. `guard_stdout` turns those two into what a shell
expects: silence and status 141 for a closed pipe, one line and status 1 for a full device.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from optviz.core.atomic import atomic_write_bytes, atomic_write_text
from optviz.core.errors import OptvizError

STDOUT = "-"
#: The status a shell gives a command killed by SIGPIPE (128 + 13): `| head` closed our standard output.
EXIT_BROKEN_PIPE = 141
EXIT_FAILURE = 1

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


@dataclass(frozen=True)
class Output:
    """One checked output: the flag and path as given, and where the bytes go (None: standard output)."""

    flag: str
    given: str
    target: Path | None
    force: bool

    @property
    def to_stdout(self) -> bool:
        return self.target is None

    def write(self, data: str | bytes) -> None:
        """Write `data` (text as UTF-8) whole to the file, or to standard output."""
        if self.target is None:
            if isinstance(data, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
            else:
                sys.stdout.write(data)
            return
        _check_file(self.flag, self.given, self.target, self.force)  # something may have appeared meanwhile
        if isinstance(data, bytes):
            atomic_write_bytes(self.target, data)
        else:
            atomic_write_text(self.target, data)


def _refuse(flag: str, given: str, why: str) -> OptvizError:
    return OptvizError(f"{flag} {given}: {why}")


def _check_file(flag: str, given: str, target: Path, force: bool) -> None:
    """Refuse a target that is not a regular file, or an existing one without `force`."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _refuse(flag, given, f"cannot be checked ({exc.strerror or exc})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise _refuse(flag, given, "it is a folder; give a file name")
        for test, kind in _SPECIAL:
            if test(st.st_mode):
                raise _refuse(
                    flag, given, f"it is {kind}, not a regular file (optviz never replaces one; use {flag} - instead)"
                )
        if not force:
            raise _refuse(flag, given, "the file already exists (use --force to replace it)")


def refuse_special(flag: str, given: str) -> None:
    """Refuse a FIFO, socket, device or folder by name (symlinks followed); for commands, like `export`, that
    apply their own rules to regular files."""
    _check_file(flag, given, Path(os.path.realpath(given)), force=True)


def resolve_output(flag: str, given: str, force: bool) -> Output:
    """Check one output (see the module doc) and say where it will be written."""
    if given == STDOUT:
        return Output(flag, given, None, force)
    if not given.strip():
        raise _refuse(flag, repr(given), "an empty file name")
    # Follow symlinks (a dangling one names the file it will create), so the link's target is replaced.
    target = Path(os.path.realpath(given))
    _check_file(flag, given, target, force)
    folder = target.parent
    if not folder.is_dir():
        raise _refuse(flag, given, f"folder {Path(given).parent} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse(flag, given, f"folder {Path(given).parent} is not writable")
    return Output(flag, given, target, force)


def check_outputs(pairs: Sequence[tuple[str, str | None]], force: bool) -> dict[str, Output]:
    """Check every output a command was given, as (flag, path or None); all before any work starts.

    Returns the outputs by flag (missing flags left out)."""
    outputs = {flag: resolve_output(flag, given, force) for flag, given in pairs if given is not None}
    seen: dict[object, Output] = {}
    for out in outputs.values():
        key = "stdout" if out.target is None else _identity(out.target)
        if key in seen:
            other = seen[key]
            where = "standard output" if out.target is None else str(out.target)
            raise OptvizError(f"{other.flag} and {out.flag} both write {where}: give each its own file")
        seen[key] = out
    return outputs


def _identity(path: Path) -> object:
    """The file a path names: (device, inode) when it exists (hard links included), else the resolved path."""
    try:
        st = os.stat(path)
    except OSError:
        return str(path)
    return (st.st_dev, st.st_ino)


def deliver(
    outputs: dict[str, Output],
    contents: dict[str, Callable[[], str | bytes]],
    report: Callable[[TextIO], None],
) -> None:
    """Write every file, then print the human-readable report, then what goes to standard output.

    The report goes to stderr when an output is `-`, so standard output carries that output alone. Files come
    first: a closed or full standard output never costs one."""
    piped = [out for out in outputs.values() if out.to_stdout]
    for out in outputs.values():
        if not out.to_stdout:
            out.write(contents[out.flag]())
    report(sys.stderr if piped else sys.stdout)
    for out in piped:
        out.write(contents[out.flag]())


# --- standard output that is closed or full ---------------------------------------------------------------


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's flush at exit cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def guard_stdout(body: Callable[[], int], prog: str) -> int:
    """Run a command and flush its output; a closed pipe ends silently with 141, a full or failing standard
    output with one line and status 1. Other `OSError`s (a full disk while computing) also end as one line."""
    try:
        code = body()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        stdout_failed = exc.filename is None and exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG)
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        if stdout_failed:
            _silence_stdout()
            line = f"cannot write standard output: {reason}"
        else:
            line = f"{reason}: {exc.filename}" if exc.filename else reason
        sys.stderr.write(f"{prog}: error: {line}\n")
        return EXIT_FAILURE
