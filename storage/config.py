"""Where the history database lives: `--db`, `$ZONE_DB` or SQLite in the XDG data folder."""

from __future__ import annotations

import os
from pathlib import Path

from common.settings import settings

ENV_VAR = "ZONE_DB"


def default_db_path() -> Path:
    """Return the default SQLite file, `$XDG_DATA_HOME/zone/zone.db` (~/.local/share if unset)."""
    return settings().data_home / "zone" / "zone.db"


def to_url(path_or_url: str | os.PathLike) -> str:
    """Turn a filesystem path or an SQLAlchemy URL into an SQLAlchemy URL.

    Args:
        path_or_url: `sqlite:///...`, `postgresql+psycopg://...` or a plain file path.
    """
    text = os.fspath(path_or_url)
    if "://" in text:
        return text
    path = Path(text).expanduser()
    return f"sqlite:///{path.resolve()}" if str(path) != ":memory:" else "sqlite://"


def default_db_url(override: str | os.PathLike | None = None) -> str:
    """Return the database URL to use: `override`, else `$ZONE_DB`, else the XDG default.

    Args:
        override: the value of a `--db` option (a path or a URL), or None.
    """
    if override is not None and os.fspath(override).strip():
        return to_url(override)
    env = settings().db
    if env:
        return to_url(env)
    return to_url(default_db_path())


def sqlite_path(url: str) -> Path | None:
    """Return the file of an SQLite URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    rest = rest.split("?", 1)[0]
    if not rest or rest == ":memory:":
        return None
    return Path(rest)
