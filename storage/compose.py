"""Compositing RGBA layers over an RGB base, bit-exact with the engine's integer formula."""

from __future__ import annotations

import numpy as np


def compose_reference(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Plain implementation: out = (L_rgb * a + B * (255 - a) + 127) // 255, every pixel, int32.

    Args:
        base: [H, W, 3] uint8.
        layer: [H, W, 4] uint8 (straight alpha).
    """
    b = base.astype(np.int32)
    rgb = layer[..., :3].astype(np.int32)
    a = layer[..., 3:4].astype(np.int32)
    return ((rgb * a + b * (255 - a) + 127) // 255).astype(np.uint8)


def _alpha_bbox(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """Return (top, bottom, left, right) bounds of alpha > 0, or None when fully transparent."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def compose_layer(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Return `base` with `layer` composited over it (a new array; `base` is not modified).

    Only the bounding box of the layer's visible pixels is computed, in uint16, with the exact
    identity x // 255 == (x + 1 + (x >> 8)) >> 8 for 0 <= x < 65536 - 255.

    Args:
        base: [H, W, 3] uint8.
        layer: [H, W, 4] uint8 of the same height and width.
    """
    if base.shape[:2] != layer.shape[:2] or base.shape[2:] != (3,) or layer.shape[2:] != (4,):
        raise ValueError(f"cannot composite a {layer.shape} layer over a {base.shape} image")
    out = np.array(base, dtype=np.uint8, copy=True)
    box = _alpha_bbox(layer[..., 3])
    if box is None:
        return out
    t, b, l, r = box
    lay = layer[t:b, l:r]
    a = lay[..., 3:4].astype(np.uint16)
    x = lay[..., :3].astype(np.uint16) * a
    x += out[t:b, l:r].astype(np.uint16) * (255 - a)
    x += 127
    x += 1 + (x >> 8)
    x >>= 8
    out[t:b, l:r] = x
    return out
