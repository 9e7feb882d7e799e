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
    op: Optional[str] = None  # a layer operation (hide, show, opacity, move, scale, reshape), None for an edit
    op_args: dict[str, Any] = field(default_factory=dict)

    @property
    def is_layer_op(self) -> bool:
        """True for a version that changes an earlier edit's layer instead of editing the photo."""
        return self.op is not None

    @property
    def label(self) -> str:
        """The version's name for people: `v` and its number in the session (v0 is the original)."""
        return f"v{self.number}"

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


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a version's stack, bottom-most first (see storage/layers.py).

    index: 1-based position in the stack ("the second edit" is index 2).
    """

    index: int
    edit_id: str
    number: int
    instruction: str
    action: Optional[str]
    visible: bool
    opacity: float
    dx: int
    dy: int
    scale: float
    source_id: str
    reshapeable: bool = False  # the edit's I_sty is stored (edits made before migration 0003 have none)

    @property
    def label(self) -> str:
        return f"v{self.number}"


@dataclass
class EditSources:
    """What a later reshape of an edit needs, at work size (the engine's own arrays).

    canvas: [h, w, 3] uint8, I_sty. rough: [h, w] bool, M_b. refined: [h, w] bool, M_f (for a
    reshape operation: its new work-size mask). mask_params: JSON-able parameters of the final mask
    (dilation, edge alpha, smoother threshold, ...).
    """

    canvas: Any
    rough: Any = None
    refined: Any = None
    mask_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewMessage:
    """A dialogue message to store (`HistoryStore.add_messages`)."""

    role: str
    text: str
    version_id: Optional[str] = None
    meta: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class TurnContextInfo:
    """What one conversational turn needs from the history, read in one transaction.

    Args:
        session: the session.
        head: the version HEAD points at.
        head_parent: HEAD's parent (None at the original): "instead" and "try again" edit it.
        siblings: the children of HEAD's parent, HEAD included (their seeds pick a new one).
        edits: how many versions the session has besides the original.
    """

    session: SessionInfo
    head: VersionInfo
    head_parent: Optional[VersionInfo]
    siblings: list[VersionInfo]
    edits: int
