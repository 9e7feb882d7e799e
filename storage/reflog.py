"""Where HEAD has been (git's reflog): an append-only log of HEAD moves, from which redo is derived.

Version rows never change once written; undo, redo, undo-all, checkout and commit each append
one row per step HEAD takes. "Redo" from a version V goes to the child of V that the newest
redo-relevant move (commit, undo, undo_all, redo, migrated) joined to V: the child last committed
on V, or the one HEAD last came back from. A checkout is logged but leaves redo as it was.
"""

from __future__ import annotations

from typing import Optional, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import HeadMoveRow, VersionRow

# Moves that say "this child continues this version's line" (migrated: backfilled by 0005).
REDO_KINDS = ("commit", "undo", "undo_all", "redo", "migrated")
KINDS = (*REDO_KINDS, "checkout")


def record(db: Session, session_id: str, kind: str, from_id: Optional[str], to_id: str) -> None:
    """Append one HEAD move.

    Args:
        kind: one of KINDS.
        from_id: the version HEAD left (for a commit: the parent it was committed on).
        to_id: the version HEAD went to.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown HEAD move {kind!r}")
    db.add(HeadMoveRow(session_id=session_id, kind=kind, from_version_id=from_id, to_version_id=to_id))


def record_path(db: Session, session_id: str, kind: str, path: Sequence[str]) -> None:
    """Append one move per step along `path` (version ids, in the order HEAD passes them)."""
    for a, b in zip(path, path[1:]):
        record(db, session_id, kind, a, b)


def redo_child(db: Session, session_id: str, version_id: str) -> Optional[str]:
    """The child of `version_id` that redo goes to, or None when there is none."""
    child = aliased(VersionRow)
    move = HeadMoveRow
    q = (select(child.id).select_from(move)
         .join(child, or_(child.id == move.from_version_id, child.id == move.to_version_id))
         .where(move.session_id == session_id, move.kind.in_(REDO_KINDS), child.parent_id == version_id,
                or_(move.from_version_id == version_id, move.to_version_id == version_id))
         .order_by(move.id.desc()).limit(1))
    return db.execute(q).scalar()


def moves(db: Session, session_id: str) -> list[tuple[str, Optional[str], str]]:
    """The session's HEAD moves, oldest first, as (kind, from id, to id)."""
    q = select(HeadMoveRow.kind, HeadMoveRow.from_version_id, HeadMoveRow.to_version_id).where(
        HeadMoveRow.session_id == session_id).order_by(HeadMoveRow.id)
    return [(k, f, t) for k, f, t in db.execute(q).all()]
