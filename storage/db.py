"""Opening the history database: URL checks, SQLite pragmas, transactions and Alembic upgrades."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc

from storage.config import sqlite_path
from storage.errors import DatabaseError, NotFoundError, SchemaTooNewError

# The newest revision this program ships; a test checks it against the migrations folder.
HEAD_REVISION = "0002"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
OUR_TABLES = frozenset({"blobs", "sessions", "versions", "branches", "messages", "render_cache"})
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "zone_write"


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
    """Inspect an SQLite file read-only before anything writes to it (pragmas, migrations)."""
    if not path.exists():
        if not create:
            raise NotFoundError(f"no history database at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
        return
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not magic:
        return  # an empty file: SQLite treats it as a new database
    if magic != SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a Zone database (not an SQLite file)")
    try:
        # immutable: read without creating -wal/-shm files; a stale view only delays the checks
        # to _upgrade, which repeats them on a real connection before writing anything
        uri = path.resolve().as_uri() + "?immutable=1"
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)) as con:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            current = None
            if "alembic_version" in tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                current = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a usable Zone database ({exc})") from None
    user_tables = {t for t in tables if not t.startswith("sqlite_")}
    if current is None and user_tables and not user_tables <= OUR_TABLES | {"alembic_version"}:
        raise DatabaseError(f"{path} is an SQLite database of another program, not a Zone database")
    _check_revision(current, str(path))


def _install_sqlite_events(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; BEGIN IMMEDIATE for writers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001 - sqlalchemy Connection
        # A writer takes the write lock up front: a deferred transaction that upgrades from
        # reader to writer fails at once with "database is locked" instead of waiting.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _current_revision(conn) -> str | None:  # noqa: ANN001 - sqlalchemy Connection
    """Return the Alembic revision stored in the database (None when it has none)."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(engine: Engine, where: str) -> None:
    """Bring the schema to HEAD_REVISION in one write transaction (no-op when already there)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        current = _current_revision(conn)
        present = set(inspect(conn).get_table_names()) & OUR_TABLES if current is None else set()
    if current == HEAD_REVISION:
        return
    _check_revision(current, where)
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


def open_engine(url: str, *, create: bool = True) -> Engine:
    """Return an Engine on `url` with the schema at HEAD_REVISION, upgrading it if older.

    Args:
        url: an SQLAlchemy URL (see `storage.config.default_db_url`).
        create: when False, a missing SQLite file raises NotFoundError instead of being created.
    Raises:
        DatabaseError: not a database, another program's database, unreachable server.
        SchemaTooNewError: written by a newer Zone; nothing is changed.
    """
    path = sqlite_path(url)
    where = str(path) if path is not None else _redact(url)
    if path is not None:
        _precheck_sqlite(path, create)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
            _install_sqlite_events(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _upgrade(engine, where)
    except (SchemaTooNewError, DatabaseError):
        raise
    except sa_exc.ArgumentError as exc:
        raise DatabaseError(f"bad database URL {where!r}: {exc}") from None
    except (sa_exc.DBAPIError, sa_exc.NoSuchModuleError) as exc:
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
