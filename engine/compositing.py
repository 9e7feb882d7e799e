"""Layer blending (ZONE sec. 4.4, last step): alpha map, full-resolution RGBA layer, composite.

Alpha at work size, from the refined mask M_f and the smoothed mask M*_f:

* mode "reference" (the authors' code, exactly): 1 on M*_f ∩ M_f, `edge_alpha` on M*_f XOR M_f
  (the band where exactly one is set), 0 elsewhere.
* mode "feather" (default, ours): the same map, then (1) inside the union U = M*_f ∪ M_f the
  step between 1 and `edge_alpha` is softened by a small normalized box blur (outside pixels do
  not take part), and (2) the outer boundary of U gets a linear ramp, alpha * min(1, d / (r + 1))
  with d the Euclidean distance to the nearest pixel outside U (d = 1 on the outermost ring) and
  r = `feather_px` (3 at 512 px, scaled with the long side). Alpha stays > 0 on all of U and is
  EXACTLY 0 outside U, so the untouched pixels stay byte-identical.

At full resolution the alpha is upsampled bilinearly (as 8-bit, rint(alpha * 255)) and forced to 0
wherever the upsampled hard union (8-bit bilinear of 0/255 > 127, i.e. > 0.5) is 0; I_sty is
upsampled with Lanczos; the layer is RGBA (I_sty, alpha) with RGB zeroed where alpha is 0. Only the
bounding box the work-size alpha can reach is computed (Pillow's `box`, in stripes), which equals
the full-size resize there up to the float rounding of the box's coordinates; the composite uses the project-wide integer formula
`(L_rgb * a + B * (255 - a) + 127) // 255`, so every pixel with a == 0 is the original's.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

from engine.imageio import resize_rgb

REFERENCE_SIDE = 512
MODES = ("feather", "reference")
STRIPE_PIXELS = 1 << 20  # full-resolution pixels per stripe: bounds the float temporaries
BAND_PIXELS = 1 << 16  # pixels per band of `composite_over` (cache-sized uint16 temporaries)
THREADS = min(2, os.cpu_count() or 1)  # stripes in parallel: Pillow and numpy release the GIL


@dataclass
class FullResLayer:
    """The edit at full resolution, inside the bounding box of its visible pixels.

    rgba: uint8 [h, w, 4], RGB zero where alpha is 0; mask: bool [h, w], alpha > 0; top, left:
    where the crop sits in the photo; composite: uint8 [H, W, 3], the photo with the crop over it.
    """

    rgba: np.ndarray
    mask: np.ndarray
    top: int
    left: int
    composite: np.ndarray


def composite_over(base_rgb: np.ndarray, layer_rgba: np.ndarray) -> np.ndarray:
    """Composite an RGBA layer over an RGB image: `(L * a + B * (255 - a) + 127) // 255`.

    Args:
        base_rgb: uint8 [H, W, 3].
        layer_rgba: uint8 [H, W, 4].

    Returns:
        uint8 [H, W, 3]; a == 0 gives B exactly, a == 255 gives L exactly.
    """
    base = np.asarray(base_rgb)
    layer = np.asarray(layer_rgba)
    if base.dtype != np.uint8 or layer.dtype != np.uint8:
        raise ValueError(f"composite_over expects uint8 arrays, got {base.dtype} and {layer.dtype}")
    if base.ndim != 3 or base.shape[2] != 3 or layer.shape != base.shape[:2] + (4,):
        raise ValueError(f"base must be [H, W, 3] and layer [H, W, 4] of the same size, "
                         f"got {base.shape} and {layer.shape}")
    out = np.empty(base.shape, np.uint8)
    band = max(1, BAND_PIXELS // max(1, base.shape[1]))
    for y in range(0, base.shape[0], band):  # bands of rows: the uint16 temporaries stay in cache
        _composite_band(out[y:y + band], base[y:y + band], layer[y:y + band])
    return out


def _composite_band(out: np.ndarray, base: np.ndarray, layer: np.ndarray) -> None:
    """`composite_over` of one band into `out` (fast paths for fully transparent and opaque bands)."""
    alpha = layer[..., 3]
    lo, hi = int(alpha.min()), int(alpha.max())
    if hi == 0:
        out[...] = base
        return
    if lo == 255:
        out[...] = layer[..., :3]
        return
    # 255 * 255 + 127 = 65152 fits uint16; x // 255 == (x + 1 + (x >> 8)) >> 8 for x < 65281.
    a = alpha[..., None].astype(np.uint16)  # [h, W, 1]
    x = layer[..., :3].astype(np.uint16) * a
    x += base.astype(np.uint16) * (255 - a)
    x += 127
    x += 1 + (x >> 8)
    x >>= 8
    out[...] = x


def composite_over_reference(base_rgb: np.ndarray, layer_rgba: np.ndarray) -> np.ndarray:
    """Float reference of `composite_over`: round(alpha * L + (1 - alpha) * B), alpha = a / 255.

    Equal to the integer formula: x / 255 never has a fractional part of exactly 0.5, and the
    nearest such parts (127/255, 128/255) are far from float64 rounding error.
    """
    layer = np.asarray(layer_rgba, dtype=np.float64)
    alpha = layer[..., 3:4] / 255.0
    out = alpha * layer[..., :3] + (1.0 - alpha) * np.asarray(base_rgb, dtype=np.float64)
    return np.rint(out).astype(np.uint8)


def difference_view(original_rgb: np.ndarray, render_rgb: np.ndarray) -> np.ndarray:
    """The difference view: the original dimmed to grey, every changed pixel red by how much it changed.

    grey = (R + G + B) // 9; where the largest channel difference d is > 0 the pixel is
    (max(d, 96), grey // 2, grey // 2), elsewhere (grey, grey, grey). Integer arithmetic only.

    Args:
        original_rgb: uint8 [H, W, 3].
        render_rgb: uint8 [H, W, 3], the edited picture.

    Returns:
        uint8 [H, W, 3].
    """
    orig = np.asarray(original_rgb)
    render = np.asarray(render_rgb)
    if orig.shape != render.shape or orig.ndim != 3 or orig.shape[2] != 3:
        raise ValueError(f"cannot compare images of shapes {orig.shape} and {render.shape}")
    delta = np.abs(render.astype(np.int16) - orig.astype(np.int16)).max(axis=2)  # [H, W]
    grey = (orig.astype(np.uint16).sum(axis=2) // 9).astype(np.uint8)  # [H, W]
    out = np.repeat(grey[..., None], 3, axis=2)
    changed = delta > 0
    out[changed, 0] = np.maximum(delta[changed], 96)
    out[changed, 1] = grey[changed] // 2
    out[changed, 2] = grey[changed] // 2
    return out


def checkerboard(shape_hw: tuple[int, int], square: int = 8, light: int = 200, dark: int = 140) -> np.ndarray:
    """A grey checkerboard (what shows through transparent pixels): uint8 [H, W, 3]."""
    yy, xx = np.mgrid[0:shape_hw[0], 0:shape_hw[1]]
    board = np.where(((yy // square) + (xx // square)) % 2 == 0, light, dark).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def layer_over_checkerboard(layer_rgba: np.ndarray, square: int = 8) -> np.ndarray:
    """An RGBA layer shown over a checkerboard with `composite_over`: uint8 [H, W, 3]."""
    layer = np.asarray(layer_rgba)
    return composite_over(checkerboard(layer.shape[:2], square), layer)


class LayerCompositor:
    """Turn the refined and smoothed masks into an alpha map and a full-resolution layer.

    Args:
        mode: "feather" (default) or "reference" (the authors' exact alpha).
        edge_alpha: alpha in the band M*_f XOR M_f (0.6 in the reference).
        feather_px: width of the outer ramp at 512 px (feather mode).
        band_blur_px: radius of the normalized box blur softening the inner 1 / edge_alpha step at
            512 px (feather mode; 0 disables it).
    """

    def __init__(self, mode: str = "feather", edge_alpha: float = 0.6, feather_px: float = 3.0,
                 band_blur_px: float = 1.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not 0.0 < edge_alpha <= 1.0:
            raise ValueError(f"edge_alpha must be in (0, 1], not {edge_alpha}")
        self.mode = mode
        self.edge_alpha = float(edge_alpha)
        self.feather_px = float(feather_px)
        self.band_blur_px = float(band_blur_px)

    def alpha_at_work_size(self, refined: np.ndarray, smoothed: np.ndarray,
                           params: Optional[object] = None) -> np.ndarray:
        """Alpha map at work size: float32 [h, w] in [0, 1], > 0 exactly on M*_f ∪ M_f.

        Args:
            refined: bool [h, w], M_f (undilated).
            smoothed: bool [h, w], M*_f.
            params: optional `EditParams`; its `edge_alpha` overrides the compositor's.
        """
        m_f = np.asarray(refined).astype(bool)
        m_s = np.asarray(smoothed).astype(bool)
        if m_f.shape != m_s.shape or m_f.ndim != 2:
            raise ValueError(f"refined {m_f.shape} and smoothed {m_s.shape} must be equal [h, w]")
        edge_alpha = float(getattr(params, "edge_alpha", self.edge_alpha))
        # 1. The reference map: 1 where both, edge_alpha where exactly one.
        union = m_f | m_s  # [h, w]
        base = np.where(m_f & m_s, 1.0, np.where(union, edge_alpha, 0.0)).astype(np.float32)
        if self.mode == "reference" or not union.any():
            return base
        s = max(m_f.shape) / REFERENCE_SIDE
        # 2. Soften the inner 1 / edge_alpha step with a blur normalized over U.
        radius = int(round(self.band_blur_px * s))
        alpha = base
        if radius > 0:
            size = 2 * radius + 1
            num = ndimage.uniform_filter(base, size=size, mode="constant", cval=0.0)
            den = ndimage.uniform_filter(union.astype(np.float32), size=size, mode="constant", cval=0.0)
            alpha = np.where(union, num / np.maximum(den, 1e-6), 0.0).astype(np.float32)
        # 3. Outer ramp: distance to the nearest pixel outside U (1 on the outermost ring).
        ramp_px = self.feather_px * s
        if ramp_px > 0 and not union.all():
            dist = ndimage.distance_transform_edt(union)  # [h, w], 0 outside U
            alpha = alpha * np.minimum(1.0, dist / (ramp_px + 1.0)).astype(np.float32)
        alpha = np.where(union, np.clip(alpha, 1e-3, 1.0), 0.0).astype(np.float32)
        return alpha

    def to_full_resolution(self, canvas_work: np.ndarray, alpha_work: np.ndarray,
                           original_full: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bring the edit to the photo's full resolution, as full-size planes.

        Args:
            canvas_work: uint8 [h, w, 3], I_sty at work size.
            alpha_work: float [h, w] in [0, 1] from `alpha_at_work_size`.
            original_full: uint8 [H, W, 3], the untouched photo.

        Returns:
            layer: uint8 [H, W, 4], RGB zero where alpha is 0.
            composite: uint8 [H, W, 3], `composite_over(original_full, layer)`.
            mask: bool [H, W], alpha > 0.
        """
        out = self.to_full_resolution_crop(canvas_work, alpha_work, original_full)
        size = out.composite.shape[:2]
        layer = np.zeros(size + (4,), np.uint8)
        mask = np.zeros(size, bool)
        layer[out.top:out.top + out.rgba.shape[0], out.left:out.left + out.rgba.shape[1]] = out.rgba
        mask[out.top:out.top + out.mask.shape[0], out.left:out.left + out.mask.shape[1]] = out.mask
        return layer, out.composite, mask

    def to_full_resolution_crop(self, canvas_work: np.ndarray, alpha_work: np.ndarray,
                                original_full: np.ndarray) -> FullResLayer:
        """Bring the edit to full resolution, computing only the region its alpha can reach.

        Pixels outside the bilinear footprint of the work-size alpha > 0 get alpha 0 in the full
        computation too, so only that box is resized (Pillow's `box`, in stripes of rows); the
        crop is then tightened to alpha > 0. The composite is a copy of the photo with the crop
        composited over it. Only the box costs float memory and time.

        Args: as `to_full_resolution`.
        """
        canvas = np.asarray(canvas_work)
        alpha = np.asarray(alpha_work, dtype=np.float32)
        orig = np.asarray(original_full)
        if orig.dtype != np.uint8 or orig.ndim != 3 or orig.shape[2] != 3:
            raise ValueError(f"original must be uint8 [H, W, 3], got {orig.dtype} {orig.shape}")
        if canvas.shape[:2] != alpha.shape or canvas.ndim != 3 or canvas.shape[2] != 3:
            raise ValueError(f"canvas {canvas.shape} and alpha {alpha.shape} must be [h, w, 3] and [h, w]")
        (H, W), (h, w) = orig.shape[:2], alpha.shape
        composite = np.array(orig, copy=True)
        box = _full_res_box(alpha > 0, (H, W))
        if box is None:
            return FullResLayer(np.zeros((1, 1, 4), np.uint8), np.zeros((1, 1), bool), 0, 0, composite)
        t, b, l, r = box
        union_u8 = np.where(alpha > 0, np.uint8(255), np.uint8(0))
        alpha_u8 = np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)
        canvas_u8 = np.ascontiguousarray(canvas.astype(np.uint8))
        rgba = np.zeros((b - t, r - l, 4), np.uint8)
        sx, sy = w / W, h / H
        stripe = max(1, STRIPE_PIXELS // max(1, r - l))

        def do_stripe(y0: int) -> None:
            y1 = min(b, y0 + stripe)
            src = (l * sx, y0 * sy, r * sx, y1 * sy)
            size = (y1 - y0, r - l)
            # 1. Hard union mask and alpha (8-bit bilinear); alpha forced to 0 outside the hard mask.
            hard = _resize_u8(union_u8, size, box=src) > 127
            a_u8 = _resize_u8(alpha_u8, size, box=src)
            np.multiply(a_u8, hard, out=a_u8, casting="unsafe")
            # 2. I_sty (Lanczos) and the layer; 3. the composite of this stripe.
            part = rgba[y0 - t:y1 - t]
            part[..., :3] = resize_rgb(canvas_u8, size, "lanczos", box=src)
            if int(a_u8.min()) == 0:
                np.multiply(part[..., :3], (a_u8 > 0)[..., None], out=part[..., :3], casting="unsafe")
            part[..., 3] = a_u8
            composite[y0:y1, l:r] = composite_over(orig[y0:y1, l:r], part)

        starts = list(range(t, b, stripe))
        if THREADS > 1 and len(starts) > 1:
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                list(pool.map(do_stripe, starts))
        else:
            for y0 in starts:
                do_stripe(y0)
        rows = np.flatnonzero(rgba[..., 3].any(axis=1))
        if rows.size == 0:
            return FullResLayer(np.zeros((1, 1, 4), np.uint8), np.zeros((1, 1), bool), 0, 0, composite)
        cols = np.flatnonzero(rgba[rows[0]:rows[-1] + 1, :, 3].any(axis=0))
        rgba = np.ascontiguousarray(rgba[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
        return FullResLayer(rgba, rgba[..., 3] > 0, t + int(rows[0]), l + int(cols[0]), composite)


def _resize_u8(plane: np.ndarray, size_hw: tuple[int, int], box: tuple[float, float, float, float]) -> np.ndarray:
    """Bilinear resize of a uint8 [h, w] plane's `box` region to `size_hw` (Pillow mode L), writable."""
    from PIL import Image

    out = Image.fromarray(plane, "L").resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR, box=box)
    return np.array(out, dtype=np.uint8)


def _full_res_box(union: np.ndarray, full_hw: tuple[int, int]) -> Optional[tuple[int, int, int, int]]:
    """(top, bottom, left, right) at full resolution that contains every pixel the bilinear
    resize of `union` can make non-zero (with a margin of two pixels); None if `union` is empty."""
    rows = np.flatnonzero(union.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(union.any(axis=0))
    (H, W), (h, w) = full_hw, union.shape

    def span(lo: int, hi: int, n: int, N: int) -> tuple[int, int]:
        scale = N / n
        support = max(1.0, n / N)  # bilinear support, in work pixels
        start = math.floor((lo - support) * scale) - 2
        stop = math.ceil((hi + support) * scale) + 2
        return max(0, start), min(N, stop)

    t, b = span(int(rows[0]), int(rows[-1]) + 1, h, H)
    l, r = span(int(cols[0]), int(cols[-1]) + 1, w, W)
    return t, b, l, r
