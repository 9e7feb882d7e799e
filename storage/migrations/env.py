"""Alembic environment: runs migrations on the connection storage.db hands over."""

from __future__ import annotations

from alembic import context

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on `config.attributes["connection"]` (set by storage.db)."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("storage migrations run through storage.db.open_engine, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
