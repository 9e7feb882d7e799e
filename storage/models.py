"""SQLAlchemy 2.0 table models of the history: blobs, sessions, versions, branches, messages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LEN = 32  # uuid4().hex
SHA_LEN = 64  # hex SHA-256


def utc_now() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic migrations rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Blob(Base):
    """Content-addressed bytes (PNG images, layers, masks, cached renders)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(SHA_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class SessionRow(Base):
    """One photo being edited: its original, its HEAD and (through versions) its history."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_blob: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="RESTRICT"), index=True
    )
    head_version_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    head_branch: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class VersionRow(Base):
    """One state of a session: the parent's state plus one RGBA layer (none for the root)."""

    __tablename__ = "versions"
    __table_args__ = (
        Index("ix_versions_session_id_parent_id", "session_id", "parent_id"),
        Index("ix_versions_session_id_id", "session_id", "id"),  # id-prefix lookups
        Index("uq_versions_session_id_number", "session_id", "number", unique=True),
    )

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    parent_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    instruction: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    layer_blob: Mapped[Optional[str]] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="RESTRICT"), nullable=True, index=True
    )
    mask_blob: Mapped[Optional[str]] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="RESTRICT"), nullable=True, index=True
    )
    # Unused since revision 0005 (redo comes from the head_moves log; version rows never change).
    # Kept, not dropped: dropping a column on SQLite rebuilds the table, and that DROP cascades.
    redo_child_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), nullable=True
    )
    # Where the stored layer and mask crops sit in the photo (revision 0004). NULL: a full-size
    # plane (what Zones before 0004 stored); otherwise both are crops with this top-left corner.
    layer_top: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    layer_left: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    # The version's composite at preview size (long side PREVIEW_SIDE): the view and the next
    # turn's work image come from it. NULL until derived (versions written before 0004).
    preview_blob: Mapped[Optional[str]] = mapped_column(String(SHA_LEN), nullable=True, index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Stable within the session: 0 is the original, then creation order. Never renumbered.
    number: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # A layer operation (hide, show, opacity, move, scale, reshape; None for an edit or the root)
    # and its arguments (the target edit's id, the value); see storage/layers.py. Migration 0003.
    op: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    op_args: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    parent: Mapped[Optional["VersionRow"]] = relationship(
        remote_side=[id], foreign_keys=[parent_id], lazy="raise"
    )


class EditSourceRow(Base):
    """What a later reshape needs of an edit, at work size: I_sty, M_b, M_f and the mask parameters.

    Written for engine edits and for reshape operations (their new work-size mask is `refined`).
    Versions written before migration 0003 have no row; their region cannot be reshaped.
    """

    __tablename__ = "edit_sources"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    canvas_blob: Mapped[str] = mapped_column(ForeignKey("blobs.sha256", ondelete="RESTRICT"), index=True)
    rough_blob: Mapped[Optional[str]] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="RESTRICT"), nullable=True, index=True
    )
    refined_blob: Mapped[Optional[str]] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="RESTRICT"), nullable=True, index=True
    )
    mask_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class BranchRow(Base):
    """A movable name pointing at a version of a session."""

    __tablename__ = "branches"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class MessageRow(Base):
    """One dialogue message of a session, with the version it produced (if any)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class HeadMoveRow(Base):
    """One step HEAD took (append-only, like git's reflog); redo is derived from it (`storage.reflog`)."""

    __tablename__ = "head_moves"
    __table_args__ = (Index("ix_head_moves_session_id_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    from_version_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    to_version_id: Mapped[str] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RenderCacheRow(Base):
    """The composite of a version, cached as a blob (verified by its SHA-256 on read)."""

    __tablename__ = "render_cache"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    blob: Mapped[str] = mapped_column(ForeignKey("blobs.sha256", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
