"""Layers stored by their bounding box: crops, composing a crop, and previews derived from crops.

A version's layer is mostly transparent, so the store keeps only the RGBA crop around its
visible pixels (and the mask cropped to the same box) with the crop's top-left corner. Every
pixel outside the box reads back as (0, 0, 0, 0) and unmasked, which composes exactly like the
full plane: the formula leaves the base unchanged where alpha is 0 (`storage.compose`).

Previews are a version's composite at PREVIEW_SIDE pixels on the long side: the root's is the
original downsized with an area (box) filter; a child's is its parent's preview with the layer
crop downsized the same way (premultiplied, so transparent pixels add no colour) composited
over it. So the TUI's picture and the next turn's work image never need the full-size image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

PREVIEW_SIDE = 1024  # long side of stored previews; at least the engine's 512 px work size
BAND_SOURCE_PIXELS = 2_000_000  # source pixels per band when downsizing


@dataclass(frozen=True)
class LayerCrop:
    """A layer and its mask inside their bounding box.

    Args:
        rgba: [h, w, 4] uint8, straight alpha.
        mask: [h, w] bool.
        top: row of the crop's first row in the photo.
        left: column of the crop's first column in the photo.
    """

    rgba: np.ndarray
    mask: np.ndarray
    top: int
    left: int

    @property
    def bottom(self) -> int:
        return self.top + self.rgba.shape[0]

    @property
    def right(self) -> int:
        return self.left + self.rgba.shape[1]

    @property
    def area(self) -> int:
        return int(self.rgba.shape[0] * self.rgba.shape[1])

    def full_planes(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the layer [H, W, 4] and mask [H, W] as full-size planes (zeros outside the box)."""
        layer = np.zeros((height, width, 4), np.uint8)
        mask = np.zeros((height, width), np.bool_)
        layer[self.top:self.bottom, self.left:self.right] = self.rgba
        mask[self.top:self.bottom, self.left:self.right] = self.mask
        return layer, mask


