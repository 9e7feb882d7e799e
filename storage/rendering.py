"""Rendering versions (original + layers on the path) with a verified render cache, and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.safe_write import FORCE_HINT
from storage import layers, refs
from storage.blobs import decode_png, delete_unreferenced, encode_png, get_blob, put_blob
from storage.errors import CorruptBlobError, InvalidOperationError, StorageError
from storage.export import (IMAGE_SUFFIXES, OraLayer, build_ora, check_suffix, check_writable, encode_jpeg,
                            encode_mask_png, write_atomic)
from storage.layer_store import path_rows
from storage.models import RenderCacheRow, VersionRow

RENDER_CACHE_PER_SESSION = 32  # most recently rendered versions kept per session
RENDER_PNG_LEVEL = 1  # the cache favours speed; renders are lossless either way


class RenderMixin:
    """Pixel access for HistoryStore: original, layer, mask, render (cached) and export."""

    # -- pixels ---------------------------------------------------------------------------------

    def original(self, session_id: str) -> np.ndarray:
        """Return the session's original photo, [H, W, 3] uint8, verified against its SHA-256."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            return np.array(self._decode_original(db, session))

    def layer(self, session_id: str, ref: str = "HEAD") -> Optional[np.ndarray]:
        """Return the RGBA layer [H, W, 4] uint8 of a version (None for the original).

        For a layer operation: its target's layer as the operation left it (moved, scaled,
        reshaped, opacity folded into alpha; visible or not).
        """
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.op is None:
                if version.layer_blob is None:
                    return None
                return decode_png(get_blob(db, version.layer_blob, "layer"), "RGBA", "layer")
            placed = self._own_layer(db, session, version)
            return None if placed is None else layers.placed_full(placed, session.height, session.width)

    def mask(self, session_id: str, ref: str = "HEAD") -> Optional[np.ndarray]:
        """Return the edit mask [H, W] bool of a version (None for the original).

        For a layer operation: the region its target's layer covers after it (moved with the layer).
        """
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.op is None:
                if version.mask_blob is None:
                    return None
                return decode_png(get_blob(db, version.mask_blob, "mask"), "1", "mask")
            placed = self._own_layer(db, session, version)
            return None if placed is None else layers.placed_mask(placed, session.height, session.width)

    def render(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        """Return a version's composite [H, W, 3] uint8: the original with its layer stack drawn.

        The stack (storage/layers.py) is every edit on the path, as layer operations left it. A
        cached render is one verified read; otherwise composition starts from the deepest cached
        ancestor whose stack is a prefix of this one, and the result is cached for next time.
        """
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.depth == 0:
                return np.array(self._decode_original(db, session))
            remembered = self.pixels.get(("render", version.id))
            if remembered is not None:
                return np.array(remembered)
            cached = db.get(RenderCacheRow, version.id)
            if cached is not None:
                image = self._decode_cached(db, cached.blob, session)
                if image is not None:
                    kept = np.array(image)
                    kept.flags.writeable = False
                    self.pixels.put(("render", version.id), kept, kept.nbytes)
                    return image
            path = refs.ancestor_path(db, version.id)
            snapshots = layers.fold(path_rows(db, version.id))
            final = snapshots[-1]
            done, image = 0, None
            for i in range(len(path) - 2, 0, -1):  # the deepest ancestor whose stack is a prefix of ours
                prefix = snapshots[i]
                if final[:len(prefix)] != prefix:
                    continue
                image = self.pixels.get(("render", path[i].id))  # in memory: no decoding at all
                if image is None and path[i].cached_blob:
                    image = self._decode_cached(db, path[i].cached_blob, session)
                if image is not None:
                    done = len(prefix)
                    break
            if image is None:
                image = self._decode_original(db, session)
            image = np.array(image)  # a fresh array to draw on (cached arrays are read-only)
            for entry in final[done:]:
                if entry.visible and entry.opacity > 0:
                    layers.compose_placed(image, self._load_placed(db, entry))
            session_key, version_key, is_op = session.id, version.id, version.op is not None
        image.flags.writeable = False
        self.pixels.put(("render", version_key), image, image.nbytes)
        if not is_op:  # a layer operation recomposes from its cached prefix: no 3 B/px blob per operation
            self._cache_render(session_key, version_key, image)
        return np.array(image)

    def _own_layer(self, db: Session, session, version) -> Optional[layers.PlacedLayer]:
        """The placed layer a version stands for: its edit's, or its target's as the operation left it."""
        if version.op is None:
            if version.layer_blob is None:
                return None
            return layers.PlacedLayer(decode_png(get_blob(db, version.layer_blob, "layer"), "RGBA", "layer"))
        target = (version.op_args or {}).get("target")
        stack = layers.fold(path_rows(db, version.id))[-1]
        entry = next((e for e in stack if e.edit_id == target), None)
        return None if entry is None else self._load_placed(db, entry)

    def _decode_original(self, db: Session, session) -> np.ndarray:
        """The original, decoded once per process (a read-only array: copy before drawing on it)."""

        def make() -> np.ndarray:
            image = decode_png(get_blob(db, session.original_blob, "original"), "RGB", "original")
            if image.shape != (session.height, session.width, 3):
                raise CorruptBlobError(f"stored original of session {session.id[:8]} has the wrong size")
            image.flags.writeable = False
            return image

        return self.pixels.get_or_make(("original", session.original_blob), make, lambda a: a.nbytes)

    @staticmethod
    def _decode_cached(db: Session, sha: str, session) -> Optional[np.ndarray]:
        """Return a cached render, or None when the cache entry is damaged (it is then rebuilt)."""
        try:
            image = decode_png(get_blob(db, sha, "render"), "RGB", "render")
        except CorruptBlobError:
            return None
        return image if image.shape == (session.height, session.width, 3) else None

    def _cache_render(self, session_id: str, version_id: str, image: np.ndarray) -> None:
        """Cache a render (best effort: a busy or read-only database just skips it)."""
        if getattr(self, "readonly", False):
            return
        data = encode_png(image, level=RENDER_PNG_LEVEL)
        try:
            with self._write() as db:
                if db.get(VersionRow, version_id) is None:
                    return
                old = db.get(RenderCacheRow, version_id)
                stale = {old.blob} if old is not None else set()
                if old is not None:
                    db.delete(old)
                    db.flush()
                db.add(RenderCacheRow(version_id=version_id, blob=put_blob(db, data, "render")))
                db.flush()
                stale |= self._trim_cache(db, session_id)
                delete_unreferenced(db, stale)
        except StorageError as exc:  # counted, so tests can tell a skipped cache write
            self.cache_write_failures = getattr(self, "cache_write_failures", 0) + 1
            self.last_cache_error = str(exc)

    @staticmethod
    def _trim_cache(db: Session, session_id: str) -> set[str]:
        """Drop the oldest cached renders beyond RENDER_CACHE_PER_SESSION; return their blobs."""
        q = (select(RenderCacheRow.version_id, RenderCacheRow.blob)
             .join(VersionRow, VersionRow.id == RenderCacheRow.version_id)
             .where(VersionRow.session_id == session_id)
             .order_by(RenderCacheRow.created_at.desc(), RenderCacheRow.version_id)
             .offset(RENDER_CACHE_PER_SESSION))
        old = db.execute(q).all()
        if old:
            db.execute(delete(RenderCacheRow).where(RenderCacheRow.version_id.in_([v for v, _ in old])))
        return {b for _, b in old}

    @staticmethod
    def _cached_blobs(db: Session, session_id: str) -> set[str]:
        q = (select(RenderCacheRow.blob).join(VersionRow, VersionRow.id == RenderCacheRow.version_id)
             .where(VersionRow.session_id == session_id))
        return set(db.execute(q).scalars())

    # -- export ---------------------------------------------------------------------------------

    def export(self, session_id: str, ref: str, path: str | Path, *, mask: bool = False,
               force: bool = False, hint: str = FORCE_HINT) -> Path:
        """Write a version to `path`: `.png`/`.jpg`/`.jpeg` composite, or `.ora` layered file.

        Args:
            ref: the version (None or "HEAD" for HEAD).
            path: the output file; its suffix picks the format. Written atomically (common.safe_write).
            mask: write the version's edit mask instead (PNG only).
            force: replace an existing file (the session's own source photo included).
            hint: what the refusal of an existing file tells the user.
        Raises:
            common.safe_write.OutputExistsError: `path` exists and `force` is False.
        """
        suffix = check_suffix(Path(path), (".png",) if mask else IMAGE_SUFFIXES)
        path = check_writable(Path(path), force=force, hint=hint)
        self.resolve(session_id, ref or "HEAD")  # unknown refs fail before any work
        if mask:
            data = self.mask(session_id, ref or "HEAD")
            if data is None:
                raise InvalidOperationError("the original has no mask; pick an edited version")
            return write_atomic(path, encode_mask_png(data), force=force, hint=hint)
        if suffix == ".ora":
            return write_atomic(path, self._ora_bytes(session_id, ref or "HEAD"), force=force, hint=hint)
        image = self.render(session_id, ref or "HEAD")
        data = encode_png(image, level=6) if suffix == ".png" else encode_jpeg(image)
        return write_atomic(path, data, force=force, hint=hint)

    def _ora_bytes(self, session_id: str, ref: str) -> bytes:
        """Return the OpenRaster archive of a version: the original plus one layer per edit in its stack,
        each cropped to its bounding box at its x/y offset, with its visibility and opacity."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            original = self._decode_original(db, session)
            out = []
            for depth, entry in enumerate(layers.fold(path_rows(db, version.id))[-1], start=1):
                placed = self._load_placed(db, entry)
                label = (entry.instruction or entry.action or "edit").strip().replace("\n", " ")[:100]
                out.append(OraLayer(name=f"{depth}: {label}", rgba=placed.rgba, x=placed.x, y=placed.y,
                                    opacity=placed.opacity, visible=placed.visible))
            name = session.name
        composite = self.render(session_id, version.id)
        return build_ora(original, out, composite, original_name=f"original: {name}"[:100])
