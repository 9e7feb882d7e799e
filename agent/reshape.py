"""Reshaping an edit's region from its stored I_sty, without the diffusion models.

Only the mask changes; the pixels come from the canvas the edit stored (`EditSources`). The new
mask is computed at work size, then brought to full size by nearest neighbour
(`storage.layers.nearest_indices`); the layer is the canvas (Lanczos-resized when the work size
differs from the photo's) with alpha 255 inside the mask and 0 outside. A reshaped region has a
hard edge: the FFT edge smoother needs torch and runs only inside an engine edit.

* grow / shrink: a 3x3 square dilation / erosion repeated `grow_radius(h, w)` times (2% of the
  work image's long side, at least 1 pixel); erosion treats pixels beyond the border as inside.
* whole: every pixel (the global IP2P result, no mask).
* largest: the largest 4-connected part of the current mask (ties: the first in scan order).
* point: the smallest SAM segment containing the point (`segment_at`).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from engine.errors import ZoneInputError
from storage.layers import alpha_bbox, nearest_indices

MODES = ("grow", "shrink", "whole", "largest", "point")
GROW_FRACTION = 0.02


class ReshapeError(ZoneInputError, ValueError):
    """A reshape that cannot be done (no stored canvas, an empty result, a point outside every segment)."""


def grow_radius(h: int, w: int) -> int:
    """Pixels a grow or shrink moves the region's edge, at work size."""
    return max(1, int(round(GROW_FRACTION * max(h, w))))


def largest_part(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component of a bool mask."""
    from scipy import ndimage

    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask.copy()
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(np.argmax(sizes)) + 1)


def segment_at(segments: np.ndarray, x: int, y: int) -> Optional[int]:
    """Index of the smallest segment (bool [N, h, w]) that contains pixel (x, y), or None."""
    segs = np.asarray(segments).astype(bool)
    if segs.ndim != 3 or not (0 <= y < segs.shape[1] and 0 <= x < segs.shape[2]):
        return None
    inside = np.flatnonzero(segs[:, y, x])
    if inside.size == 0:
        return None
    areas = segs[inside].reshape(inside.size, -1).sum(axis=1)
    return int(inside[int(np.argmin(areas))])


def new_mask(mode: str, current: np.ndarray, segment: Optional[np.ndarray] = None) -> np.ndarray:
    """The reshaped work-size mask.

    Args:
        mode: grow, shrink, whole, largest or point.
        current: bool [h, w], the layer's current work-size mask.
        segment: bool [h, w], the chosen segment (point only).
    """
    from scipy import ndimage

    current = np.asarray(current).astype(bool)
    h, w = current.shape
    if mode == "whole":
        return np.ones((h, w), bool)
    if mode == "point":
        if segment is None:
            raise ReshapeError("no segment was picked")
        return np.asarray(segment).astype(bool)
    if mode == "largest":
        out = largest_part(current)
    elif mode in ("grow", "shrink"):
        op = ndimage.binary_dilation if mode == "grow" else ndimage.binary_erosion
        kwargs = {} if mode == "grow" else {"border_value": 1}
        out = op(current, structure=np.ones((3, 3), bool), iterations=grow_radius(h, w), **kwargs)
    else:
        raise ReshapeError(f"unknown reshape {mode!r}; use one of {', '.join(MODES)}")
    if not out.any():
        raise ReshapeError("the region would be empty")
    if np.array_equal(out, current):
        raise ReshapeError(f"the region is already {'whole' if mode == 'grow' else 'in one part' if mode == 'largest' else 'as small as it gets'}")
    return out


def to_full(mask_work: np.ndarray, full_hw: tuple[int, int]) -> np.ndarray:
    """A work-size mask at full size (nearest neighbour)."""
    h, w = mask_work.shape
    H, W = full_hw
    if (h, w) == (H, W):
        return mask_work.copy()
    return mask_work[nearest_indices(h, H)][:, nearest_indices(w, W)]


def layer_from_canvas(canvas: np.ndarray, mask_work: np.ndarray,
                      full_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The full-size RGBA layer and mask of a region cut from the stored canvas.

    Only the region's bounding box is resampled (Lanczos, the box's part of the same full-size
    mapping) and written; the rest of the layer is 0.
    """
    H, W = full_hw
    rgb = np.asarray(canvas)
    mask = to_full(np.asarray(mask_work).astype(bool), (H, W))
    layer = np.zeros((H, W, 4), np.uint8)
    box = alpha_bbox(mask)
    if box is None:
        return layer, mask
    t, b, l, r = box
    h, w = rgb.shape[:2]
    if (h, w) == (H, W):
        part = rgb[t:b, l:r]
    else:
        from PIL import Image

        src = (l * w / W, t * h / H, r * w / W, b * h / H)
        part = np.asarray(Image.fromarray(np.ascontiguousarray(rgb.astype(np.uint8))).resize(
            (r - l, b - t), Image.Resampling.LANCZOS, box=src))
    inside = mask[t:b, l:r]
    layer[t:b, l:r, :3] = np.where(inside[..., None], part, 0)
    layer[t:b, l:r, 3] = inside * np.uint8(255)
    return layer, mask


def crop_to_work_mask(alpha: np.ndarray, x: int, y: int, full_hw: tuple[int, int],
                      work_hw: tuple[int, int]) -> np.ndarray:
    """A layer's region (alpha > 0 of a crop at x, y in the full image) sampled to work size by
    nearest neighbour, reading only the crop."""
    H, W = full_hw
    h, w = work_hw
    rows, cols = nearest_indices(H, h), nearest_indices(W, w)
    ch, cw = alpha.shape
    ri = (rows >= y) & (rows < y + ch)
    ci = (cols >= x) & (cols < x + cw)
    out = np.zeros((h, w), bool)
    out[np.ix_(ri, ci)] = alpha[rows[ri] - y][:, cols[ci] - x] > 0
    return out


def current_work_mask(refined: Optional[np.ndarray], crop, full_hw: tuple[int, int],
                      work_hw: tuple[int, int]) -> np.ndarray:
    """The layer's region at work size: `refined` when given (a reshape's own mask), else the
    region of its stored layer (`crop`: a PlacedLayer; what the user sees, M*_f and M_f together)."""
    if refined is not None and np.asarray(refined).shape == tuple(work_hw):
        return np.asarray(refined).astype(bool)
    if crop is None:
        raise ReshapeError("the layer's region is not stored")
    return crop_to_work_mask(crop.rgba[..., 3], crop.x, crop.y, full_hw, work_hw)
