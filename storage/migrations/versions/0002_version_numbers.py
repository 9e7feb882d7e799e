"""Version numbers: each version gets a stable number within its session (v0 is the original).

Existing versions are numbered in creation order (the root first), so an old database shows the
same numbers every program derives from it from now on; new versions take the next free number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _backfill(conn: sa.Connection) -> None:
    """Number every version of every session in creation order (root = 0)."""
    versions = sa.table("versions", sa.column("id"), sa.column("session_id"), sa.column("depth"),
                        sa.column("created_at"), sa.column("number"))
    rows = conn.execute(
        sa.select(versions.c.id, versions.c.session_id).order_by(
            versions.c.session_id, versions.c.depth != 0, versions.c.created_at, versions.c.id)
    ).all()
    counters: dict[str, int] = {}
    for vid, sid in rows:
        n = counters.get(sid, 0)
        counters[sid] = n + 1
        conn.execute(sa.update(versions).where(versions.c.id == vid).values(number=n))


def upgrade() -> None:
    """Add versions.number, fill it, then index it unique per session.

    No table is rebuilt: on SQLite a batch rebuild drops the old table, and with foreign keys on
    that DROP cascades to branches, HEADs and messages. ADD COLUMN and CREATE INDEX rebuild nothing.
    """
    op.add_column("versions", sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
    _backfill(op.get_bind())
    op.create_index("uq_versions_session_id_number", "versions", ["session_id", "number"], unique=True)


def downgrade() -> None:
    """Drop the numbers (the ids still name every version)."""
    op.drop_index("uq_versions_session_id_number", table_name="versions")
    op.drop_column("versions", "number")
