"""Files written whole or not at all: every file optviz writes (scenes, JSON, CSV, npz, cache entries, exports).

The bytes go to a hidden temporary beside the target (the same folder, so the final rename is atomic), which
replaces the target only once complete and flushed to disk; a failure or an exception removes it and leaves
any earlier file untouched.

A killed process (SIGKILL, a power cut) cannot remove its temporary, so every temporary says who wrote it:
`.NAME.optviz-PID-HOST-RANDOM.SUFFIX`. Before making a new one, `remove_stale_temps` deletes the temporaries
beside it whose writer was a process on this host that no longer exists. Nothing else is ever touched: not
a file without that exact shape, not one from another host (a shared folder), not one whose process lives.

Temporaries are created with mode 0o666 (folders 0o777) and the kernel takes the process umask off, exactly as
for a plain `open()`, so finished files get the usual permissions (0644 under umask 022). `tempfile.mkstemp`
would make them private (0600), and fixing that afterwards would need the umask, which Python can only read
by setting it: a process-wide change that races with other threads.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from optviz.core.errors import OptvizError

#: Random names tried before giving up (as many as `tempfile` tries).
NAME_ATTEMPTS = 100


def write_error(path: Path | str, exc: OSError) -> OptvizError:
    """One line for a failed write: the target and the system's reason."""
    return OptvizError(f"cannot write {path}: {exc.strerror or exc}")


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


#: What a temporary's name looks like: the target's name, then who wrote it (see the module doc).
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.optviz-(?P<pid>[0-9]+)-(?P<host>[A-Za-z0-9_-]+)-[0-9a-f]{8}\.[A-Za-z0-9]+")


def _host() -> str:
    """This machine's name as it appears in temporary names (letters, digits, "-" and "_" only)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0])[:40] or "host"


def temp_name(name: str, suffix: str, pid: int | None = None, host: str | None = None) -> str:
    """The name of a temporary for the target `name`, written by process `pid` (this one) on `host` (this one)."""
    pid = os.getpid() if pid is None else pid
    return f".{name}.optviz-{pid}-{host or _host()}-{secrets.token_hex(4)}{suffix}"


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # another user's process, or a number we cannot ask about: assume it is alive
    return True


def remove_stale_temps(folder: Path | str) -> list[Path]:
    """Remove the temporaries in `folder` left by processes of this host that no longer exist (killed before
    they could clean up); returns what was removed. Errors are ignored: this is housekeeping."""
    folder = Path(folder)
    host = _host()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_NAME.fullmatch(entry.name)
        if match is None or match["host"] != host or _process_exists(int(match["pid"])):
            continue
        path = folder / entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _create_beside(path: Path, suffix: str, create: Callable[[Path], None]) -> Path:
    folder = _folder(path)
    remove_stale_temps(folder)
    for _ in range(NAME_ATTEMPTS):
        temp = folder / temp_name(path.name, suffix)
        try:
            create(temp)
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder))


def _new_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))


def _new_folder(path: Path) -> None:
    os.mkdir(path, 0o777)


def temp_file_beside(path: Path | str, suffix: str = ".tmp") -> Path:
    """Create an empty hidden file with a fresh name beside `path` (mode 0o666 less the umask); its path."""
    return _create_beside(Path(path), suffix, _new_file)


def temp_folder_beside(path: Path | str, suffix: str = ".tmp") -> Path:
    """Create an empty hidden folder with a fresh name beside `path` (mode 0o777 less the umask); its path."""
    return _create_beside(Path(path), suffix, _new_folder)


def _sync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextmanager
def atomic_path(path: Path | str, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file (or an open file: note that `np.savez`
    given a *name* appends ".npz", so give it an open file). When the block ends normally the temporary
    replaces `path`; on an exception it is removed. An `OSError` becomes one-line `OptvizError`."""
    path = Path(path)
    try:
        temp = temp_file_beside(path, suffix)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        yield temp
        _sync(temp)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise write_error(path, exc) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half."""
    with atomic_path(path) as temp, open(temp, "wb") as f:
        f.write(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write `text` (UTF-8) to `path` so that readers see the old file or the whole new one, never half."""
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as f:
        f.write(text)
