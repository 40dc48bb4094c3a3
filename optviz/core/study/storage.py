"""Where a study lives. By default a journal file in the user's data folder (`studies/NAME.journal`):
Optuna's journal appends each change under a file lock, so several processes on one machine (`--jobs`, a second
`optviz study worker`) share it safely, and a killed process loses only what it had not yet written.

`--storage` takes any Optuna storage: an SQLAlchemy URL (`postgresql://user@host/db`, `mysql://...`,
`sqlite:///file.db`), `grpc://host:port` for Optuna's gRPC storage proxy, or a file path for a journal file
(put it on a shared disk for several machines only where file locks work there; a database is safer).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from optviz.core.errors import OptvizError

DATA_ENV = "OPTVIZ_DATA_DIR"
#: What to install when SQLAlchemy lacks a database's driver (its default driver for `postgresql://` is psycopg 3).
DRIVERS = {
    "postgresql": "needs PostgreSQL's driver: pip install 'psycopg[binary]'",
    "mysql": "needs a MySQL driver: pip install PyMySQL, and write mysql+pymysql://...",
}


def data_dir() -> Path:
    """The user's data folder for optviz (`$OPTVIZ_DATA_DIR` where set: tests, a shared disk)."""
    import platformdirs

    explicit = os.environ.get(DATA_ENV)
    return Path(explicit) if explicit else Path(platformdirs.user_data_dir("optviz"))


def default_storage(name: str) -> str:
    """The journal file a study named `name` lives in when no `--storage` is given."""
    return str(data_dir() / "studies" / f"{name}.journal")


def safe_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and reports."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def open_storage(url: str) -> Any:
    """An Optuna storage for `url` (see the module doc), checked now: a storage that cannot be reached, a
    missing driver or a missing folder is one `OptvizError` line naming it."""
    import optuna

    shown = safe_url(url)
    if "://" not in url:
        return _journal(Path(url), shown)
    scheme = url.split("://", 1)[0].lower()
    if scheme == "grpc":
        host, _, port = url.split("://", 1)[1].partition(":")
        try:
            storage = optuna.storages.GrpcStorageProxy(host=host, port=int(port.strip("/")))
            storage.get_all_studies()
        except ValueError:
            raise OptvizError(f"storage {shown}: give grpc://HOST:PORT") from None
        except Exception as exc:
            raise OptvizError(f"storage {shown}: cannot be reached ({_first_line(exc)})") from None
        return storage
    engine: dict[str, Any] = {}
    if scheme.startswith("postgresql"):
        engine["connect_args"] = {"connect_timeout": 10}  # an unreachable host answers in seconds, not minutes
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except ImportError:  # SQLAlchemy could not import the database's driver
        raise OptvizError(
            f"storage {shown}: {DRIVERS.get(scheme.split('+')[0], 'its database driver is not installed')}"
        ) from None
    except Exception as exc:
        raise OptvizError(f"storage {shown}: cannot be reached ({_first_line(exc)})") from None


def _journal(path: Path, shown: str) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if path.is_dir():
        raise OptvizError(f"storage {shown}: is a folder; give a journal file (or a database URL)")
    if not path.parent.is_dir():
        raise OptvizError(f"storage {shown}: folder {path.parent} does not exist")
    try:
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise OptvizError(f"storage {shown}: cannot be opened ({exc.strerror or exc})") from None


def open_default(name: str) -> tuple[str, Any]:
    """The default journal file for study `name`, its folder made if needed."""
    path = Path(default_storage(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path), _journal(path, str(path))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]
