"""The history store: sessions of versions (one RGBA layer each) with HEAD, branches, undo and redo."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from common.text import storable
from storage import reflog, refs
from storage.blobs import delete_unreferenced, put_blob
from storage.codec import encode_pixels
from storage.config import default_db_url, sqlite_path
from storage.db import WRITE_OPTION, classify_sqlite_error, one_line, open_engine
from storage.errors import DatabaseError, InvalidOperationError, NotFoundError, StorageError
from storage.crops import LayerCrop, crop_layer, downsize, preview_hw
from storage.models import BranchRow, MessageRow, SessionRow, VersionRow
from storage.layer_store import LayerMixin, encode_sources, source_blobs, store_sources
from storage.pixel_cache import PixelCache
from storage.rendering import RenderMixin
from storage.turns import TurnMixin
from storage.types import BranchInfo, EditSources, MessageInfo, SessionInfo, VersionInfo, as_utc

DEFAULT_BRANCH = "main"


def new_id() -> str:
    """Return a fresh 32-hex-digit id."""
    return uuid.uuid4().hex


def _jsonable(value: Any) -> Any:
    """Return `value` as plain JSON data (numpy scalars and arrays become numbers and lists)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON-serializable")

    try:
        return json.loads(json.dumps(value if value is not None else {}, default=default))
    except (TypeError, ValueError) as exc:
        raise InvalidOperationError(f"parameters cannot be stored: {exc}") from None


@dataclass(frozen=True)
class EncodedLayer:
    """A layer and mask tightened to their box and encoded, ready for `_insert_version`.

    Args:
        crop: the crop (full-resolution coordinates).
        layer_data, mask_data: its ZPX1 blobs.
        given_hw: the height and width the caller passed (for error messages).
    """

    crop: LayerCrop
    layer_data: bytes
    mask_data: bytes
    given_hw: list


