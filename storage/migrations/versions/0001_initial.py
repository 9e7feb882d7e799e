"""Initial schema: blobs, sessions, versions, branches, messages, render cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table (the sessions -> versions HEAD key is added last: the two are circular)."""
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("original_blob", sa.String(64), nullable=False),
        sa.Column("head_version_id", sa.String(32), nullable=True),
        sa.Column("head_branch", sa.String(255), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["original_blob"], ["blobs.sha256"],
            name="fk_sessions_original_blob_blobs", ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_sessions_original_blob", "sessions", ["original_blob"])
    op.create_table(
        "versions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("action", sa.String(32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("layer_blob", sa.String(64), nullable=True),
        sa.Column("mask_blob", sa.String(64), nullable=True),
        sa.Column("redo_child_id", sa.String(32), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"],
            name="fk_versions_session_id_sessions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["versions.id"],
            name="fk_versions_parent_id_versions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["redo_child_id"], ["versions.id"],
            name="fk_versions_redo_child_id_versions", ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["layer_blob"], ["blobs.sha256"],
            name="fk_versions_layer_blob_blobs", ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mask_blob"], ["blobs.sha256"],
            name="fk_versions_mask_blob_blobs", ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_versions_session_id_parent_id", "versions", ["session_id", "parent_id"])
    op.create_index("ix_versions_session_id_id", "versions", ["session_id", "id"])
    op.create_index("ix_versions_parent_id", "versions", ["parent_id"])
    op.create_index("ix_versions_layer_blob", "versions", ["layer_blob"])
    op.create_index("ix_versions_mask_blob", "versions", ["mask_blob"])
    op.create_table(
        "branches",
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "name", name="pk_branches"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"],
            name="fk_branches_session_id_sessions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"],
            name="fk_branches_version_id_versions", ondelete="CASCADE",
        ),
    )
    op.create_index("ix_branches_version_id", "branches", ["version_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"],
            name="fk_messages_session_id_sessions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"],
            name="fk_messages_version_id_versions", ondelete="SET NULL",
        ),
    )
    op.create_index("ix_messages_session_id", "messages", ["session_id"])
    op.create_index("ix_messages_version_id", "messages", ["version_id"])
    op.create_table(
        "render_cache",
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("blob", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_render_cache"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"],
            name="fk_render_cache_version_id_versions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blob"], ["blobs.sha256"],
            name="fk_render_cache_blob_blobs", ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_render_cache_blob", "render_cache", ["blob"])
    with op.batch_alter_table("sessions") as batch:
        batch.create_foreign_key(
            "fk_sessions_head_version_id_versions", "versions",
            ["head_version_id"], ["id"], ondelete="SET NULL",
        )


def downgrade() -> None:
    """Drop every table."""
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint("fk_sessions_head_version_id_versions", type_="foreignkey")
    for table in ("render_cache", "messages", "branches", "versions", "sessions", "blobs"):
        op.drop_table(table)
