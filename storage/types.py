"""Plain records the history store returns: sessions, versions, branches, messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional


def as_utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime (SQLite hands back naive ones)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True)
class SessionInfo:
    """A session: one photo and its history."""

    id: str
    name: str
    source_path: Optional[str]
    width: int
    height: int
    created_at: datetime
    head_version_id: str
    head_branch: Optional[str]


@dataclass(frozen=True)
class VersionInfo:
    """One version of a session (the root, depth 0, is the untouched original)."""

    id: str
    session_id: str
    parent_id: Optional[str]
    instruction: str
    action: Optional[str]
    params: dict[str, Any]
    timings_ms: dict[str, Any]
    created_at: datetime
    branches: list[str] = field(default_factory=list)
    is_head: bool = False
    depth: int = 0
    number: int = 0

    @property
    def label(self) -> str:
        """The version's name for people: `v` and its number in the session (v0 is the original)."""
        return f"v{self.number}"

    @property
    def short_id(self) -> str:
        """The first 8 characters of the id (what people type)."""
        return self.id[:8]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-able dict (`parent` and `head` keys as `zone history --json` prints)."""
        data = asdict(self)
        data["parent"] = data.pop("parent_id")
        data["head"] = data.pop("is_head")
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class BranchInfo:
    """A movable name pointing at a version."""

    name: str
    version_id: str


@dataclass(frozen=True)
class MessageInfo:
    """One dialogue message, with the version it produced (if any)."""

    id: int
    role: str
    text: str
    version_id: Optional[str]
    created_at: datetime
    meta: Optional[dict[str, Any]] = None