class HistoryStore(LayerMixin, TurnMixin, RenderMixin):
    """Versioned layer history in an SQL database (SQLite or PostgreSQL).

    Args:
        url: an SQLAlchemy URL or a file path; None uses `$ZONE_DB`, else SQLite in the XDG
            data folder. The schema is upgraded to the newest revision on open.
        create: when False, a missing SQLite file raises NotFoundError instead of being created.
        readonly: open for reading only (SQLite `mode=ro`; works on a read-only mount); nothing
            is created, initialised or cached, and writes raise DatabaseError.
    """

    def __init__(self, url: str | None = None, *, create: bool = True, readonly: bool = False) -> None:
        self.url = default_db_url(url)
        self.readonly = readonly
        self._where = str(sqlite_path(self.url) or "the history database")
        self._engine = open_engine(self.url, create=create, readonly=readonly)
        self._write_engine = self._engine.execution_options(**{WRITE_OPTION: True})
        self._pixel_cache = PixelCache()  # decoded pixels of this process (storage/pixel_cache.py)
        self._sizes: dict[str, tuple[int, int]] = {}  # session id -> (height, width); never changes

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only transaction (a consistent snapshot; never takes the write lock)."""
        try:
            with Session(self._engine, expire_on_commit=False) as db:
                yield db
        except sa_exc.DBAPIError as exc:
            raise self._db_error(exc) from None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: committed at the end of the block, rolled back on any error."""
        if self.readonly:
            raise DatabaseError(f"{self._where} is open read-only; nothing can be changed")
        try:
            with Session(self._write_engine, expire_on_commit=False) as db, db.begin():
                yield db
        except sa_exc.DBAPIError as exc:
            raise self._db_error(exc) from None

    def _db_error(self, exc: sa_exc.DBAPIError) -> DatabaseError:
        """A one-line DatabaseError for SQLite's (or the server's) error, classified by its code."""
        if self.url.startswith("sqlite"):
            return classify_sqlite_error(exc, self._where)
        return DatabaseError(f"database error: {one_line(exc)}")

    # -- sessions -------------------------------------------------------------------------------

    def create_session(self, image: np.ndarray, *, name: str, source_path: str | None = None) -> SessionInfo:
        """Create a session from an RGB image; its root version is the original, on branch main.

        Args:
            image: [H, W, 3] uint8 at full resolution.
            name: a label for people (usually the file name).
            source_path: where the photo came from, if anywhere.
        """
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
            raise InvalidOperationError(f"a session needs an [H, W, 3] uint8 image, got {image.shape} {image.dtype}")
        data = encode_pixels(image)
        preview = downsize(image, preview_hw(*image.shape[:2]))
        preview_data = encode_pixels(preview)
        sid, vid = new_id(), new_id()
        with self._write() as db:
            sha = put_blob(db, data, "original")
            source = storable(source_path) if source_path else None
            session = SessionRow(id=sid, name=storable(name), source_path=source, width=image.shape[1],
                                 height=image.shape[0], original_blob=sha)
            db.add(session)
            db.flush()
            db.add(VersionRow(id=vid, session_id=sid, parent_id=None, instruction="", action=None,
                              params={}, timings={}, depth=0, number=0,
                              preview_blob=put_blob(db, preview_data, "preview")))
            db.flush()
            db.add(BranchRow(session_id=sid, name=DEFAULT_BRANCH, version_id=vid))
            session.head_version_id, session.head_branch = vid, DEFAULT_BRANCH
            db.flush()
            info = self._session_info(session)
        image = self.pixels.keep(("original", sha), image)
        self.pixels.keep(("render", vid), image)  # the root's render is the original
        self.pixels.keep(("preview", vid), preview)
        return info

    def get_session(self, ref: str) -> SessionInfo:
        """Return the session whose id, unique id prefix or unique name is `ref`."""
        with self._read() as db:
            return self._session_info(refs.find_session(db, ref))

    def list_sessions(self) -> list[SessionInfo]:
        """Return every session, oldest first."""
        with self._read() as db:
            rows = db.execute(select(SessionRow).order_by(SessionRow.created_at, SessionRow.id)).scalars()
            return [self._session_info(r) for r in rows]

    def version_counts(self) -> dict[str, int]:
        """Return {session id: number of versions, the root included}."""
        with self._read() as db:
            q = select(VersionRow.session_id, func.count()).group_by(VersionRow.session_id)
            return {sid: int(n) for sid, n in db.execute(q).all()}

    def delete_session(self, session_id: str) -> None:
        """Delete a session, its versions, branches, messages and every blob only it used."""
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            shas = {session.original_blob}
            for layer, mask, preview in db.execute(
                select(VersionRow.layer_blob, VersionRow.mask_blob, VersionRow.preview_blob)
                .where(VersionRow.session_id == session.id)
            ).all():
                shas.update((layer, mask, preview))
            shas.update(self._cached_blobs(db, session.id))
            shas.update(source_blobs(db, session.id))
            session.head_version_id = None
            db.flush()
            db.execute(delete(SessionRow).where(SessionRow.id == session.id))
            db.expunge_all()
            delete_unreferenced(db, shas)

    # -- moving HEAD ----------------------------------------------------------------------------

    def head(self, session_id: str) -> VersionInfo:
        """Return the version HEAD points at."""
        return self.resolve(session_id, "HEAD")

    def resolve(self, session_id: str, ref: str | None = "HEAD") -> VersionInfo:
        """Return the version a ref (HEAD, branch, id or prefix, optional ~N) names."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            return self._version_info(db, session, refs.resolve(db, session, ref))

    def commit(self, session_id: str, *, layer: np.ndarray, mask: np.ndarray, instruction: str,
               action: str | None, params: dict | None = None, timings_ms: dict | None = None,
               parent: str | None = None, sources: EditSources | None = None,
               offset: tuple[int, int] | None = None, composite: np.ndarray | None = None) -> VersionInfo:
        """Record one edit as a new version and move HEAD to it, in one write transaction.

        The new version's parent is `parent` (a ref) or HEAD. If a branch points at the parent
        it moves to the new version (HEAD's own branch first); otherwise a new branch named
        `branch-N` is created there, so no line of history is ever left without a name.

        The layer and mask are stored as the crop around their visible pixels, with its
        corner; the version's preview is derived from the parent's. Nothing full-size is written.

        Args:
            layer: [H, W, 4] uint8 RGBA at the session's resolution (alpha 0 = unchanged), or, with
                `offset`, a crop of it whose top-left pixel is at `offset`.
            mask: [H, W] bool, the edited region (the crop's size with `offset`).
            instruction: what the user asked for.
            action: "add", "remove", "change" or None.
            params: JSON-able engine parameters (seed, steps, scales, beta, engine, model ids).
            timings_ms: per-stage timings in milliseconds.
            parent: the ref to commit on; None is HEAD.
            sources: I_sty, M_b, M_f at work size and the mask parameters, so the region can be
                reshaped later without the models (None: not reshapeable).
            offset: (top, left) of a crop; None: `layer` and `mask` are full-size planes.
            composite: the engine's [H, W, 3] composite of this version, byte-identical to what
                `render` computes (the engine and storage share the formula); kept in memory as
                the version's render. Not changed afterwards by the caller.
        """
        encoded = self._encode_layer(session_id, layer, mask, offset)
        if composite is not None:
            composite = np.asarray(composite)
            shape = self._size(session_id) + (3,)
            if composite.shape != shape or composite.dtype != np.uint8:
                raise InvalidOperationError(f"the composite must be {list(shape)} uint8, got {list(composite.shape)}")
        src = encode_sources(sources) if sources is not None else None
        fields = dict(instruction=instruction or "", action=action, params=_jsonable(params),
                      timings=_jsonable(timings_ms))
        return self._insert_version(session_id, parent, fields, encoded, src, composite=composite)

    def _encode_layer(self, session_id: str, layer: np.ndarray, mask: np.ndarray,
                      offset: tuple[int, int] | None = None) -> EncodedLayer:
        """Check a layer and mask (full planes, or a crop at `offset`), tighten them to their box, encode them.

        The blobs are in the ZPX1 codec (`storage.codec`); nothing full-size is written.
        """
        layer, mask = np.asarray(layer), np.asarray(mask)
        if offset is None:
            height, width = self._size(session_id)
            if layer.shape != (height, width, 4) or layer.dtype != np.uint8:
                raise InvalidOperationError(
                    f"the layer must be [{height}, {width}, 4] uint8, got {list(layer.shape)} {layer.dtype}")
            if mask.shape != (height, width):
                raise InvalidOperationError(f"the mask must be [{height}, {width}], got {list(mask.shape)}")
            top, left = 0, 0
        else:
            if layer.ndim != 3 or layer.shape[2] != 4 or layer.dtype != np.uint8 or 0 in layer.shape:
                raise InvalidOperationError(f"a layer crop must be [h, w, 4] uint8, got {list(layer.shape)} {layer.dtype}")
            if mask.shape != layer.shape[:2]:
                raise InvalidOperationError(f"the mask must be {list(layer.shape[:2])} like the crop, got {list(mask.shape)}")
            top, left = (int(v) for v in offset)
        crop = crop_layer(layer, mask, top, left)
        return EncodedLayer(crop, encode_pixels(crop.rgba), encode_pixels(crop.mask), list(layer.shape[:2]))

    def _insert_version(self, session_id: str, parent: str | None, fields: dict,
                        encoded: EncodedLayer | None, sources: dict | None,
                        check: Callable[[Session, SessionRow, VersionRow], None] | None = None,
                        composite: np.ndarray | None = None) -> VersionInfo:
        """Add a version on `parent` (a ref; None is HEAD) in one write transaction and move HEAD to it.

        Args:
            fields: VersionRow columns (instruction, action, params, timings, op, op_args).
            encoded: the layer crop and its blobs (`_encode_layer`), or None for a version without
                its own layer.
            sources: encoded EditSources (see `encode_sources`), or None.
            check: called with (db, session, parent row) before anything is written; may raise.
            composite: the version's render, kept in memory (see `commit`).
        """
        preview = None
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            crop = encoded.crop if encoded is not None else None
            if crop is not None and (crop.top < 0 or crop.left < 0 or crop.bottom > session.height
                                     or crop.right > session.width):
                raise InvalidOperationError(
                    f"a layer crop at ({crop.top}, {crop.left}) of {encoded.given_hw} does not fit the "
                    f"{session.height}x{session.width} photo")
            base = refs.resolve(db, session, parent)
            if check is not None:
                check(db, session, base)
            blobs: dict[str, Any] = {}
            if encoded is not None:
                blobs = dict(layer_blob=put_blob(db, encoded.layer_data, "layer"),
                             mask_blob=put_blob(db, encoded.mask_data, "mask"),
                             layer_top=crop.top, layer_left=crop.left)
                if fields.get("op") is None:  # an edit: its preview is the parent's plus its crop
                    preview = self._child_preview(db, session, base.id, crop)
                    if preview is not None:
                        blobs["preview_blob"] = put_blob(db, encode_pixels(preview), "preview")
            fields = {**fields, "instruction": storable(fields.get("instruction") or "")}
            version = VersionRow(id=new_id(), session_id=session.id, parent_id=base.id, depth=base.depth + 1,
                                 number=refs.next_number(db, session.id), **blobs, **fields)
            db.add(version)
            db.flush()
            if sources is not None:
                store_sources(db, version.id, sources)
            reflog.record(db, session.id, "commit", base.id, version.id)
            tips = refs.branches_at(db, base.id)
            prefer = session.head_branch if base.id == session.head_version_id else None
            branch = next((b for b in tips if b.name == prefer), tips[0] if tips else None)
            if branch is None:
                branch = BranchRow(session_id=session.id, name=refs.auto_branch_name(db, session.id),
                                   version_id=version.id)
                db.add(branch)
            branch.version_id = version.id
            session.head_version_id, session.head_branch = version.id, branch.name
            db.flush()
            info = self._version_info(db, session, version)
        if preview is not None:
            self.pixels.keep(("preview", info.id), preview)
        if composite is not None:
            self.pixels.keep(("render", info.id), composite)
        return info

    def _size(self, session_id: str) -> tuple[int, int]:
        """Return a session's (height, width), read once per process."""
        size = self._sizes.get(session_id)
        if size is None:
            info = self.get_session(session_id)
            size = (info.height, info.width)
            self._sizes[info.id] = size  # by id only: a name may later name another session
        return size

    def undo(self, session_id: str) -> VersionInfo:
        """Move HEAD to its parent (nothing is deleted; `redo` comes back along this line)."""
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            head = refs.get_version(db, session.head_version_id)
            if head.parent_id is None:
                raise InvalidOperationError("nothing to undo: HEAD is the original")
            parent = refs.get_version(db, head.parent_id)
            reflog.record(db, session.id, "undo", head.id, parent.id)
            return self._move_head(db, session, parent, prefer=session.head_branch)

    def redo(self, session_id: str) -> VersionInfo:
        """Move HEAD forward to the child it last came back from (or was last committed on)."""
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            child_id = reflog.redo_child(db, session.id, session.head_version_id)
            if child_id is None:
                raise InvalidOperationError("nothing to redo: HEAD has no later version")
            child = refs.get_version(db, child_id)
            reflog.record(db, session.id, "redo", session.head_version_id, child.id)
            return self._move_head(db, session, child, prefer=session.head_branch)

    def undo_all(self, session_id: str) -> VersionInfo:
        """Move HEAD to the original; `redo` then replays the whole line one version at a time."""
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            path = refs.ancestor_path(db, session.head_version_id)
            reflog.record_path(db, session.id, "undo_all", [step.id for step in reversed(path)])
            root = refs.get_version(db, path[0].id)
            return self._move_head(db, session, root, prefer=session.head_branch)

    def checkout(self, session_id: str, ref: str) -> VersionInfo:
        """Move HEAD to a version or a branch (attached to the branch when `ref` names one)."""
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            target = refs.resolve(db, session, ref)
            is_branch = db.get(BranchRow, (session.id, ref.strip())) is not None
            if target.id != session.head_version_id:
                reflog.record(db, session.id, "checkout", session.head_version_id, target.id)
            return self._move_head(db, session, target, prefer=ref.strip() if is_branch else None)

    def branch(self, session_id: str, name: str, at: str | None = None) -> BranchInfo:
        """Create branch `name` at `at` (a ref), or at HEAD and attach HEAD to it when `at` is None."""
        refs.check_branch_name(name)
        with self._write() as db:
            session = refs.lock_session(db, refs.find_session(db, session_id).id)
            if db.get(BranchRow, (session.id, name)) is not None:
                raise InvalidOperationError(f"branch {name!r} already exists")
            target = refs.resolve(db, session, at)
            db.add(BranchRow(session_id=session.id, name=name, version_id=target.id))
            if at is None:
                session.head_branch = name
            db.flush()
            return BranchInfo(name=name, version_id=target.id)

    def _move_head(self, db: Session, session: SessionRow, target: VersionRow,
                   prefer: Optional[str]) -> VersionInfo:
        """Point HEAD at `target`, attached to a branch there if there is one."""
        session.head_version_id = target.id
        session.head_branch = refs.pick_branch(db, target.id, prefer)
        db.flush()
        return self._version_info(db, session, target)

    # -- reading history ------------------------------------------------------------------------

    def log(self, session_id: str, ref: str = "HEAD") -> list[VersionInfo]:
        """Return the versions from the root (the original) down to `ref`."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            target = refs.resolve(db, session, ref)
            ids = [step.id for step in refs.ancestor_path(db, target.id)]
            rows = {r.id: r for r in db.execute(select(VersionRow).where(VersionRow.id.in_(ids))).scalars()}
            names = refs.branch_names(db, session.id)
            return [self._to_info(rows[i], names, session.head_version_id) for i in ids]

    def tree(self, session_id: str) -> list[VersionInfo]:
        """Return every version of the session, parents before children (by depth, then time)."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            q = select(VersionRow).where(VersionRow.session_id == session.id)
            rows = db.execute(q.order_by(VersionRow.depth, VersionRow.created_at, VersionRow.id)).scalars()
            names = refs.branch_names(db, session.id)
            return [self._to_info(r, names, session.head_version_id) for r in rows]

    def head_moves(self, session_id: str) -> list[tuple[str, Optional[str], str]]:
        """Where HEAD has been, oldest first: (kind, from version id, to version id) per step."""
        with self._read() as db:
            return reflog.moves(db, refs.find_session(db, session_id).id)

    def branches(self, session_id: str) -> list[BranchInfo]:
        """Return the session's branches, oldest first."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            q = select(BranchRow).where(BranchRow.session_id == session.id)
            rows = db.execute(q.order_by(BranchRow.created_at, BranchRow.name)).scalars()
            return [BranchInfo(name=b.name, version_id=b.version_id) for b in rows]

    # -- messages -------------------------------------------------------------------------------

    def add_message(self, session_id: str, role: str, text: str, version_id: str | None = None,
                    meta: dict | None = None) -> MessageInfo:
        """Store one dialogue message (`role` e.g. "user" or "assistant") with its version."""
        with self._write() as db:
            session = refs.find_session(db, session_id)
            if version_id is not None:
                version_id = refs.resolve(db, session, version_id).id
            row = MessageRow(session_id=session.id, version_id=version_id, role=role, text=storable(text),
                             meta=_jsonable(meta) if meta is not None else None)
            db.add(row)
            db.flush()
            return self._message_info(row)

    def messages(self, session_id: str) -> list[MessageInfo]:
        """Return the session's messages in the order they were added."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            q = select(MessageRow).where(MessageRow.session_id == session.id).order_by(MessageRow.id)
            return [self._message_info(r) for r in db.execute(q).scalars()]

    # -- conversions ----------------------------------------------------------------------------

    @staticmethod
    def _session_info(row: SessionRow) -> SessionInfo:
        return SessionInfo(id=row.id, name=row.name, source_path=row.source_path, width=row.width,
                           height=row.height, created_at=as_utc(row.created_at),
                           head_version_id=row.head_version_id, head_branch=row.head_branch)

    @staticmethod
    def _to_info(row: VersionRow, names: dict[str, list[str]], head_id: str) -> VersionInfo:
        return VersionInfo(id=row.id, session_id=row.session_id, parent_id=row.parent_id,
                           instruction=row.instruction, action=row.action, params=dict(row.params or {}),
                           timings_ms=dict(row.timings or {}), created_at=as_utc(row.created_at),
                           branches=list(names.get(row.id, [])), is_head=row.id == head_id, depth=row.depth,
                           number=row.number, op=row.op, op_args=dict(row.op_args or {}))

    def _version_info(self, db: Session, session: SessionRow, row: VersionRow) -> VersionInfo:
        names = {row.id: [b.name for b in refs.branches_at(db, row.id)]}
        return self._to_info(row, names, session.head_version_id)

    @staticmethod
    def _message_info(row: MessageRow) -> MessageInfo:
        return MessageInfo(id=row.id, role=row.role, text=row.text, version_id=row.version_id,
                           created_at=as_utc(row.created_at), meta=row.meta)


__all__ = ["HistoryStore", "StorageError", "NotFoundError"]
