"""HEAD moves: an append-only log of where HEAD has been; redo is derived from it.

Until now redo read `versions.redo_child_id`, which commit, undo and undo-all rewrote. From this
revision version rows are never changed after they are written: each HEAD move appends a row to
`head_moves` (`storage.reflog`). The old column stays in place, unused (dropping it would rebuild
the table on SQLite, and that DROP cascades through the foreign keys to branches and HEADs).

Backfill: one "migrated" move per version whose redo_child_id is set, so redo after the upgrade
goes where it went before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _backfill(conn: sa.Connection) -> None:
    """One move (version -> its redo child) per version that had a redo pointer."""
    versions = sa.table("versions", sa.column("id"), sa.column("session_id"), sa.column("redo_child_id"),
                        sa.column("created_at"))
    moves = sa.table("head_moves", sa.column("session_id"), sa.column("kind"), sa.column("from_version_id"),
                     sa.column("to_version_id"), sa.column("created_at"))
    rows = conn.execute(
        sa.select(versions.c.session_id, versions.c.id, versions.c.redo_child_id, versions.c.created_at)
        .where(versions.c.redo_child_id.is_not(None)).order_by(versions.c.created_at, versions.c.id)
    ).all()
    for sid, vid, child, created in rows:
        conn.execute(sa.insert(moves).values(session_id=sid, kind="migrated", from_version_id=vid,
                                             to_version_id=child, created_at=created))


def upgrade() -> None:
    """Create head_moves (with its indexes) and fill it from the redo pointers; rebuild nothing."""
    op.create_table(
        "head_moves",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_version_id", sa.String(32), nullable=True),
        sa.Column("to_version_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name="fk_head_moves_session_id_sessions",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_version_id"], ["versions.id"],
                                name="fk_head_moves_from_version_id_versions", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_version_id"], ["versions.id"],
                                name="fk_head_moves_to_version_id_versions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_head_moves"),
    )
    op.create_index("ix_head_moves_session_id_id", "head_moves", ["session_id", "id"])
    op.create_index("ix_head_moves_from_version_id", "head_moves", ["from_version_id"])
    op.create_index("ix_head_moves_to_version_id", "head_moves", ["to_version_id"])
    _backfill(op.get_bind())


def downgrade() -> None:
    """Drop the log (redo_child_id was never dropped, but is stale for moves made since 0005)."""
    op.drop_table("head_moves")
