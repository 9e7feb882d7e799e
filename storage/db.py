"""Opening the history database: URL checks, SQLite pragmas, transactions and Alembic upgrades."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc

from common.safe_write import make_private_dir
from storage.config import sqlite_path
from storage.errors import DatabaseError, DiskFullError, NotFoundError, SchemaTooNewError

# The newest revision this program ships; a test checks it against the migrations folder.
HEAD_REVISION = "0005"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
OUR_TABLES = frozenset({"blobs", "sessions", "versions", "branches", "messages", "render_cache", "edit_sources",
                        "head_moves"})
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "zone_write"
LOW_SPACE_BYTES = 16 * 1024 * 1024  # an I/O error with less room than this is a full disk
# SQLite primary result codes (https://sqlite.org/rescode.html)
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_READONLY = 11, 13, 14, 26, 8
SQLITE_IOERR_WRITE = 778


def _known_revisions() -> set[str]:
    """Return every revision id in the shipped migrations (imports Alembic: slow path only)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for rev in script.walk_revisions()}


def _check_revision(current: str | None, where: str) -> None:
    """Raise SchemaTooNewError when `current` is a revision this program does not know."""
    if current is None or current == HEAD_REVISION:
        return
    if current not in _known_revisions():
        raise SchemaTooNewError(
            f"{where} has schema revision {current!r}, newer than this Zone knows "
            f"({HEAD_REVISION!r}); upgrade Zone to open it"
        )


def _precheck_sqlite(path: Path, create: bool) -> None:
    """Cheap checks on the file before SQLite opens it; creates a missing one 0600 when allowed.

    Only the 16-byte header is read (it never changes once written, so a WAL or a checkpoint in
    progress cannot make it look wrong). Everything else is asked of SQLite on a normal
    connection, which sees the WAL (`_inspect`).
    """
    if not path.exists():
        if not create:
            raise NotFoundError(f"no history database at {path}")
        _create_private(path)
        return
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not magic:
        if not create:  # a read-only command never turns an empty file into a database
            raise NotFoundError(f"no history database at {path} (the file is empty)")
        return
    if magic != SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a Zone database (not an SQLite file)")


def _create_private(path: Path) -> None:
    """Create the database file 0600 (and its folder 0700): it holds private photos and paths."""
    try:
        make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseError(f"cannot create {path}: {exc.strerror or exc}") from None


def _inspect(engine: Engine, where: str, create: bool) -> str | None:
    """Return the schema revision, after refusing another program's database (normal connection)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        current = None
        if "alembic_version" in tables:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    user_tables = {t for t in tables if not t.startswith("sqlite_")}
    if current is None and user_tables and not user_tables <= OUR_TABLES | {"alembic_version"}:
        raise DatabaseError(f"{where} is an SQLite database of another program, not a Zone database")
    if current is None and not create and not user_tables:
        raise NotFoundError(f"no history database at {where} (the file has no Zone tables yet)")
    _check_revision(current, where)
    return current


def classify_sqlite_error(exc: BaseException, where: str) -> DatabaseError:
    """Turn SQLite's own error (by its result code, never its text) into a one-line DatabaseError."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == SQLITE_NOTADB:
        return DatabaseError(f"{where} is not a Zone database (not an SQLite file)")
    if primary == SQLITE_CORRUPT:
        return DatabaseError(f"{where} is damaged (SQLite: {one_line(exc)}); "
                             "`sqlite3 FILE 'PRAGMA integrity_check'` tells more")
    if primary == SQLITE_FULL or (code == SQLITE_IOERR_WRITE and _short_of_space(where)):
        return DiskFullError(f"no space left for the history database ({_free_mb(where)})")
    if primary == SQLITE_READONLY:
        return DatabaseError(f"the history database {where} is read-only: {one_line(exc)}")
    return DatabaseError(f"database error on {where}: {one_line(exc)}")


