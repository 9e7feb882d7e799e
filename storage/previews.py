"""Previews: every version's composite at PREVIEW_SIDE pixels, for views and the next turn's work image.

A preview is derived from the parent's preview and the version's layer crop (`storage.crops`),
never from a full-size decode except once for the root of a session written before revision
0004. A version whose path has layer operations gets its stack drawn over a preview instead. Derived previews are stored (best effort) so that a later process finds them.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import refs
from storage.blobs import put_blob, read_rgb_or_none
from storage.codec import encode_pixels
from storage.errors import StorageError
from storage import layers as L
from storage.crops import LayerCrop, apply_to_preview, downsize, preview_hw
from storage.layer_store import path_rows
from storage.models import VersionRow


class PreviewMixin:
    """`preview(session, ref)`: the composite at preview size, from memory, the database or derived."""

    def preview(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        """Return a version's composite at preview size, [ph, pw, 3] uint8 (read-only).

        The long side is `storage.crops.PREVIEW_SIDE` (photos no larger are their own preview,
        and then this equals `render`).
        """
        hit = self.pixels.get(("preview", ref))  # a version id seen in this process
        if hit is not None:
            return hit
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            image, derived = self._preview_in(db, session, version.id)
        if derived:
            self._store_previews(derived)
        return image

    def original_preview(self, session_id: str) -> np.ndarray:
        """Return the session's original at preview size (read-only)."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            hit = self.pixels.get(("preview", "original", session.id))
            if hit is not None:
                return hit
            root = db.execute(select(VersionRow.id).where(VersionRow.session_id == session.id,
                                                          VersionRow.parent_id.is_(None))).scalar_one()
            image, derived = self._preview_in(db, session, root)
        if derived:
            self._store_previews(derived)
        return self.pixels.keep(("preview", "original", session.id), image)

    def _preview_in(self, db: Session, session, version_id: str) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
        """The preview of `version_id` inside a read transaction, and the ones derived on the way."""
        hit = self.pixels.get(("preview", version_id))
        if hit is not None:
            return hit, []
        path = refs.ancestor_path(db, version_id)
        rows = path_rows(db, version_id)
        if any(r.op is not None for r in rows):
            return self._stack_preview(db, session, path, rows)
        start, image = 0, None
        for i in range(len(path) - 1, -1, -1):
            image = self.pixels.get(("preview", path[i].id))
            if image is None and path[i].preview_blob:
                image = self._decode_preview(db, path[i].preview_blob, session)
            if image is not None:
                start = i
                break
        derived: list[tuple[str, np.ndarray]] = []
        if image is None:  # a root written before previews existed: one full-size decode
            image = downsize(self._decode_original(db, session), preview_hw(session.height, session.width))
            derived.append((path[0].id, image))
        image = self.pixels.keep(("preview", path[start].id), image)
        for step in path[start + 1:]:
            image = apply_to_preview(image, self._read_crop(db, step), (session.height, session.width))
            image = self.pixels.keep(("preview", step.id), image)
            if step.preview_blob is None:
                derived.append((step.id, image))
        return image, derived

    def _stack_preview(self, db: Session, session, path: list, rows: list) -> tuple[np.ndarray, list]:
        """The preview of a version whose path has layer operations: its layer stack over a preview.

        Starts from the deepest version (in memory or stored) whose stack is a prefix of this one,
        like `render`; each remaining visible layer is placed (moved, scaled), its opacity folded
        into its alpha, and downsized onto the preview. A photo no larger than a preview is its
        own render.
        """
        full_hw = (session.height, session.width)
        version_id = path[-1].id
        if preview_hw(*full_hw) == full_hw:
            image = self._render_in(db, session, refs.get_version(db, version_id))
            return self.pixels.keep(("preview", version_id), image), []
        snapshots = L.fold(rows)
        final = snapshots[-1]
        done, image = 0, None
        for i in range(len(path) - 1, -1, -1):
            prefix = snapshots[i]
            if final[:len(prefix)] != prefix:
                continue
            image = self.pixels.get(("preview", path[i].id))
            if image is None and path[i].preview_blob:
                image = self._decode_preview(db, path[i].preview_blob, session)
            if image is not None:
                done = len(prefix)
                break
        if image is None:
            image, _ = self._preview_in(db, session, path[0].id)
        for entry in final[done:]:
            if entry.visible and entry.opacity > 0:
                placed = self._load_placed(db, entry)
                full = L.placed_full(placed, *full_hw)  # clipped to the photo, opacity in alpha
                box = L.alpha_bbox(full[..., 3])
                if box is not None:
                    t, b, l, r = box
                    crop = LayerCrop(full[t:b, l:r], full[t:b, l:r, 3] > 0, t, l)
                    image = apply_to_preview(image, crop, full_hw)
        image = self.pixels.keep(("preview", version_id), image)
        return image, [(version_id, image)] if path[-1].preview_blob is None else []

    @staticmethod
    def _decode_preview(db: Session, sha: str, session) -> Optional[np.ndarray]:
        """Return a stored preview, or None when it is damaged or of the wrong size (then re-derived)."""
        return read_rgb_or_none(db, sha, "preview", preview_hw(session.height, session.width))

    def _child_preview(self, db: Session, session, parent_id: str, crop: Any) -> Optional[np.ndarray]:
        """The preview of a new child of `parent_id` with layer `crop`, or None if the parent has none yet."""
        parent = self.pixels.get(("preview", parent_id))
        if parent is None:
            sha = refs.get_version(db, parent_id).preview_blob
            parent = self._decode_preview(db, sha, session) if sha else None
        if parent is None:
            return None
        return apply_to_preview(parent, crop, (session.height, session.width))

    def _store_previews(self, derived: list[tuple[str, np.ndarray]]) -> None:
        """Write derived previews (best effort: a busy or read-only database skips it)."""
        if getattr(self, "readonly", False):
            return
        blobs = [(vid, encode_pixels(np.ascontiguousarray(img))) for vid, img in derived]
        try:
            with self._write() as db:
                for vid, data in blobs:
                    sha = put_blob(db, data, "preview")
                    db.execute(update(VersionRow).where(VersionRow.id == vid).values(preview_blob=sha))
        except StorageError as exc:
            self.cache_write_failures = getattr(self, "cache_write_failures", 0) + 1
            self.last_cache_error = str(exc)
