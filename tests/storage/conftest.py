"""Fixtures for the storage tests: a fresh database per test (SQLite, and PostgreSQL on request)."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("ZONE_TEST_PG_URL", "").strip()
TABLES = ("edit_sources", "render_cache", "messages", "branches", "versions", "sessions", "blobs", "alembic_version")


def reset_postgres(url: str) -> None:
    """Drop every Zone table so a test starts from an empty PostgreSQL database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS " + ", ".join(TABLES) + " CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A URL of an empty database: an SQLite file, or ZONE_TEST_PG_URL (emptied first)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'zone.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL: set ZONE_TEST_PG_URL to run the storage tests against it")
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def store(db_url):
    """An open HistoryStore on a fresh database."""
    from storage.history import HistoryStore

    s = HistoryStore(db_url)
    yield s
    s.close()
