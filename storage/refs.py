"""Finding sessions and versions: refs (HEAD, branch, id prefix, ~N) and ancestor paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.text import short_id
from storage.errors import DamagedHistoryError, InvalidOperationError, NotFoundError
from storage.models import BranchRow, RenderCacheRow, SessionRow, VersionRow
from storage.names import BRANCH_NAME, VERSION_NUMBER, branch_name_problem  # noqa: F401 - re-exported

HEX_PREFIX = re.compile(r"^[0-9a-f]{4,32}$")
SHOWN_REF_CHARS = 60  # a ref quoted in a message is cut to this many characters


def _by_prefix(db: Session, model, prefix: str, session_id: Optional[str] = None) -> list:
    """Return up to two rows of `model` whose hex id starts with `prefix` (an index range scan)."""
    q = select(model).where(model.id >= prefix, model.id < prefix + "g")
    if session_id is not None:
        q = q.where(model.session_id == session_id)
    return list(db.execute(q.limit(2)).scalars())


def find_session(db: Session, ref: str) -> SessionRow:
    """Return the session whose id, unique id prefix (>= 4 hex digits) or unique name is `ref`.

    Raises:
        NotFoundError: nothing matches; InvalidOperationError: the prefix or name is ambiguous.
    """
    ref = (ref or "").strip()
    if not ref:
        raise NotFoundError("no session given")
    row = db.get(SessionRow, ref)
    if row is not None:
        return row
    if HEX_PREFIX.match(ref.lower()):
        rows = _by_prefix(db, SessionRow, ref.lower())
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise InvalidOperationError(f"session prefix {ref!r} is ambiguous; type more of the id")
    rows = list(db.execute(select(SessionRow).where(SessionRow.name == ref).limit(2)).scalars())
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise InvalidOperationError(f"several sessions are named {shown(ref)}; use the id (see `zone sessions`)")
    raise NotFoundError(f"no session matches {shown(ref)} (see `zone sessions`)")


def lock_session(db: Session, session_id: str) -> SessionRow:
    """Return the session row, locked for update where the database supports it."""
    row = db.execute(
        select(SessionRow).where(SessionRow.id == session_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no session {session_id!r}")
    return row


def get_version(db: Session, version_id: str) -> VersionRow:
    """Return a version row by exact id (NotFoundError when it is gone)."""
    row = db.get(VersionRow, version_id)
    if row is None:
        raise NotFoundError(f"no version {version_id!r}")
    return row


def shown(ref: str) -> str:
    """Return `ref` quoted for a message, cut to SHOWN_REF_CHARS (a hostile ref may be huge)."""
    return repr(ref if len(ref) <= SHOWN_REF_CHARS else ref[:SHOWN_REF_CHARS] + "...")


def split_ref(ref: str) -> tuple[str, list[int]]:
    """Split `name~2^~` into ("name", [2, 1, 1]): the base and each step back, in one linear scan.

    The scan goes from the end: `^` and `~` are one step, `~N` is N steps. The base keeps at
    least one character (`~~` is the base "~" one step back), as the old regex did.
    """
    ops: list[int] = []
    i = len(ref)
    while i > 1:
        ch = ref[i - 1]
        if ch == "^" or ch == "~":
            ops.append(1)
            i -= 1
            continue
        if ch.isdigit() and ch.isascii():
            j = i
            while j > 0 and ref[j - 1].isdigit() and ref[j - 1].isascii():
                j -= 1
            if j > 1 and ref[j - 1] == "~":
                ops.append(int(ref[j:i]) if i - j <= 18 else 10**18)
                i = j - 1
                continue
        break
    ops.reverse()
    return ref[:i], ops


def resolve(db: Session, session: SessionRow, ref: Optional[str]) -> VersionRow:
    """Return the version `ref` names in `session`.

    Args:
        ref: "HEAD", a branch name, a version id or unique prefix (>= 4 hex digits), any of them
            followed by `~N` (N parents back) or `^` (one back); None means HEAD.
    Raises:
        NotFoundError: nothing matches, or the steps go back past the original.
        DamagedHistoryError: a parent is missing or the parents form a cycle.
    """
    ref = "HEAD" if ref is None else ref.strip()
    if not ref:
        raise NotFoundError("no version given")
    base, ops = split_ref(ref)
    if base == "HEAD":
        version = get_version(db, session.head_version_id)
    else:
        version = _resolve_name(db, session, base)
    steps = sum(ops)
    if steps > version.depth:
        raise NotFoundError(f"{shown(ref)} goes back past the original")
    for _ in range(steps):
        if version.parent_id is None:
            raise NotFoundError(f"{shown(ref)} goes back past the original")
        parent = db.get(VersionRow, version.parent_id)
        if parent is None or parent.depth != version.depth - 1:
            raise damaged(db, session.id, version.id, version.parent_id, parent is None)
        version = parent
    return version


def next_number(db: Session, session_id: str) -> int:
    """Return the number the session's next version gets (one past the largest so far)."""
    q = select(func.max(VersionRow.number)).where(VersionRow.session_id == session_id)
    current = db.execute(q).scalar()
    return 0 if current is None else int(current) + 1


def by_number(db: Session, session: SessionRow, number: int) -> Optional[VersionRow]:
    """Return the session's version numbered `number`, or None."""
    q = select(VersionRow).where(VersionRow.session_id == session.id, VersionRow.number == number)
    return db.execute(q).scalar_one_or_none()


def _label(db: Session, version_id: Optional[str]) -> str:
    """`v7` for a version that exists, else the id's first 8 characters."""
    row = db.get(VersionRow, version_id) if version_id else None
    number = getattr(row, "number", None) if row is not None else None
    return f"v{number}" if number is not None else short_id(str(version_id))


