"""HistoryStore's layer side: layer operations as versions, each version's layer stack, edit sources.

A layer operation is a version like any other (parent = HEAD, undo, redo and branches work on it)
whose `op` and `op_args` say what it does to an earlier edit's layer; it runs no model. See
storage/layers.py for the stack and how it is composed.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.text import short_id
from storage import layers as L
from storage import refs
from storage.blobs import decode_png, get_blob, put_blob, sha256_hex
from storage.codec import encode_pixels
from storage.errors import InvalidOperationError
from storage.models import EditSourceRow, SessionRow, VersionRow
from storage.pixel_cache import PixelCache
from storage.types import EditSources, LayerInfo, VersionInfo

OP_ARGS = {"hide": (), "show": (), "opacity": ("opacity",), "move": ("dx", "dy"), "scale": ("factor",),
           "reshape": ("mode",)}


# ------------------------------------------------------------------ edit sources (blobs)


def encode_sources(sources: EditSources) -> dict:
    """PNG-encode an EditSources (outside any transaction): {"canvas", "rough", "refined": bytes|None, "params"}."""
    canvas = np.asarray(sources.canvas)
    if canvas.ndim != 3 or canvas.shape[2] != 3 or canvas.dtype != np.uint8:
        raise InvalidOperationError(f"the canvas must be [h, w, 3] uint8, got {list(canvas.shape)} {canvas.dtype}")
    out: dict[str, Any] = {"canvas": encode_pixels(canvas), "params": dict(sources.mask_params or {})}
    for key in ("rough", "refined"):
        value = getattr(sources, key)
        if value is None:
            out[key] = None
            continue
        value = np.asarray(value).astype(bool)
        if value.shape != canvas.shape[:2]:
            raise InvalidOperationError(f"the {key} mask must be {list(canvas.shape[:2])}, got {list(value.shape)}")
        out[key] = encode_pixels(value)
    return out


def store_sources(db: Session, version_id: str, encoded: dict) -> None:
    """Write encoded sources for `version_id` (inside the write transaction)."""
    import json

    params = json.loads(json.dumps(encoded["params"], default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    db.add(EditSourceRow(
        version_id=version_id, canvas_blob=put_blob(db, encoded["canvas"], "canvas"),
        rough_blob=put_blob(db, encoded["rough"], "mask") if encoded["rough"] is not None else None,
        refined_blob=put_blob(db, encoded["refined"], "mask") if encoded["refined"] is not None else None,
        mask_params=params))
    db.flush()


def source_blobs(db: Session, session_id: str) -> set[str]:
    """Every blob the session's edit sources use (for garbage collection on delete)."""
    q = (select(EditSourceRow.canvas_blob, EditSourceRow.rough_blob, EditSourceRow.refined_blob)
         .join(VersionRow, VersionRow.id == EditSourceRow.version_id).where(VersionRow.session_id == session_id))
    return {sha for row in db.execute(q).all() for sha in row if sha}


def path_rows(db: Session, version_id: str) -> list[L.PathRow]:
    """The versions from the root down to `version_id`, as the plain rows folding needs."""
    ids = [step.id for step in refs.ancestor_path(db, version_id)]
    v = VersionRow
    q = select(v.id, v.number, v.instruction, v.action, v.layer_blob, v.mask_blob, v.op, v.op_args,
               v.layer_top, v.layer_left).where(v.id.in_(ids))
    rows = {r[0]: L.PathRow(*r) for r in db.execute(q).all()}
    return [rows[i] for i in ids]


def _describe(entry: L.LayerState) -> str:
    return f"v{entry.number} '{entry.instruction}'" if entry.instruction else f"v{entry.number}"