def bounding_box(alpha: np.ndarray, mask: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    """Return (top, bottom, left, right) of the pixels with alpha > 0 or in the mask; None if none."""
    rows = alpha.any(axis=1) | mask.any(axis=1)
    ys = np.flatnonzero(rows)
    if ys.size == 0:
        return None
    t, b = int(ys[0]), int(ys[-1]) + 1
    cols = alpha[t:b].any(axis=0) | mask[t:b].any(axis=0)
    xs = np.flatnonzero(cols)
    return t, b, int(xs[0]), int(xs[-1]) + 1


def crop_layer(layer: np.ndarray, mask: np.ndarray, top: int = 0, left: int = 0) -> LayerCrop:
    """Tighten a layer (full plane or crop at `top`, `left`) to its bounding box.

    A layer with nothing visible and an empty mask becomes one transparent pixel at the corner.
    Pixels outside the box with alpha 0 are dropped whatever their RGB (they never show).

    Args:
        layer: [h, w, 4] uint8.
        mask: [h, w] bool-like, the same height and width.
        top, left: where `layer` sits in the photo.
    """
    mask = np.asarray(mask).astype(np.bool_, copy=False)
    box = bounding_box(layer[..., 3], mask)
    if box is None:
        return LayerCrop(np.zeros((1, 1, 4), np.uint8), np.zeros((1, 1), np.bool_), int(top), int(left))
    t, b, l, r = box
    return LayerCrop(np.ascontiguousarray(layer[t:b, l:r]), np.ascontiguousarray(mask[t:b, l:r]),
                     int(top) + t, int(left) + l)


def compose_into(region: np.ndarray, rgba: np.ndarray) -> None:
    """Composite `rgba` over `region` in place: (L * a + B * (255 - a) + 127) // 255, exactly.

    Uses uint16 and the identity x // 255 == (x + 1 + (x >> 8)) >> 8 for 0 <= x < 65281, one band
    of rows at a time so that no full-size temporary is made.

    Args:
        region: [h, w, 3] uint8 view, modified.
        rgba: [h, w, 4] uint8.
    """
    band = max(1, (1 << 20) // max(1, rgba.shape[1]))  # about 1 M pixels per band
    for y in range(0, rgba.shape[0], band):
        lay = rgba[y:y + band]
        a = lay[..., 3:4].astype(np.uint16)
        x = lay[..., :3].astype(np.uint16) * a
        x += region[y:y + band].astype(np.uint16) * (255 - a)
        x += 127
        x += 1 + (x >> 8)
        x >>= 8
        region[y:y + band] = x


def compose_crop(base: np.ndarray, crop: LayerCrop, *, in_place: bool = False) -> np.ndarray:
    """Return `base` [H, W, 3] with the crop composited at its place (a copy unless `in_place`)."""
    out = base if in_place else np.array(base, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    if crop.top < 0 or crop.left < 0 or crop.bottom > h or crop.right > w:
        raise ValueError(f"a crop at ({crop.top}, {crop.left}) of {crop.rgba.shape[:2]} does not fit {out.shape}")
    compose_into(out[crop.top:crop.bottom, crop.left:crop.right], crop.rgba)
    return out


# -- previews -----------------------------------------------------------------------------------


def preview_hw(height: int, width: int, side: int = PREVIEW_SIDE) -> tuple[int, int]:
    """Return the preview size of an [height, width] photo: long side `side` (never enlarged)."""
    scale = min(1.0, side / max(height, width))
    return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def downsize(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize an RGB image to `size_hw` with an area (box) filter; a copy when already that size.

    Done in bands of rows, so no full-size temporary is made.
    """
    h, w = size_hw
    if image.shape[:2] == (h, w):
        return np.array(image, dtype=np.uint8, copy=True)
    H, W = image.shape[:2]
    return _box_resize(image, (0.0, 0.0, float(W), float(H)), (h, w), "RGB", pad=0)


def _box_resize(src: np.ndarray, box: tuple[float, float, float, float], out_hw: tuple[int, int],
                mode: str, pad: int) -> np.ndarray:
    """Area-resize the region `box` = (left, top, right, bottom) of `src` to `out_hw`, in bands.

    The region may reach up to `pad` pixels beyond `src`; those pixels are zeros (transparent).
    Each band of output rows reads only the source rows it covers (plus a margin).
    """
    from PIL import Image

    oh, ow = out_hw
    sh, sw = src.shape[:2]
    left, top, right, bottom = box
    scale_y = (bottom - top) / oh
    per_row = max(1, int(round(scale_y * (right - left + 2 * pad))))
    band = max(1, BAND_SOURCE_PIXELS // per_row)
    out = np.empty((oh, ow, src.shape[2]), np.uint8)
    for a in range(0, oh, band):
        b = min(oh, a + band)
        y0, y1 = top + a * scale_y, top + b * scale_y
        r0, r1 = max(0, int(math.floor(y0)) - 1), min(sh, int(math.ceil(y1)) + 1)
        rows = src[r0:r1]
        if pad:
            rows = np.pad(rows, ((pad, pad), (pad, pad), (0, 0)))
        ph, pw = rows.shape[:2]
        sub = (min(max(0.0, left + pad), pw), min(max(0.0, y0 - r0 + pad), ph),
               min(max(0.0, right + pad), pw), min(max(0.0, y1 - r0 + pad), ph))
        img = Image.fromarray(np.ascontiguousarray(rows), mode)
        out[a:b] = np.asarray(img.resize((ow, b - a), Image.Resampling.BOX, box=sub))
    return out


def apply_to_preview(preview: np.ndarray, crop: LayerCrop, full_hw: tuple[int, int]) -> np.ndarray:
    """Return the child's preview: `preview` (the parent's) with the crop downsized over it.

    The crop is area-filtered (premultiplied by Pillow, so transparent pixels add no colour) onto
    the preview pixels it touches, with the transparent surroundings counted in, a band of rows at
    a time. At scale 1 (photos no larger than the preview) this is exactly `compose_crop`.

    Args:
        preview: [ph, pw, 3] uint8, the parent's preview.
        crop: the child's layer crop, in full-resolution coordinates.
        full_hw: the photo's (H, W).
    """
    ph, pw = preview.shape[:2]
    fh, fw = full_hw
    if (ph, pw) == (fh, fw):
        return compose_crop(preview, crop)
    fy, fx = ph / fh, pw / fw
    y0, y1 = int(math.floor(crop.top * fy)), min(ph, int(math.ceil(crop.bottom * fy)))
    x0, x1 = int(math.floor(crop.left * fx)), min(pw, int(math.ceil(crop.right * fx)))
    pad = int(math.ceil(max(1 / fy, 1 / fx))) + 1
    box = (x0 / fx - crop.left, y0 / fy - crop.top, x1 / fx - crop.left, y1 / fy - crop.top)
    small = _box_resize(crop.rgba, box, (y1 - y0, x1 - x0), "RGBA", pad=pad)
    out = np.array(preview, dtype=np.uint8, copy=True)
    compose_into(out[y0:y1, x0:x1], small)
    return out
