"""What one conversational turn reads and writes: its context in one read, its messages in one write."""

from __future__ import annotations

from sqlalchemy import select

from common.text import storable
from storage import refs
from storage.models import MessageRow, VersionRow
from storage.types import MessageInfo, NewMessage, TurnContextInfo


class TurnMixin:
    """`turn_context` and `add_messages` for HistoryStore (uses its `_read`, `_write` and converters)."""

    def turn_context(self, session_id: str) -> TurnContextInfo:
        """Return HEAD, its parent, that parent's children and the edit count, in one read."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            head = refs.get_version(db, session.head_version_id)
            rows = [head]
            if head.parent_id is not None:
                rows += list(db.execute(select(VersionRow).where(
                    (VersionRow.id == head.parent_id) | (VersionRow.parent_id == head.parent_id))).scalars())
            names = refs.branch_names(db, session.id)
            infos = {r.id: self._to_info(r, names, session.head_version_id) for r in rows}
            siblings = sorted((v for v in infos.values() if head.parent_id and v.parent_id == head.parent_id),
                              key=lambda v: v.number)
            info = TurnContextInfo(session=self._session_info(session), head=infos[head.id],
                                   head_parent=infos.get(head.parent_id) if head.parent_id else None,
                                   siblings=siblings, edits=refs.next_number(db, session.id) - 1)
        self._sizes[info.session.id] = (info.session.height, info.session.width)
        return info

    def add_messages(self, session_id: str, messages: list[NewMessage]) -> list[MessageInfo]:
        """Store several dialogue messages, in order, in one write transaction (as `add_message` each)."""
        from storage.history import _jsonable  # noqa: PLC0415 - history imports this module
        with self._write() as db:
            session = refs.find_session(db, session_id)
            rows = []
            for m in messages:
                vid = refs.resolve(db, session, m.version_id).id if m.version_id is not None else None
                rows.append(MessageRow(session_id=session.id, version_id=vid, role=m.role, text=storable(m.text),
                                       meta=_jsonable(m.meta) if m.meta is not None else None))
                db.add(rows[-1])
                db.flush()
            return [self._message_info(r) for r in rows]