def check_op(op: str, args: dict, entry: L.LayerState) -> None:
    """Raise InvalidOperationError for an operation that would change nothing or is out of range."""
    what = _describe(entry)
    if op == "hide" and not entry.visible:
        raise InvalidOperationError(f"{what} is already hidden")
    if op == "show" and entry.visible:
        raise InvalidOperationError(f"{what} is already visible")
    if op == "opacity":
        value = float(args["opacity"])
        if not 0.0 <= value <= 1.0:
            raise InvalidOperationError(f"opacity must be between 0 and 1, not {value}")
        if L.clamp_opacity(value) == entry.opacity:
            raise InvalidOperationError(f"{what} is already at {round(100 * entry.opacity)}% opacity")
    if op == "move" and int(args["dx"]) == 0 and int(args["dy"]) == 0:
        raise InvalidOperationError("a move needs a non-zero distance")
    if op == "scale":
        factor = float(args["factor"])
        if not L.MIN_SCALE <= entry.scale * factor <= L.MAX_SCALE or factor <= 0:
            raise InvalidOperationError(f"cannot scale {what} by {factor:g}: it would be too small or too large")


class LayerMixin:
    """Layer operations and layer stacks for HistoryStore (uses its _read/_write/_insert_version)."""

    def layer_op(self, session_id: str, op: str, target: str, *, args: dict | None = None,
                 instruction: str = "", layer: np.ndarray | None = None, mask: np.ndarray | None = None,
                 sources: EditSources | None = None, parent: str | None = None) -> VersionInfo:
        """Record a layer operation on an earlier edit's layer as a new version on `parent` (HEAD).

        Args:
            op: hide, show, opacity, move, scale or reshape.
            target: a ref naming the edit version whose layer changes (it must be in the stack).
            args: opacity {"opacity": 0..1}, move {"dx", "dy"} pixels, scale {"factor"},
                reshape {"mode": grow|shrink|whole|largest|point, ...}.
            instruction: the words that asked for it (kept for the history and the chat).
            layer, mask: reshape only: the new full-size layer and mask cut from the stored I_sty
                (stored as their crop, like an edit's).
            sources: reshape only: the canvas and the new work-size mask (as `refined`).
        Raises:
            InvalidOperationError: unknown op, missing arguments, a target not in the stack, or an
                operation that would change nothing ("already hidden").
        """
        if op not in L.OPS:
            raise InvalidOperationError(f"unknown layer operation {op!r}; use one of {', '.join(L.OPS)}")
        args = dict(args or {})
        missing = [k for k in OP_ARGS[op] if k not in args]
        if missing:
            raise InvalidOperationError(f"layer operation {op} needs {', '.join(missing)}")
        if (op == "reshape") != (layer is not None):
            raise InvalidOperationError("a reshape, and only a reshape, carries a new layer")
        info = self.get_session(session_id)
        target_id = self.resolve(info.id, target).id
        encoded = self._encode_layer(info.id, layer, mask) if layer is not None else None
        src = encode_sources(sources) if sources is not None else None
        args["target"] = target_id

        def check(db: Session, session: SessionRow, base: VersionRow) -> None:
            stack = L.fold(path_rows(db, base.id))[-1]
            entry = next((e for e in stack if e.edit_id == target_id), None)
            if entry is None:
                raise InvalidOperationError(f"version {short_id(target_id)} is not an edit layer of {short_id(base.id)}")
            check_op(op, args, entry)

        fields = dict(instruction=instruction or op, action=None, params={}, timings={}, op=op,
                      op_args=_plain(args))
        version = self._insert_version(info.id, parent, fields, encoded, src, check=check)
        if encoded is not None:  # the next render draws it from memory instead of decoding it again
            c = encoded.crop
            crop = L.crop_to_content(c.rgba, c.left, c.top)
            crop.rgba = np.ascontiguousarray(crop.rgba)
            crop.rgba.flags.writeable = False
            self.pixels.put(("layer", sha256_hex(encoded.layer_data), c.top, c.left), crop, crop.rgba.nbytes + 64)
        return version

    def placed_crop(self, session_id: str, ref: str) -> Optional[L.PlacedLayer]:
        """The stored layer of an edit or reshape version, cropped to its visible pixels, unmoved
        (None for a version without its own layer)."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            if version.layer_blob is None:
                return None
            return self._layer_crop(db, version.layer_blob, version.layer_top, version.layer_left)

    def layer_states(self, session_id: str, ref: str = "HEAD") -> list[L.LayerState]:
        """The raw stack entries of a version, bottom-most first."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            return list(L.fold(path_rows(db, version.id))[-1])

    def layer_stack(self, session_id: str, ref: str = "HEAD") -> list[LayerInfo]:
        """The layers of a version, bottom-most first: instruction, visible, opacity, offset, scale."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            stack = L.fold(path_rows(db, version.id))[-1]
            have = set(db.execute(select(EditSourceRow.version_id).where(
                EditSourceRow.version_id.in_([e.source_id for e in stack] or [""]))).scalars())
            return [LayerInfo(index=i, edit_id=e.edit_id, number=e.number, instruction=e.instruction,
                              action=e.action, visible=e.visible, opacity=e.opacity, dx=e.dx, dy=e.dy,
                              scale=e.scale, source_id=e.source_id, reshapeable=e.source_id in have)
                    for i, e in enumerate(stack, start=1)]

    def edit_sources(self, session_id: str, ref: str) -> Optional[EditSources]:
        """The stored work-size I_sty, M_b, M_f and mask parameters of version `ref` (None if absent)."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            row = db.get(EditSourceRow, version.id)
            if row is None:
                return None
            canvas = decode_png(get_blob(db, row.canvas_blob, "canvas"), "RGB", "canvas")
            rough = decode_png(get_blob(db, row.rough_blob, "mask"), "1", "mask") if row.rough_blob else None
            refined = decode_png(get_blob(db, row.refined_blob, "mask"), "1", "mask") if row.refined_blob else None
            return EditSources(canvas=canvas, rough=rough, refined=refined, mask_params=dict(row.mask_params or {}))

    def placed_layers(self, session_id: str, ref: str = "HEAD") -> list[tuple[L.LayerState, L.PlacedLayer]]:
        """Every layer of a version's stack as drawn: (state, placed crop), bottom-most first."""
        with self._read() as db:
            session = refs.find_session(db, session_id)
            version = refs.resolve(db, session, ref)
            stack = L.fold(path_rows(db, version.id))[-1]
            return [(e, self._load_placed(db, e)) for e in stack]

    @property
    def pixels(self) -> PixelCache:
        """Decoded originals, layer crops, masks and renders of this process (see storage/pixel_cache.py)."""
        cache = getattr(self, "_pixel_cache", None)
        if cache is None:
            cache = self._pixel_cache = PixelCache()
        return cache

    def _layer_crop(self, db: Session, sha: str, top: Optional[int] = None,
                    left: Optional[int] = None) -> L.PlacedLayer:
        """A stored layer cropped to its visible pixels (decoded once per process).

        Args:
            sha: the layer blob: a crop whose corner is (top, left), or a full plane (top None).
        """

        def make() -> L.PlacedLayer:
            rgba = decode_png(get_blob(db, sha, "layer"), "RGBA", "layer")
            crop = L.crop_to_content(rgba, int(left or 0), int(top or 0))
            crop.rgba = np.ascontiguousarray(crop.rgba)
            crop.rgba.flags.writeable = False
            return crop

        return self.pixels.get_or_make(("layer", sha, top, left), make, lambda c: c.rgba.nbytes + 64)

    def _load_placed(self, db: Session, entry: L.LayerState) -> L.PlacedLayer:
        """An entry's stored layer, placed as the entry says (the seam where crop storage plugs in)."""
        crop = self._layer_crop(db, entry.layer_blob, entry.top, entry.left)
        placed = L.transform(crop, entry.dx, entry.dy, entry.scale)
        placed.opacity, placed.visible = entry.opacity, entry.visible
        return placed


def _plain(args: dict) -> dict:
    """Arguments as plain JSON values (numpy scalars become numbers)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in args.items()}
