"""Layers you can talk to: layer operations as versions, and the sources a reshape needs.

Adds `versions.op` and `versions.op_args` (a version that hides, fades, moves, scales or
reshapes an earlier edit's layer) and the `edit_sources` table (I_sty, M_b and M_f at work size
and the final mask's parameters, content-addressed in `blobs`). Old versions keep op NULL and
have no sources: they render exactly as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """ADD COLUMN and CREATE TABLE only: no table is rebuilt (see 0002 for why)."""
    op.add_column("versions", sa.Column("op", sa.String(32), nullable=True))
    op.add_column("versions", sa.Column("op_args", sa.JSON(), nullable=True))
    op.create_table(
        "edit_sources",
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("canvas_blob", sa.String(64), nullable=False),
        sa.Column("rough_blob", sa.String(64), nullable=True),
        sa.Column("refined_blob", sa.String(64), nullable=True),
        sa.Column("mask_params", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_edit_sources"),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"],
                                name="fk_edit_sources_version_id_versions", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["canvas_blob"], ["blobs.sha256"],
                                name="fk_edit_sources_canvas_blob_blobs", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["rough_blob"], ["blobs.sha256"],
                                name="fk_edit_sources_rough_blob_blobs", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["refined_blob"], ["blobs.sha256"],
                                name="fk_edit_sources_refined_blob_blobs", ondelete="RESTRICT"),
    )
    op.create_index("ix_edit_sources_canvas_blob", "edit_sources", ["canvas_blob"])
    op.create_index("ix_edit_sources_rough_blob", "edit_sources", ["rough_blob"])
    op.create_index("ix_edit_sources_refined_blob", "edit_sources", ["refined_blob"])


def downgrade() -> None:
    """Drop the sources and the operation columns (layer-op versions then render as their parent)."""
    op.drop_index("ix_edit_sources_refined_blob", table_name="edit_sources")
    op.drop_index("ix_edit_sources_rough_blob", table_name="edit_sources")
    op.drop_index("ix_edit_sources_canvas_blob", table_name="edit_sources")
    op.drop_table("edit_sources")
    op.drop_column("versions", "op_args")
    op.drop_column("versions", "op")
