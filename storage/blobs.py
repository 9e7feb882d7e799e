"""Content-addressed blobs: PNG encoding (exports), pixel decoding, SHA-256 addressing, verified reads and garbage collection."""

from __future__ import annotations

import hashlib
import io
from typing import Iterable

import numpy as np
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from storage.codec import decode_pixels
from storage.errors import CorruptBlobError
from storage.models import Blob, EditSourceRow, RenderCacheRow, SessionRow, VersionRow, utc_now

PNG_LEVEL = 3  # zlib level: lossless either way; 3 is ~3x faster than 6 and barely larger


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def encode_png(array: np.ndarray, *, level: int = PNG_LEVEL) -> bytes:
    """Encode an RGB/RGBA uint8 image or a bool mask (1-bit) as PNG bytes, losslessly.

    Args:
        array: [H, W, 3] or [H, W, 4] uint8, or [H, W] bool.
        level: zlib compression level 0-9.
    """
    from PIL import Image

    if array.ndim == 2 and array.dtype == np.bool_:
        img = Image.fromarray(np.ascontiguousarray(array).astype(np.uint8) * 255).convert("1", dither=Image.Dither.NONE)
    elif array.ndim == 3 and array.dtype == np.uint8 and array.shape[2] in (3, 4):
        img = Image.fromarray(np.ascontiguousarray(array))
    else:
        raise ValueError(f"cannot encode an array of shape {array.shape} and dtype {array.dtype}")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def decode_png(data: bytes, mode: str, label: str) -> np.ndarray:
    """Decode a stored image (ZPX1 or PNG) into an array: mode "RGB", "RGBA" or "1" (a bool mask).

    Raises:
        CorruptBlobError: the bytes are not an image of the expected mode.
    """
    return decode_pixels(data, mode, label)


def put_blob(db: Session, data: bytes, kind: str) -> str:
    """Store `data` once under its SHA-256 and return the address.

    An existing blob with that address is kept when intact and rewritten when damaged, so
    storing the same bytes again also repairs them.

    Args:
        db: an ORM session inside a write transaction.
        data: the bytes to store.
        kind: what they are ("original", "layer", "mask", "render", "canvas").
    """
    sha = sha256_hex(data)
    existing = db.execute(select(Blob.data).where(Blob.sha256 == sha)).scalar()
    if existing is not None:
        if sha256_hex(bytes(existing)) != sha:
            db.execute(update(Blob).where(Blob.sha256 == sha).values(data=data, size=len(data)))
        return sha
    values = {"sha256": sha, "kind": kind, "size": len(data), "data": data, "created_at": utc_now()}
    db.execute(_insert_ignoring_duplicates(db.get_bind().dialect.name), [values])
    return sha


_INSERTS: dict[str, object] = {}


def _insert_ignoring_duplicates(dialect: str):
    """Return a cached INSERT for blobs that skips an existing address (a concurrent writer's)."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            stmt = _INSERTS[dialect] = Blob.__table__.insert()
            return stmt
        stmt = _INSERTS[dialect] = insert(Blob).on_conflict_do_nothing(index_elements=["sha256"])
    return stmt


def get_blob(db: Session, sha: str, label: str = "blob") -> bytes:
    """Read a blob and check it against its address.

    Raises:
        CorruptBlobError: the blob is missing or its bytes no longer hash to `sha`.
    """
    data = db.execute(select(Blob.data).where(Blob.sha256 == sha)).scalar()
    if data is None:
        raise CorruptBlobError(f"stored {label} {sha[:12]} is missing from the database")
    data = bytes(data)
    if sha256_hex(data) != sha:
        raise CorruptBlobError(
            f"stored {label} {sha[:12]} is corrupted (its SHA-256 no longer matches); "
            "the database was damaged outside Zone"
        )
    return data


def read_rgb_or_none(db: Session, sha: str, kind: str, shape: tuple[int, ...]) -> "np.ndarray | None":
    """Return a stored RGB image of `shape` (h, w[, 3]), or None when it is damaged or of another size.

    For derived blobs (cached renders, previews) that are rebuilt rather than trusted when bad.
    """
    try:
        image = decode_png(get_blob(db, sha, kind), "RGB", kind)
    except CorruptBlobError:
        return None
    return image if image.shape[: len(shape)] == tuple(shape) else None


def blob_is_referenced(db: Session, sha: str) -> bool:
    """Return True when a session, a version or the render cache still points at blob `sha`."""
    q = select(
        exists().where(SessionRow.original_blob == sha)
        | exists().where(or_(VersionRow.layer_blob == sha, VersionRow.mask_blob == sha,
                             VersionRow.preview_blob == sha))
        | exists().where(RenderCacheRow.blob == sha)
        | exists().where(or_(EditSourceRow.canvas_blob == sha, EditSourceRow.rough_blob == sha,
                             EditSourceRow.refined_blob == sha))
    )
    return bool(db.execute(q).scalar())


def delete_unreferenced(db: Session, shas: Iterable[str]) -> int:
    """Delete those of `shas` that nothing references any more; return how many were deleted."""
    gone = 0
    for sha in set(s for s in shas if s):
        if not blob_is_referenced(db, sha):
            gone += db.execute(delete(Blob).where(Blob.sha256 == sha)).rowcount or 0
    return gone
