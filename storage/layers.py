"""The layer stack of a version, and composing it: each edit's layer drawn visible or hidden, at an
opacity, moved and scaled, over the untouched original.

A version's stack is folded from the versions on its path from the root, oldest first:

* an edit version appends its own layer (visible, opacity 1, no offset, scale 1);
* a layer-operation version (``versions.op``) changes the entry of its target edit
  (``op_args["target"]``, an edit version id): ``hide``/``show`` set visibility, ``opacity`` sets
  the opacity (``op_args["opacity"]`` in [0, 1]), ``move`` adds ``dx``/``dy`` pixels, ``scale``
  multiplies the scale by ``factor``, ``reshape`` takes its pixels and mask from the operation
  version's own layer (a new region cut from the stored I_sty), keeping the other settings.

Composition (`compose_stack`) draws the visible layers in stack order with the project-wide
integer formula ``(L * a + B * (255 - a) + 127) // 255``. With an opacity o < 1 (``o8 =
round(o * 255)``) the product a * o8 is not rounded first: ``(L * a * o8 + B * (65025 - a * o8) +
32512) // 65025``, one rounding, as Krita and GIMP blend a layer's opacity (at o8 = 255 this is
exactly the formula above). A hidden layer is skipped: every
other layer keeps its own pixels exactly, as in Photoshop. A later edit was made on a render that
contained the earlier edit, so where the two overlap the later layer still shows what it was given.

Geometry works on crops: a layer is an RGBA crop and the image position of its top-left pixel
(`PlacedLayer`). Layers are stored as bounding-box crops with their corner (`storage.crops`,
revision 0004: ``LayerState.top``/``left``); full planes of older databases are cropped on read.
Scaling resamples the crop by nearest neighbour about its centre: output row i of ``nh`` reads
source row ``((2 i + 1) h) // (2 nh)``, and the crop's top moves by ``(h - nh) // 2`` (columns
alike). A move then adds (dx, dy). Whatever lies outside the image is clipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from storage.crops import compose_into

OPS = ("hide", "show", "opacity", "move", "scale", "reshape")
MIN_SCALE, MAX_SCALE = 0.05, 20.0


@dataclass(frozen=True)
class LayerState:
    """One entry of a version's layer stack.

    Attributes:
        edit_id: the edit version that made the layer.
        source_id: the version whose layer and mask blobs hold the pixels (the edit, or the
            latest reshape of it).
        layer_blob, mask_blob: those blobs' addresses.
        visible, opacity, dx, dy, scale: how the layer is drawn.
    """

    edit_id: str
    number: int
    instruction: str
    action: Optional[str]
    source_id: str
    layer_blob: str
    mask_blob: Optional[str]
    top: Optional[int] = None  # where the stored crop sits (None: a full plane, before revision 0004)
    left: Optional[int] = None
    visible: bool = True
    opacity: float = 1.0
    dx: int = 0
    dy: int = 0
    scale: float = 1.0

    @property
    def moved(self) -> bool:
        return self.dx != 0 or self.dy != 0 or self.scale != 1.0


@dataclass(frozen=True)
class PathRow:
    """What folding needs of one version on a path (plain values, not an ORM row)."""

    id: str
    number: int
    instruction: str
    action: Optional[str]
    layer_blob: Optional[str]
    mask_blob: Optional[str]
    op: Optional[str]
    op_args: Optional[dict[str, Any]]
    layer_top: Optional[int] = None
    layer_left: Optional[int] = None


def apply_row(stack: tuple[LayerState, ...], row: PathRow) -> tuple[LayerState, ...]:
    """Return the stack after version `row` (an edit, a layer operation or the root)."""
    if row.op is None:
        if row.layer_blob is None:  # the root
            return stack
        return stack + (LayerState(edit_id=row.id, number=row.number, instruction=row.instruction,
                                   action=row.action, source_id=row.id, layer_blob=row.layer_blob,
                                   mask_blob=row.mask_blob, top=row.layer_top, left=row.layer_left),)
    args = row.op_args or {}
    target = args.get("target")
    out = list(stack)
    for i, entry in enumerate(out):
        if entry.edit_id == target:
            out[i] = _changed(entry, row, args)
            break
    return tuple(out)


def _changed(entry: LayerState, row: PathRow, args: dict[str, Any]) -> LayerState:
    """The entry after one operation (an unknown operation leaves it as it is)."""
    if row.op == "hide":
        return replace(entry, visible=False)
    if row.op == "show":
        return replace(entry, visible=True)
    if row.op == "opacity":
        return replace(entry, opacity=clamp_opacity(float(args.get("opacity", 1.0))))
    if row.op == "move":
        return replace(entry, dx=entry.dx + int(args.get("dx", 0)), dy=entry.dy + int(args.get("dy", 0)))
    if row.op == "scale":
        return replace(entry, scale=clamp_scale(entry.scale * float(args.get("factor", 1.0))))
    if row.op == "reshape" and row.layer_blob is not None:
        return replace(entry, source_id=row.id, layer_blob=row.layer_blob, mask_blob=row.mask_blob,
                       top=row.layer_top, left=row.layer_left)
    return entry


def fold(rows: Sequence[PathRow]) -> list[tuple[LayerState, ...]]:
    """Return the stack after each row of a root-first path (one snapshot per row)."""
    snapshots: list[tuple[LayerState, ...]] = []
    stack: tuple[LayerState, ...] = ()
    for row in rows:
        stack = apply_row(stack, row)
        snapshots.append(stack)
    return snapshots


def clamp_opacity(value: float) -> float:
    """Opacity in [0, 1], rounded to 1/1000."""
    return round(min(1.0, max(0.0, float(value))), 3)


def clamp_scale(value: float) -> float:
    """Scale in [MIN_SCALE, MAX_SCALE], rounded to 1/10000."""
    return round(min(MAX_SCALE, max(MIN_SCALE, float(value))), 4)


def opacity_u8(opacity: float) -> int:
    """The opacity as the 0-255 factor the composition uses."""
    return int(round(clamp_opacity(opacity) * 255))


# ---------------------------------------------------------------------------- geometry


@dataclass
class PlacedLayer:
    """An RGBA crop drawn with its top-left pixel at image position (x, y)."""

    rgba: np.ndarray  # [h, w, 4] uint8
    x: int = 0
    y: int = 0
    opacity: float = 1.0
    visible: bool = True


def alpha_bbox(alpha: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    """Return (top, bottom, left, right) of alpha > 0, or None when it is all zero."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0]:rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_content(rgba: np.ndarray, x: int = 0, y: int = 0) -> PlacedLayer:
    """Crop an RGBA layer (placed at x, y) to the bounding box of its visible pixels."""
    box = alpha_bbox(rgba[..., 3])
    if box is None:
        return PlacedLayer(np.zeros((0, 0, 4), np.uint8), x, y)
    t, b, l, r = box
    return PlacedLayer(rgba[t:b, l:r], x + l, y + t)


