"""Views at the pane's size: result, original, layer, mask and diff from previews and layer crops.

The TUI shows a version in a pane of a few hundred pixels; these pictures are made from the
stored previews (`HistoryStore.preview`, long side 1024) and the version's layer crop
downsized onto them, so no full-size image is decoded (tests/agent/test_views.py patches the
decoder to check it).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def checkerboard(shape: tuple[int, int], square: int = 8) -> np.ndarray:
    """An [H, W, 3] uint8 grey checkerboard (what shows through a layer's transparent pixels)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    checker = np.where(((yy // square) + (xx // square)) % 2 == 0, 200, 140).astype(np.uint8)
    return np.repeat(checker[..., None], 3, axis=2)


def difference(original: np.ndarray, render: np.ndarray) -> np.ndarray:
    """The original dimmed to grey, changed pixels in red by how much (any size, the same for both)."""
    o = np.asarray(original).astype(np.int16)
    delta = np.abs(np.asarray(render).astype(np.int16) - o).max(axis=2).astype(np.uint8)
    grey = (o.mean(axis=2) // 3).astype(np.uint8)
    out = np.stack([grey, grey, grey], axis=2)
    changed = delta > 0
    out[changed, 0] = np.maximum(delta[changed], 96)
    out[changed, 1] = grey[changed] // 2
    out[changed, 2] = grey[changed] // 2
    return out


def small_view(store: Any, session_id: str, name: str, ref: str) -> np.ndarray:
    """The view `name` of version `ref` at preview size.

    Args:
        store: a HistoryStore (preview, original_preview, layer_crop, get_session).
        session_id: the session.
        name: result, original, layer, mask or diff.
        ref: the version.
    """
    from storage.crops import LayerCrop, apply_to_preview

    if name == "result":
        return store.preview(session_id, ref)
    if name == "original":
        return store.original_preview(session_id)
    if name == "diff":
        return difference(store.original_preview(session_id), store.preview(session_id, ref))
    shape = store.original_preview(session_id).shape[:2]
    info = store.get_session(session_id)
    crop = store.layer_crop(session_id, ref)
    if name == "mask":
        base = np.zeros(shape + (3,), np.uint8)
        if crop is None:
            return base
        white = np.zeros(crop.mask.shape + (4,), np.uint8)
        white[crop.mask] = 255
        crop = LayerCrop(white, crop.mask, crop.top, crop.left)
    else:
        base = checkerboard(shape)
        if crop is None:
            return base
    return apply_to_preview(base, crop, (info.height, info.width))


def fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` shrunk (area filter, aspect kept) to fit in `size` = (max width, max height); never enlarged."""
    from storage.crops import downsize

    h, w = image.shape[:2]
    max_w, max_h = max(1, int(size[0])), max(1, int(size[1]))
    scale = min(1.0, max_w / w, max_h / h)
    if scale >= 1.0:
        return image
    return downsize(image, (max(1, round(h * scale)), max(1, round(w * scale))))
