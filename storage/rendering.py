"""Rendering versions (the original with the version's layer stack drawn), the in-memory and
database render caches, and exports.

A version's render is its layer stack (`storage.layers`: folded from the versions on its path,
each layer an RGBA crop at x, y with an opacity and a visibility). Where a render starts, cheapest
first: the in-memory cache (`HistoryStore.pixels`: the engine's composite of a new version, or an
earlier render in this process); the deepest ancestor, cached in memory or in the database, whose
stack is a prefix of this one; the original. Only the crops of the layers after that point are
decoded and composed, and only inside their box.

The database render cache is written only for an edit (never a layer operation) whose render
composed more layer pixels than the photo has (CACHE_AREA_FACTOR): decoding a cached render costs
about as much as decoding the original, so caching a render that composed a small crop would only
cost a full-size write (about 150 ms and 10 MB at 12 MP; BENCHMARKS.md). A commit never writes one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.safe_write import FORCE_HINT
from common.text import short_id
from storage import layers, refs
from storage.blobs import decode_png, delete_unreferenced, get_blob, put_blob, read_rgb_or_none
from storage.codec import encode_pixels
from storage.crops import LayerCrop, crop_layer
from storage.errors import CorruptBlobError, InvalidOperationError, StorageError
from storage.export import (IMAGE_SUFFIXES, OraLayer, build_ora, check_suffix, check_writable, encode_jpeg,
                            encode_mask_png, write_atomic)
from storage.layer_store import path_rows
from storage.models import RenderCacheRow, VersionRow
from storage.png import encode_png_fast
from storage.previews import PreviewMixin

RENDER_CACHE_PER_SESSION = 32  # most recently rendered versions kept per session (database)
CACHE_AREA_FACTOR = 1.0  # cache a render in the database when it composed more than this many photos' area


class RenderMixin(PreviewMixin):
    """Pixel access for HistoryStore: original, layer, mask, render (cached) and export.

    Needs `self._read`, `self._write` and `self.pixels` (a `storage.pixel_cache.PixelCache`).
    """

    # -- pixels ---------------------------------------------------------------------------------

    def original(self, session_id: str) -> np.ndarray:
        """Return the session's original photo, [H, W, 3] uint8 (read-only), verified against its SHA-256."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            return self._decode_original(db, session)

    def layer_crop(self, session_id: str, ref: str = "HEAD") -> Optional[LayerCrop]:
        """Return a version's own layer and mask as stored, inside their bounding box.

        None for the original and for a layer operation without its own layer (a reshape has one).
        """
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.layer_blob is None:
                return None
            return self._read_crop(db, version, with_mask=True)

    def layer(self, session_id: str, ref: str = "HEAD") -> Optional[np.ndarray]:
        """Return the RGBA layer [H, W, 4] uint8 of a version (None for the original); zeros outside its crop.

        For a layer operation: its target's layer as the operation left it (moved, scaled,
        reshaped, opacity folded into alpha; visible or not).
        """
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.op is None:
                if version.layer_blob is None:
                    return None
                return self._read_crop(db, version).full_planes(session.height, session.width)[0]
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
                return self._read_crop(db, version, with_mask=True).full_planes(session.height, session.width)[1]
            placed = self._own_layer(db, session, version)
            return None if placed is None else layers.placed_mask(placed, session.height, session.width)

    def render(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        """Return a version's composite [H, W, 3] uint8: the original with its layer stack drawn.

        The caller gets its own array (a copy of the cached one; `_render_in` hands out the
        read-only cached array itself). Starts from the nearest version cached in memory or in the database whose stack is a
        prefix of this one; the result is kept in memory, and in the database when it took a lot
        of composition (see the module doc).
        """
        hit = self.pixels.get(("render", ref))  # a version id seen in this process
        if hit is None:
            with self._read() as db:
                session = refs.find_session(db, session_id)
                version = refs.resolve(db, session, ref)
                hit = self._render_in(db, session, version)
        return np.array(hit)

    def _render_in(self, db: Session, session, version) -> np.ndarray:
        """`render` inside an open read transaction (exports and the turn context use it too)."""
        hit = self.pixels.get(("render", version.id))
        if hit is not None:
            return hit
        if version.depth == 0:
            return self._decode_original(db, session)
        path = refs.ancestor_path(db, version.id)
        snapshots = layers.fold(path_rows(db, version.id))
        final = snapshots[-1]
        done, image = 0, None
        for i in range(len(path) - 1, 0, -1):  # the deepest version whose stack is a prefix of ours
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
        composed = 0
        if done < len(final):
            image = np.array(image, dtype=np.uint8, copy=True)  # cached arrays are read-only
            for entry in final[done:]:
                if entry.visible and entry.opacity > 0:
                    placed = self._load_placed(db, entry)
                    layers.compose_placed(image, placed)
                    composed += placed.rgba.shape[0] * placed.rgba.shape[1]
        image = self.pixels.keep(("render", version.id), image)
        if version.op is None and composed > CACHE_AREA_FACTOR * session.width * session.height:
            self._cache_render(session.id, version.id, image)  # a layer operation never writes one
        return image

    def _own_layer(self, db: Session, session, version) -> Optional[layers.PlacedLayer]:
        """The placed layer a version stands for: its edit's, or its target's as the operation left it."""
        if version.op is None:
            if version.layer_blob is None:
                return None
            return self._layer_crop(db, version.layer_blob, version.layer_top, version.layer_left)
        target = (version.op_args or {}).get("target")
        stack = layers.fold(path_rows(db, version.id))[-1]
        entry = next((e for e in stack if e.edit_id == target), None)
        return None if entry is None else self._load_placed(db, entry)

    def _read_crop(self, db: Session, row: Any, with_mask: bool = False) -> LayerCrop:
        """Decode a version's layer (a `VersionRow` or a `refs.PathStep`) as a crop.

        Full planes written before revision 0004 (layer_top NULL) are tightened to their box.
        """
        rgba = decode_png(get_blob(db, row.layer_blob, "layer"), "RGBA", "layer")
        mask = None
        if with_mask:
            mask_blob = row.mask_blob if hasattr(row, "mask_blob") else refs.get_version(db, row.id).mask_blob
            mask = decode_png(get_blob(db, mask_blob, "mask"), "1", "mask")
            if mask.shape != rgba.shape[:2]:
                raise CorruptBlobError(f"stored mask of version {short_id(row.id)} does not match its layer")
        if row.layer_top is None:
            return crop_layer(rgba, mask if mask is not None else np.zeros(rgba.shape[:2], np.bool_))
        return LayerCrop(rgba, mask if mask is not None else np.zeros(rgba.shape[:2], np.bool_),
                         int(row.layer_top), int(row.layer_left))

    def _decode_original(self, db: Session, session) -> np.ndarray:
        """The original, decoded once per process (a read-only array: copy before drawing on it)."""

        def make() -> np.ndarray:
            image = decode_png(get_blob(db, session.original_blob, "original"), "RGB", "original")
            if image.shape != (session.height, session.width, 3):
                raise CorruptBlobError(f"stored original of session {short_id(session.id)} has the wrong size")
            image.flags.writeable = False
            return image

        return self.pixels.get_or_make(("original", session.original_blob), make, lambda a: a.nbytes)

    @staticmethod
    def _decode_cached(db: Session, sha: str, session) -> Optional[np.ndarray]:
        """Return a cached render, or None when the cache entry is damaged (it is then rebuilt)."""
        return read_rgb_or_none(db, sha, "render", (session.height, session.width, 3))

    def _cache_render(self, session_id: str, version_id: str, image: np.ndarray) -> None:
        """Cache a render in the database (best effort: a busy or read-only database just skips it)."""
        if getattr(self, "readonly", False):
            return
        data = encode_pixels(image)
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
        data = encode_png_fast(image) if suffix == ".png" else encode_jpeg(image)
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
            composite = self._render_in(db, session, version)
            name = session.name
        return build_ora(original, out, composite, original_name=f"original: {name}"[:100])
