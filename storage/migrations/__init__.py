"""Alembic migrations of the history schema (run programmatically by storage.db)."""