def _files_of(where: str) -> list[Path]:
    return [Path(where + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def _free_mb(where: str) -> str:
    try:
        free = shutil.disk_usage(Path(where).parent).free
    except OSError:
        return "free space unknown"
    limit = _fsize_limit()
    if limit is not None:
        biggest = max((p.stat().st_size for p in _files_of(where) if p.exists()), default=0)
        free = min(free, max(0, limit - biggest))
    return f"{free / 1e6:.0f} MB free"


def _fsize_limit() -> int | None:
    """The process's file size limit (RLIMIT_FSIZE) in bytes, None when unlimited."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _short_of_space(where: str) -> bool:
    """Whether a failed write is explained by a full disk or the file size limit."""
    try:
        free = shutil.disk_usage(Path(where).parent).free
    except OSError:
        return False
    if free < LOW_SPACE_BYTES:
        return True
    limit = _fsize_limit()
    if limit is None:
        return False
    biggest = max((p.stat().st_size for p in _files_of(where) if p.exists()), default=0)
    return biggest + LOW_SPACE_BYTES >= limit


def _install_sqlite_events(engine: Engine, readonly: bool = False) -> None:
    """Foreign keys and a busy timeout on every connection; BEGIN IMMEDIATE for writers.

    WAL mode is persistent in the file: `_use_wal` sets it once the file is known to be ours.
    A read-only engine sets `query_only`.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if readonly:
            cur.execute("PRAGMA query_only = ON")
        else:
            cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001 - sqlalchemy Connection
        # A writer takes the write lock up front: a deferred transaction that upgrades from
        # reader to writer fails at once with "database is locked" instead of waiting.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(engine: Engine) -> None:
    """Switch a Zone SQLite file to WAL (readers never block the writer); a no-op when it is."""
    raw = engine.raw_connection()  # outside any transaction (the begin event would open one)
    try:
        cur = raw.cursor()
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() not in ("wal", "memory"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()
    finally:
        raw.close()


def _current_revision(conn) -> str | None:  # noqa: ANN001 - sqlalchemy Connection
    """Return the Alembic revision stored in the database (None when it has none)."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(engine: Engine, where: str, *, create: bool = True, readonly: bool = False) -> None:
    """Bring the schema to HEAD_REVISION in one write transaction (no-op when already there)."""
    from sqlalchemy import inspect

    current = _inspect(engine, where, create and not readonly)
    if not readonly and engine.dialect.name == "sqlite":
        _use_wal(engine)
    if current == HEAD_REVISION:
        return
    if readonly:
        raise NeedsUpgradeError(f"{where} has schema revision {current!r} and needs an upgrade, which a "
                                "read-only file does not allow; open it once where it can be written")
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names()) & OUR_TABLES if current is None else set()
    if present:
        raise DatabaseError(f"{where} has Zone-like tables but no schema revision; refusing to touch it")
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    write = engine.execution_options(**{WRITE_OPTION: True})
    with write.connect() as conn, conn.begin():
        if _current_revision(conn) != HEAD_REVISION:  # another process may have won the race
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


class NeedsUpgradeError(DatabaseError):
    """A read-only open found an older schema (upgrading it would write)."""


def _writable(path: Path) -> bool:
    """Whether this process may write the file and its folder (False on a read-only mount)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _sqlite_engine(path: Path, url: str, readonly: bool, flag: str | None = None) -> Engine:
    """An Engine on the SQLite file `path`.

    Args:
        readonly: set `query_only` on every connection.
        flag: None (a normal open), "mode=ro" or "immutable=1" (SQLite URI parameters).
    """
    if flag is not None:
        url = f"sqlite:///file:{quote(str(path.resolve()))}?{flag}&uri=true"
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    _install_sqlite_events(engine, readonly=readonly)
    return engine


def _open_sqlite(path: Path, url: str, where: str, create: bool, readonly: bool) -> Engine:
    """Open and check an SQLite history.

    A read-only open of a file Zone may write uses a normal connection with `query_only` (its
    -wal/-shm files go away on close). A file it may not write is opened `mode=ro`; where even
    the WAL's -shm file cannot be created (a read-only mount) nothing can change the file, so
    it is read `immutable=1`, which is then exact.
    """
    writable = _writable(path)
    flags: list[str | None] = [None] if not readonly or writable else ["mode=ro", "immutable=1"]
    for i, flag in enumerate(flags):
        engine = _sqlite_engine(path, url, readonly, flag)
        try:
            try:
                _upgrade(engine, where, create=create, readonly=readonly)
            except NeedsUpgradeError:
                if not writable:
                    raise
                engine.dispose()  # an older Zone database Zone may write: upgraded in place, as every
                _upgrade_in_place(path, url, where)  # open does (nothing is created or initialised)
                engine = _sqlite_engine(path, url, readonly, flag)
                _upgrade(engine, where, create=create, readonly=readonly)
            return engine
        except sa_exc.DBAPIError as exc:
            engine.dispose()  # close at once: SQLite then removes the -wal/-shm files it opened
            code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
            cannot_open = isinstance(code, int) and (code & 0xFF) in (SQLITE_CANTOPEN, SQLITE_READONLY)
            if not (cannot_open and i + 1 < len(flags)):
                raise
        except BaseException:
            engine.dispose()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _upgrade_in_place(path: Path, url: str, where: str) -> None:
    """Run the migrations on an existing Zone database (never on an empty or foreign file)."""
    engine = _sqlite_engine(path, url, readonly=False)
    try:
        _upgrade(engine, where, create=False, readonly=False)
    finally:
        engine.dispose()


def open_engine(url: str, *, create: bool = True, readonly: bool = False) -> Engine:
    """Return an Engine on `url` with the schema at HEAD_REVISION, upgrading it if older.

    Args:
        url: an SQLAlchemy URL (see `storage.config.default_db_url`).
        create: when False, a missing (or empty) SQLite file raises NotFoundError instead of being
            created or initialised.
        readonly: open for reading only (SQLite `mode=ro`): nothing is created, upgraded or cached;
            implies `create=False`.
    Raises:
        DatabaseError: not a database, another program's database, unreachable server.
        SchemaTooNewError: written by a newer Zone; nothing is changed.
    """
    create = create and not readonly
    path = sqlite_path(url)
    where = str(path) if path is not None else _redact(url)
    if path is not None:
        _precheck_sqlite(path, create)
    try:
        if path is not None:
            return _open_sqlite(path, url, where, create, readonly)
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
            _install_sqlite_events(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _upgrade(engine, where, create=create, readonly=readonly)
    except (SchemaTooNewError, DatabaseError, NotFoundError):
        raise
    except sa_exc.ArgumentError as exc:
        raise DatabaseError(f"bad database URL {where!r}: {exc}") from None
    except sa_exc.DBAPIError as exc:
        if url.startswith("sqlite"):
            raise classify_sqlite_error(exc, where) from None
        raise DatabaseError(f"cannot open the database {where}: {one_line(exc)}") from None
    except sa_exc.NoSuchModuleError as exc:
        raise DatabaseError(f"cannot open the database {where}: {one_line(exc)}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(f"cannot open {where}: driver {exc.name!r} is not installed") from None
    return engine


def one_line(exc: BaseException) -> str:
    """Return the first line of a (DBAPI-wrapped) exception's message."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _redact(url: str) -> str:
    """Return `url` with any password replaced by ***."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported as is
        return url