def damaged(db: Session, session_id: str, at: str, parent_id: Optional[str], missing: bool) -> DamagedHistoryError:
    """The error for an inconsistent parent link, naming the versions by number (`v7`)."""
    what = (f"its parent {short_id(str(parent_id))} is missing" if missing
            else f"its parent {_label(db, parent_id)} does not lead back to the original (a cycle or a bad depth)")
    return DamagedHistoryError(f"the history of session {short_id(session_id)} is damaged at {_label(db, at)}: {what}")


def _resolve_name(db: Session, session: SessionRow, name: str) -> VersionRow:
    """Resolve a branch name, a version number (`v3`), a full version id or a unique id prefix."""
    branch = db.get(BranchRow, (session.id, name))
    if branch is not None:
        return get_version(db, branch.version_id)
    numbered = VERSION_NUMBER.match(name)
    if numbered:
        row = by_number(db, session, int(numbered.group(1)))
        if row is None:
            raise NotFoundError(f"no version {name} in session {short_id(session.id)}")
        return row
    row = db.get(VersionRow, name)
    if row is not None and row.session_id == session.id:
        return row
    if HEX_PREFIX.match(name.lower()):
        rows = _by_prefix(db, VersionRow, name.lower(), session.id)
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise InvalidOperationError(f"version prefix {shown(name)} is ambiguous; type more of the id")
    raise NotFoundError(f"no version or branch {shown(name)} in session {short_id(session.id)}")


@dataclass(frozen=True)
class PathStep:
    """One version on a path from the root: its layer (crop corner, NULL for a full plane),
    preview and cached render blobs (if any)."""

    id: str
    parent_id: Optional[str]
    depth: int
    layer_blob: Optional[str]
    layer_top: Optional[int]
    layer_left: Optional[int]
    preview_blob: Optional[str]
    cached_blob: Optional[str]


def ancestor_path(db: Session, version_id: str) -> list[PathStep]:
    """Return the versions from the root down to `version_id` (one recursive query).

    Each step up must lower `depth` by one, so the query ends even on a tampered database
    whose parents form a cycle; a path that does not reach the root raises DamagedHistoryError.
    """
    v = VersionRow
    cols = (v.id, v.parent_id, v.depth, v.layer_blob, v.layer_top, v.layer_left, v.preview_blob)
    anc = select(*cols).where(v.id == version_id).cte("anc", recursive=True)
    anc = anc.union_all(
        select(*cols)
        .join(anc, v.id == anc.c.parent_id)
        .where(v.depth == anc.c.depth - 1, anc.c.depth > 0)
    )
    q = (
        select(anc.c.id, anc.c.parent_id, anc.c.depth, anc.c.layer_blob, anc.c.layer_top,
               anc.c.layer_left, anc.c.preview_blob, RenderCacheRow.blob)
        .outerjoin(RenderCacheRow, RenderCacheRow.version_id == anc.c.id)
        .order_by(anc.c.depth)
    )
    path = [PathStep(*row) for row in db.execute(q).all()]
    _check_path(db, version_id, path)
    return path


def _check_path(db: Session, version_id: str, path: list[PathStep]) -> None:
    """Raise DamagedHistoryError unless `path` runs from a root (depth 0) down to `version_id`."""
    if not path:
        raise NotFoundError(f"no version {version_id!r}")
    top = path[0]
    if top.parent_id is None and top.depth == 0:
        return
    row = db.get(VersionRow, top.id)
    session_id = row.session_id if row is not None else "?"
    parent = db.get(VersionRow, top.parent_id) if top.parent_id is not None else None
    raise damaged(db, session_id, top.id, top.parent_id, missing=parent is None and top.parent_id is not None)


def branches_at(db: Session, version_id: str) -> list[BranchRow]:
    """Return the branches pointing at `version_id`, oldest first."""
    q = select(BranchRow).where(BranchRow.version_id == version_id)
    return list(db.execute(q.order_by(BranchRow.created_at, BranchRow.name)).scalars())


def branch_names(db: Session, session_id: str) -> dict[str, list[str]]:
    """Return {version id: [branch names]} for every branch of the session."""
    q = select(BranchRow.version_id, BranchRow.name).where(BranchRow.session_id == session_id)
    out: dict[str, list[str]] = {}
    for vid, name in db.execute(q.order_by(BranchRow.created_at, BranchRow.name)).all():
        out.setdefault(vid, []).append(name)
    return out


def pick_branch(db: Session, version_id: str, prefer: Optional[str]) -> Optional[str]:
    """Return the branch HEAD attaches to at `version_id`: `prefer` if it points there, else the oldest."""
    names = [b.name for b in branches_at(db, version_id)]
    if prefer in names:
        return prefer
    return names[0] if names else None


def check_branch_name(name: str) -> str:
    """Return `name` if it is a valid new branch name (`storage.names`), else raise InvalidOperationError."""
    problem = branch_name_problem(name)
    if problem:
        raise InvalidOperationError(problem)
    return name


AUTO_BRANCH_PREFIX = "branch-"


def auto_branch_name(db: Session, session_id: str) -> str:
    """Return the first free name branch-1, branch-2, ... (a commit on a version no branch points at)."""
    names = set(db.execute(select(BranchRow.name).where(
        BranchRow.session_id == session_id, BranchRow.name.like(f"{AUTO_BRANCH_PREFIX}%"))).scalars())
    n = 1
    while f"{AUTO_BRANCH_PREFIX}{n}" in names:
        n += 1
    return f"{AUTO_BRANCH_PREFIX}{n}"