def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each of `n_out` samples over `n_in` (nearest, centres aligned, integers only)."""
    i = np.arange(n_out, dtype=np.int64)
    return ((2 * i + 1) * n_in) // (2 * n_out)


def transform(layer: PlacedLayer, dx: int = 0, dy: int = 0, scale: float = 1.0) -> PlacedLayer:
    """Scale a placed crop about its centre (nearest neighbour), then move it by (dx, dy)."""
    rgba, x, y = layer.rgba, layer.x, layer.y
    h, w = rgba.shape[:2]
    if scale != 1.0 and h and w:
        nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
        rgba = rgba[nearest_indices(h, nh)][:, nearest_indices(w, nw)]
        y, x = y + (h - nh) // 2, x + (w - nw) // 2
    return PlacedLayer(rgba, x + int(dx), y + int(dy), layer.opacity, layer.visible)


def place(full_or_crop: np.ndarray, state: LayerState, x: int = 0, y: int = 0) -> PlacedLayer:
    """The drawn form of a stack entry, from its stored layer (full size, or a crop at x, y)."""
    placed = transform(crop_to_content(full_or_crop, x, y), state.dx, state.dy, state.scale)
    placed.opacity, placed.visible = state.opacity, state.visible
    return placed


def _clip(layer: PlacedLayer, h: int, w: int) -> Optional[tuple[np.ndarray, int, int]]:
    """The part of a placed crop inside an h x w image: (crop, top, left), or None."""
    ch, cw = layer.rgba.shape[:2]
    t, l = max(layer.y, 0), max(layer.x, 0)
    b, r = min(layer.y + ch, h), min(layer.x + cw, w)
    if t >= b or l >= r:
        return None
    return layer.rgba[t - layer.y:b - layer.y, l - layer.x:r - layer.x], t, l


def compose_placed(out: np.ndarray, layer: PlacedLayer) -> None:
    """Draw one placed layer onto `out` ([H, W, 3] uint8) in place, if visible."""
    if not layer.visible:
        return
    o8 = opacity_u8(layer.opacity)
    if o8 == 0:
        return
    clipped = _clip(layer, out.shape[0], out.shape[1])
    if clipped is None:
        return
    crop, t, l = clipped
    region = out[t:t + crop.shape[0], l:l + crop.shape[1]]
    if o8 < 255:  # one rounding of L * a * o + B * (1 - a * o): (.. + 32512) // 65025, exact in uint32
        ao = crop[..., 3:4].astype(np.uint32) * o8
        x = crop[..., :3].astype(np.uint32) * ao
        x += region.astype(np.uint32) * (65025 - ao)
        x += 32512
        region[...] = x // 65025
        return
    compose_into(region, crop)  # (L * a + B * (255 - a) + 127) // 255 exactly, in bands of rows


def compose_stack(base: np.ndarray, layers: Iterable[PlacedLayer]) -> np.ndarray:
    """Return `base` with each placed layer drawn over it in order (a new array)."""
    out = np.array(base, dtype=np.uint8, copy=True)
    for layer in layers:
        compose_placed(out, layer)
    return out


def placed_mask(layer: PlacedLayer, h: int, w: int) -> np.ndarray:
    """The [h, w] bool mask (alpha > 0) a placed layer covers in the image, visible or not."""
    mask = np.zeros((h, w), bool)
    clipped = _clip(layer, h, w)
    if clipped is not None:
        crop, t, l = clipped
        mask[t:t + crop.shape[0], l:l + crop.shape[1]] = crop[..., 3] > 0
    return mask


def placed_full(layer: PlacedLayer, h: int, w: int) -> np.ndarray:
    """The placed layer as a full [h, w, 4] RGBA image (opacity folded into alpha)."""
    full = np.zeros((h, w, 4), np.uint8)
    clipped = _clip(layer, h, w)
    if clipped is not None:
        crop, t, l = clipped
        region = full[t:t + crop.shape[0], l:l + crop.shape[1]]
        region[...] = crop
        o8 = opacity_u8(layer.opacity)
        if o8 < 255:
            region[..., 3] = (crop[..., 3].astype(np.uint16) * o8 + 127) // 255
    return full
