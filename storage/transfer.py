"""Moving a whole session between databases: a batch worker's scratch store -> the one history DB.

A `SessionBundle` is plain, picklable data (rows as dicts, blobs as bytes), so a worker process or
a Ray actor can return it to the driver, which alone writes it with `load_session` in ONE
transaction: the session appears complete, with the same ids, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select

from common.text import short_id
from storage.blobs import get_blob, put_blob
from storage.errors import InvalidOperationError
from storage.models import BranchRow, EditSourceRow, HeadMoveRow, MessageRow, SessionRow, VersionRow
from storage.types import SessionInfo

MARKER_ROLE = "system"  # the role of the message that marks a session as complete (see `mark_complete`)


@dataclass
class SessionBundle:
    """One session's rows and blobs.

    Args:
        session: the session row's columns.
        versions: version rows, parents before children.
        branches: branch rows.
        messages: message rows in order (without their database ids).
        sources: edit-source rows (what a later reshape of a version needs).
        head_moves: the HEAD moves (reflog) in order, from which redo is derived.
        blobs: {sha256: (kind, bytes)} for the original, every layer, mask and preview (revision
            0004: layers and masks are crops at `layer_top`/`layer_left`, carried as columns).
    """

    session: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)
    branches: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    head_moves: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.session["id"]

    def nbytes(self) -> int:
        """Bytes of blob data the bundle carries."""
        return sum(len(data) for _, data in self.blobs.values())


# every column, so a migration that adds one (like 0002's version numbers) is carried along
_SESSION_COLS = tuple(c.key for c in SessionRow.__table__.columns)
_VERSION_COLS = tuple(c.key for c in VersionRow.__table__.columns if c.key != "session_id")
_SOURCE_COLS = tuple(c.key for c in EditSourceRow.__table__.columns)
_SOURCE_BLOBS = ("canvas_blob", "rough_blob", "refined_blob")


def dump_session(store: Any, session_id: str) -> SessionBundle:
    """Read one session of `store` (a HistoryStore) into a bundle.

    Args:
        store: the HistoryStore holding the session.
        session_id: its id, id prefix or name.
    """
    from storage import refs

    with store._read() as db:
        row = refs.find_session(db, session_id)
        session = {c: getattr(row, c) for c in _SESSION_COLS}
        versions = [
            {c: getattr(v, c) for c in _VERSION_COLS}
            for v in db.execute(select(VersionRow).where(VersionRow.session_id == row.id)
                                .order_by(VersionRow.depth, VersionRow.created_at, VersionRow.id)).scalars()
        ]
        branches = [
            {"name": b.name, "version_id": b.version_id, "created_at": b.created_at}
            for b in db.execute(select(BranchRow).where(BranchRow.session_id == row.id)
                                .order_by(BranchRow.created_at, BranchRow.name)).scalars()
        ]
        messages = [
            {"version_id": m.version_id, "role": m.role, "text": m.text, "meta": m.meta, "created_at": m.created_at}
            for m in db.execute(select(MessageRow).where(MessageRow.session_id == row.id)
                                .order_by(MessageRow.id)).scalars()
        ]
        head_moves = [
            {"kind": m.kind, "from_version_id": m.from_version_id, "to_version_id": m.to_version_id,
             "created_at": m.created_at}
            for m in db.execute(select(HeadMoveRow).where(HeadMoveRow.session_id == row.id)
                                .order_by(HeadMoveRow.id)).scalars()
        ]
        ids = [v["id"] for v in versions]
        sources = [
            {c: getattr(r, c) for c in _SOURCE_COLS}
            for r in db.execute(select(EditSourceRow).where(EditSourceRow.version_id.in_(ids))
                                .order_by(EditSourceRow.version_id)).scalars()
        ] if ids else []
        blobs: dict[str, tuple[str, bytes]] = {row.original_blob: ("original", get_blob(db, row.original_blob, "original"))}
        wanted = [(v[f"{kind}_blob"], kind) for v in versions for kind in ("layer", "mask", "preview")]
        wanted += [(src[c], "source") for src in sources for c in _SOURCE_BLOBS]
        for sha, kind in wanted:
            if sha and sha not in blobs:
                blobs[sha] = (kind, get_blob(db, sha, kind))
    return SessionBundle(session=session, versions=versions, branches=branches, messages=messages,
                         sources=sources, head_moves=head_moves, blobs=blobs)


def load_session(store: Any, bundle: SessionBundle, marker: Optional[dict[str, Any]] = None) -> SessionInfo:
    """Write a bundle into `store` in one transaction, keeping every id; optionally mark it complete.

    Args:
        store: the destination HistoryStore.
        bundle: what `dump_session` returned (possibly in another process or on another machine).
        marker: when given, a `MARKER_ROLE` message with meta `{"replay": marker}` is added in the
            same transaction (see `completed_replays`).

    Raises:
        InvalidOperationError: the destination already has a session with this id.
    """
    s = bundle.session
    with store._write() as db:
        if db.get(SessionRow, s["id"]) is not None:
            raise InvalidOperationError(f"session {short_id(s['id'])} is already in {store.url}")
        for sha, (kind, data) in bundle.blobs.items():
            if put_blob(db, data, kind) != sha:
                raise InvalidOperationError(f"blob {sha[:12]} of session {short_id(s['id'])} does not match its address")
        row = SessionRow(**{c: s[c] for c in _SESSION_COLS if c != "head_version_id"}, head_version_id=None)
        db.add(row)
        db.flush()
        for v in bundle.versions:  # parents come first; redo pointers are set once every row exists
            db.add(VersionRow(session_id=row.id, **{c: v[c] for c in _VERSION_COLS if c != "redo_child_id"}))
            db.flush()
        for v in bundle.versions:
            if v["redo_child_id"]:
                db.get(VersionRow, v["id"]).redo_child_id = v["redo_child_id"]
        for src in getattr(bundle, "sources", []):
            db.add(EditSourceRow(**src))
        for move in getattr(bundle, "head_moves", []):  # in order: redo follows the newest move
            db.add(HeadMoveRow(session_id=row.id, **move))
        for b in bundle.branches:
            db.add(BranchRow(session_id=row.id, **b))
        for m in bundle.messages:
            db.add(MessageRow(session_id=row.id, **m))
        if marker is not None:
            db.add(_marker_row(row.id, s["head_version_id"], marker))
        row.head_version_id = s["head_version_id"]
        db.flush()
        return store._session_info(row)


def mark_complete(store: Any, session_id: str, marker: dict[str, Any]) -> None:
    """Add the completion marker to a session written in place (a worker writing to PostgreSQL)."""
    with store._write() as db:
        row = db.get(SessionRow, session_id)
        if row is None:
            raise InvalidOperationError(f"no session {session_id!r} to mark complete")
        db.add(_marker_row(row.id, row.head_version_id, marker))


def _marker_row(session_id: str, version_id: Optional[str], marker: dict[str, Any]) -> MessageRow:
    turns = marker.get("turns", "?")
    text = f"Replay of {marker.get('script', 'a script')} complete ({turns} turns)."
    return MessageRow(session_id=session_id, version_id=version_id, role=MARKER_ROLE, text=text,
                      meta={"replay": dict(marker)})


def completed_replays(store: Any) -> dict[str, str]:
    """Return {replay key: session id} for every session carrying a completion marker."""
    found: dict[str, str] = {}
    with store._read() as db:
        rows = db.execute(select(MessageRow.session_id, MessageRow.meta).where(MessageRow.role == MARKER_ROLE)
                          .order_by(MessageRow.id)).all()
    for session_id, meta in rows:
        key = (meta or {}).get("replay", {}).get("key") if isinstance(meta, dict) else None
        if isinstance(key, str):
            found[key] = session_id
    return found
