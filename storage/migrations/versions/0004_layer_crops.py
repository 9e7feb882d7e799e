"""Layer crops and previews: a version's layer and mask may be stored as a bounding-box crop.

`versions.layer_top` / `layer_left` give the crop's top-left corner in the photo; NULL keeps the
old meaning (full-size planes), so every version written before this revision renders exactly as
before. `versions.preview_blob` addresses the version's composite at preview size (NULL until it
is derived). Nothing is rewritten.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add three nullable columns and an index; no table is rebuilt (see 0002 for why; never batch_alter_table on SQLite)."""
    op.add_column("versions", sa.Column("layer_top", sa.Integer(), nullable=True))
    op.add_column("versions", sa.Column("layer_left", sa.Integer(), nullable=True))
    op.add_column("versions", sa.Column("preview_blob", sa.String(64), nullable=True))
    op.create_index("ix_versions_preview_blob", "versions", ["preview_blob"])


def downgrade() -> None:
    """Only for databases without crops: a crop read as a full plane would be wrong."""
    op.drop_index("ix_versions_preview_blob", table_name="versions")
    op.drop_column("versions", "preview_blob")
    op.drop_column("versions", "layer_left")
    op.drop_column("versions", "layer_top")
