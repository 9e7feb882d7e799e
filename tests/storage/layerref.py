"""A plain numpy reference of layer composition and geometry, written independently of storage/layers.py."""

from __future__ import annotations

import numpy as np


def ref_compose(original: np.ndarray, layers: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Draw full-size RGBA layers with opacities over the original: int64, the documented formula."""
    out = original.astype(np.int64)
    for rgba, opacity in layers:
        o8 = int(round(opacity * 255))
        ao = rgba[..., 3:4].astype(np.int64) * o8  # alpha times opacity, out of 255 * 255
        out = (rgba[..., :3].astype(np.int64) * ao + out * (65025 - ao) + 32512) // 65025
    return out.astype(np.uint8)


def ref_shift(rgba: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move a full-size layer by (dx, dy) pixel by pixel; what leaves the image is lost."""
    h, w = rgba.shape[:2]
    out = np.zeros_like(rgba)
    for y in range(h):
        for x in range(w):
            ty, tx = y + dy, x + dx
            if 0 <= ty < h and 0 <= tx < w:
                out[ty, tx] = rgba[y, x]
    return out


def ref_scale(rgba: np.ndarray, s: float) -> np.ndarray:
    """Scale a full-size layer about its bounding box's centre, nearest neighbour, pixel by pixel."""
    ys, xs = np.nonzero(rgba[..., 3])
    t, b, l, r = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h, w = b - t, r - l
    nh, nw = int(round(h * s)), int(round(w * s))
    top, left = t + (h - nh) // 2, l + (w - nw) // 2
    H, W = rgba.shape[:2]
    out = np.zeros_like(rgba)
    for i in range(nh):
        for j in range(nw):
            y, x = top + i, left + j
            if 0 <= y < H and 0 <= x < W:
                out[y, x] = rgba[t + (2 * i + 1) * h // (2 * nh), l + (2 * j + 1) * w // (2 * nw)]
    return out


def box_layer(h: int, w: int, box: tuple[int, int, int, int], seed: int, band: int = 0,
              band_alpha: int = 153) -> np.ndarray:
    """A layer of random colours, alpha 255 on box (top, left, bottom, right), `band_alpha` on a
    `band`-pixel ring inside its edge, 0 outside (RGB 0 there too, as the engine writes it)."""
    rng = np.random.default_rng(seed)
    t, l, b, r = box
    layer = np.zeros((h, w, 4), np.uint8)
    layer[t:b, l:r, :3] = rng.integers(0, 256, (b - t, r - l, 3), dtype=np.uint8)
    layer[t:b, l:r, 3] = band_alpha if band else 255
    if band:
        layer[t + band:b - band, l + band:r - band, 3] = 255
    return layer
