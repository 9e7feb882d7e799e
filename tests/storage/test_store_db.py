"""Opening databases: URLs, XDG default, WAL and foreign keys, migrations, and refusing bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storehelp import make_image
from storage import db as dbmod
from storage.config import default_db_url, sqlite_path, to_url
from storage.errors import DatabaseError, NotFoundError, SchemaTooNewError
from storage.history import HistoryStore


def test_default_url_order(monkeypatch, tmp_path):
    monkeypatch.delenv("ZONE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'xdg' / 'zone' / 'zone.db'}"
    monkeypatch.setenv("ZONE_DB", str(tmp_path / "env.db"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'env.db'}"
    assert default_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert default_db_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    assert sqlite_path(to_url(tmp_path / "x.db")) == tmp_path / "x.db"
    assert sqlite_path("postgresql://h/db") is None


def test_default_location_is_created(monkeypatch, tmp_path):
    monkeypatch.delenv("ZONE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with HistoryStore() as store:
        store.create_session(make_image(), name="a")
    assert (tmp_path / "xdg" / "zone" / "zone.db").is_file()


def test_sqlite_pragmas(tmp_path):
    store = HistoryStore(tmp_path / "z.db")
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


def test_head_revision_matches_migrations(tmp_path):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(dbmod.MIGRATIONS_DIR))
    assert script.get_current_head() == dbmod.HEAD_REVISION
    HistoryStore(tmp_path / "z.db").close()
    con = sqlite3.connect(tmp_path / "z.db")
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(dbmod.HEAD_REVISION,)]


def test_migration_matches_models(db_url):
    """The tables the migration creates are exactly what the ORM models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    store = HistoryStore(db_url)
    with store._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def _snapshot(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.name.startswith(path.name)}


def test_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "z.db"
    HistoryStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    before = _snapshot(path)
    with pytest.raises(SchemaTooNewError, match="newer than this Zone"):
        HistoryStore(path)
    assert _snapshot(path) == before


def test_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "photo.db"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is a JPEG, not a database" * 20)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not a Zone database"):
        HistoryStore(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["photo.db"]


def test_other_programs_sqlite_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="another program"):
        HistoryStore(path)
    assert path.read_bytes() == before


def test_missing_file_without_create(tmp_path):
    with pytest.raises(NotFoundError, match="no history database"):
        HistoryStore(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_unreachable_server_is_one_line():
    with pytest.raises(DatabaseError) as info:
        HistoryStore("postgresql+psycopg://nobody@127.0.0.1:1/zone")
    assert "\n" not in str(info.value)


def test_foreign_keys_enforced(tmp_path):
    from sqlalchemy.exc import IntegrityError

    from storage.models import BranchRow

    store = HistoryStore(tmp_path / "z.db")
    s = store.create_session(make_image(), name="a")
    with pytest.raises(IntegrityError):
        with store._engine.begin() as conn:
            conn.execute(BranchRow.__table__.insert().values(
                session_id=s.id, name="dangling", version_id="f" * 32, created_at=s.created_at))
    store.close()
