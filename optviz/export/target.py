"""Where an export is written: a hidden temporary file (or folder) beside the target, renamed over it only
when complete. A cancel, a crash or a full disk therefore leaves no half-written video behind, and an
existing file is replaced only when asked (`force`).

A folder of PNG frames is replaced (with `force`) only when it holds nothing but optviz's frames
(`frame_00000.png`, ...): the frames are written into a new hidden folder that is swapped in whole, and the
old folder is deleted, so anything else in it would be lost. A folder holding anything else is refused.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from optviz.core.atomic import temp_file_beside, temp_folder_beside
from optviz.core.errors import OptvizError


def describe_os_error(path: Path | str, exc: BaseException) -> OptvizError:
    """One line for a failed write: the path and the system's reason (a full disk says so plainly)."""
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC:
        reason = "no space left on the disk"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied"
    else:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return OptvizError(f"cannot write {path}: {reason}")


#: The files a PNG export writes (`PngSequenceEncoder`): the only ones a forced export may delete.
FRAME_NAME = re.compile(r"frame_[0-9]{5,}\.png")


def foreign_entry(folder: Path) -> str | None:
    """The name of something in `folder` that is not an optviz frame (a regular file named frame_NNNNN.png),
    or None when it holds only frames."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not FRAME_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            return entry.name
    return None


def check_target(out: Path, is_folder: bool, force: bool) -> None:
    """Fail early (before any race or frame) when the target cannot or may not be written."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OptvizError(f"cannot write {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OptvizError(f"cannot write {out}: folder {folder} is not writable")
    if out.exists() or out.is_symlink():
        if is_folder and out.is_dir() and not any(out.iterdir()):
            return  # an empty folder holds nothing to lose
        if is_folder != out.is_dir():
            kind = "a folder" if out.is_dir() else "a file"
            raise OptvizError(f"cannot write {out}: it is {kind}")
        if not force:
            raise OptvizError(f"{out} already exists (use --force to replace it)")
        if is_folder:
            try:
                foreign = foreign_entry(out)
            except OSError as exc:
                raise describe_os_error(out, exc) from None
            if foreign is not None:
                raise OptvizError(
                    f"will not replace the folder {out}: it holds {foreign!r}, which is not an optviz frame "
                    "(only a folder of frame_NNNNN.png files is replaced; choose a new or empty folder)"
                )


class OutputTarget:
    """A temporary file or folder beside `out`; `commit()` renames it into place, `discard()` removes it."""

    def __init__(self, out: Path, is_folder: bool, force: bool) -> None:
        self.out = Path(out)
        self.is_folder = is_folder
        self.force = force
        check_target(self.out, is_folder, force)
        # Created with the usual permissions (the umask applies), so the renamed result has them too.
        try:
            self.temp = temp_folder_beside(self.out, ".part") if is_folder else temp_file_beside(self.out, ".part")
        except OSError as exc:
            raise describe_os_error(self.out, exc) from None
        self._done = False

    def commit(self) -> None:
        """Move the finished temporary into place (replacing `out` only with `force`, or an empty folder)."""
        try:
            check_target(self.out, self.is_folder, self.force)  # something may have appeared meanwhile
            if self.is_folder and self.out.is_dir():
                aside = temp_folder_beside(self.out, ".old")
                os.replace(self.out, aside / "old")
                os.replace(self.temp, self.out)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(self.temp, self.out)
        except OSError as exc:
            self.discard()
            raise describe_os_error(self.out, exc) from None
        except BaseException:
            self.discard()
            raise
        self._done = True

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        if self.is_folder:
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            self.temp.unlink(missing_ok=True)
