"""Tests of engine.compositing: the integer formula, alpha maps, full-resolution layers."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import EditParams
from engine.compositing import (
    LayerCompositor,
    checkerboard,
    composite_over,
    composite_over_reference,
    difference_view,
    layer_over_checkerboard,
)
from engine.imageio import work_size_hw
from engine.refine import MaskRefiner
from engine.smoother import EdgeSmoother


def _disc(h, w, cy, cx, r):
    yy, xx = np.mgrid[0:h, 0:w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_composite_formula_against_float_reference():
    # every alpha x every layer value x 53 base values (0, 5, ..., 255), three channel variants
    lv = np.arange(256, dtype=np.uint8)
    bv = np.arange(0, 256, 5, dtype=np.uint8)
    L, B = np.meshgrid(lv, bv, indexing="ij")  # [256, 52]
    base = np.stack([B, 255 - B, B ^ 0x5A], axis=2)
    rgb = np.stack([L, 255 - L, L ^ 0xA5], axis=2)
    for a in range(256):
        layer = np.concatenate([rgb, np.full(L.shape + (1,), a, np.uint8)], axis=2)
        out = composite_over(base, layer)
        np.testing.assert_array_equal(out, composite_over_reference(base, layer))  # +-0
        expect = (L.astype(np.int64) * a + B.astype(np.int64) * (255 - a) + 127) // 255
        np.testing.assert_array_equal(out[..., 0], expect)
        if a == 0:
            np.testing.assert_array_equal(out, base)
        if a == 255:
            np.testing.assert_array_equal(out, rgb)
    with pytest.raises(ValueError):
        composite_over(base, layer[..., :3])


def test_reference_alpha_is_exact():
    refined = np.zeros((20, 20), bool)
    refined[5:15, 5:15] = True
    smoothed = np.zeros((20, 20), bool)
    smoothed[7:17, 5:15] = True
    alpha = LayerCompositor(mode="reference").alpha_at_work_size(refined, smoothed)
    expect = np.zeros((20, 20), np.float32)
    expect[refined ^ smoothed] = 0.6
    expect[refined & smoothed] = 1.0
    np.testing.assert_array_equal(alpha, expect)
    alpha = LayerCompositor(mode="reference").alpha_at_work_size(
        refined, smoothed, EditParams(action="add", edge_alpha=0.3))
    assert alpha[16, 10] == np.float32(0.3)
    with pytest.raises(ValueError):
        LayerCompositor(mode="fancy")


def test_feather_alpha_zero_outside_ramped_at_the_edge():
    h, w = 512, 400  # feather widths are given at 512 px
    refined = _disc(h, w, 250, 200, 100)
    smoothed = _disc(h, w, 250, 210, 110)
    union = refined | smoothed
    alpha = LayerCompositor().alpha_at_work_size(refined, smoothed)
    assert alpha.dtype == np.float32
    np.testing.assert_array_equal(alpha > 0, union)  # > 0 exactly on the union
    assert np.all(alpha[~union] == 0.0)
    assert alpha[250, 200] == pytest.approx(1.0)  # deep inside both
    assert alpha.max() <= 1.0
    # the outermost ring is faint, and steps between neighbours are small (no hard seam)
    ring = union & ~np.pad(union, 1)[2:, 1:-1] | union & ~np.pad(union, 1)[:-2, 1:-1]
    assert alpha[ring].max() <= 0.35
    assert np.abs(np.diff(alpha, axis=1)).max() <= 0.35
    ref = LayerCompositor(mode="reference").alpha_at_work_size(refined, smoothed)
    assert np.abs(np.diff(ref, axis=1)).max() >= 0.6
    # empty and full masks
    empty = np.zeros((h, w), bool)
    assert not LayerCompositor().alpha_at_work_size(empty, empty).any()
    full = np.ones((h, w), bool)
    np.testing.assert_allclose(LayerCompositor().alpha_at_work_size(full, full), 1.0)


def test_alpha_zero_layer_is_byte_identical():
    rng = np.random.default_rng(0)
    orig = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    canvas = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    layer, comp, mask = LayerCompositor().to_full_resolution(canvas, np.zeros((40, 48), np.float32), orig)
    np.testing.assert_array_equal(comp, orig)
    assert not mask.any() and not layer.any()


def test_full_resolution_large_non_square_image():
    H, W = 3000, 1999
    rng = np.random.default_rng(1)
    orig = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    h, w = work_size_hw(H, W)
    assert (h, w) == (512, 344)
    canvas = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    refined = _disc(h, w, 250, 170, 60)
    smoothed = _disc(h, w, 255, 170, 64)
    comp_ = LayerCompositor()
    alpha = comp_.alpha_at_work_size(refined, smoothed)
    layer, comp, mask = comp_.to_full_resolution(canvas, alpha, orig)
    assert layer.shape == (H, W, 4) and comp.shape == (H, W, 3) and mask.shape == (H, W)
    assert layer.dtype == np.uint8 and comp.dtype == np.uint8 and mask.dtype == bool
    np.testing.assert_array_equal(mask, layer[..., 3] > 0)
    np.testing.assert_array_equal(comp[~mask], orig[~mask])  # every pixel outside unchanged
    assert not layer[~mask].any()
    np.testing.assert_array_equal(comp, composite_over(orig, layer))
    # the mask is the union, upsampled: about (H / h)^2 times its work-size area
    ratio = mask.sum() / (refined | smoothed).sum()
    assert abs(ratio - H * W / (h * w)) / (H * W / (h * w)) < 0.05
    assert layer[1500, 1000, 3] == 255  # the centre is fully opaque
    with pytest.raises(ValueError):
        comp_.to_full_resolution(canvas, alpha[:10], orig)


def _difference_view_pixelwise(original, render):
    """The difference view one pixel at a time, in floats (the grey is the mean divided by 3, floored)."""
    out = np.zeros_like(original)
    for y in range(original.shape[0]):
        for x in range(original.shape[1]):
            o, r = original[y, x].astype(float), render[y, x].astype(float)
            grey = np.floor(o.mean() / 3)
            d = np.abs(r - o).max()
            out[y, x] = (max(d, 96), grey // 2, grey // 2) if d > 0 else (grey, grey, grey)
    return out


def test_difference_view():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    b = a.copy()
    b[:8, :8] = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    b[20, 20, 1] ^= 1  # a change of 1 still shows, at the minimum red of 96
    d = difference_view(a, b)
    assert d.dtype == np.uint8 and d.shape == a.shape
    np.testing.assert_array_equal(d, _difference_view_pixelwise(a, b))
    assert d[20, 20, 0] == 96
    untouched = np.ones(a.shape[:2], bool)
    untouched[:8, :8] = False
    untouched[20, 20] = False
    assert (d[untouched, 0] == d[untouched, 1]).all()  # grey where nothing changed
    with pytest.raises(ValueError):
        difference_view(a, b[:2])


def test_layer_over_checkerboard_is_the_compositor_over_a_board():
    rng = np.random.default_rng(8)
    layer = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
    board = checkerboard((20, 24))
    assert set(np.unique(board)) == {140, 200} and board[0, 0, 0] == 200 and board[0, 8, 0] == 140
    np.testing.assert_array_equal(layer_over_checkerboard(layer), composite_over(board, layer))
    layer[..., 3] = 0
    np.testing.assert_array_equal(layer_over_checkerboard(layer), board)


def test_chain_with_empty_rough_mask_leaves_the_photo_untouched():
    rng = np.random.default_rng(3)
    orig = rng.integers(0, 256, (96, 80, 3), dtype=np.uint8)
    canvas = orig.copy()
    refine = MaskRefiner(None).refine(np.zeros((96, 80), bool), canvas,
                                      fallback_mask=np.zeros((96, 80), bool))
    assert not refine.mask.any() and refine.warnings
    smooth = EdgeSmoother()(canvas, orig, refine.mask)
    alpha = LayerCompositor().alpha_at_work_size(refine.mask, smooth.mask)
    layer, comp, mask = LayerCompositor().to_full_resolution(canvas, alpha, orig)
    np.testing.assert_array_equal(comp, orig)
    assert not mask.any()


def _full_plane_reference(canvas, alpha, orig):
    """The full-size computation the crop path replaces: every map resized to the whole photo."""
    from engine.imageio import resize_float, resize_mask, resize_rgb

    size = orig.shape[:2]
    hard = resize_mask(alpha > 0, size, "bilinear")
    a_u8 = np.clip(np.rint(np.where(hard, resize_float(alpha, size, "bilinear"), 0.0) * 255.0), 0, 255)
    a_u8 = a_u8.astype(np.uint8)
    layer = np.zeros(size + (4,), np.uint8)
    layer[..., :3] = np.where((a_u8 > 0)[..., None], resize_rgb(canvas, size, "lanczos"), 0)
    layer[..., 3] = a_u8
    return layer


@pytest.mark.parametrize("full_hw, centre", [((1365, 2048), (0.4, 0.6)), ((300, 451), (0.05, 0.95)),
                                             ((90, 70), (0.5, 0.5)), ((700, 500), (0.99, 0.01))])
def test_crop_path_matches_the_full_plane_computation(full_hw, centre):
    H, W = full_hw
    rng = np.random.default_rng(H)
    orig = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    h, w = work_size_hw(H, W)
    canvas = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    cy, cx = int(centre[0] * h), int(centre[1] * w)
    r = max(3, min(h, w) // 6)
    alpha = LayerCompositor().alpha_at_work_size(_disc(h, w, cy, cx, r), _disc(h, w, cy, cx + 1, r + 2))
    out = LayerCompositor().to_full_resolution_crop(canvas, alpha, orig)
    full = np.zeros((H, W, 4), np.uint8)
    full[out.top:out.top + out.rgba.shape[0], out.left:out.left + out.rgba.shape[1]] = out.rgba
    np.testing.assert_array_equal(out.composite, composite_over(orig, full))  # what storage recomposes
    np.testing.assert_array_equal(out.mask, out.rgba[..., 3] > 0)
    a = out.rgba[..., 3]
    assert a[0].any() and a[-1].any() and a[:, 0].any() and a[:, -1].any()  # tight box
    assert out.rgba.shape[0] * out.rgba.shape[1] < H * W
    ref = _full_plane_reference(canvas, alpha, orig)
    ra, fa = ref[..., 3].astype(int), full[..., 3].astype(int)
    # The outline may differ by a few pixels (8-bit hard mask, float rounding of the box) ...
    flips = (ra > 0) != (fa > 0)
    assert flips.sum() <= max(2, 0.01 * (ra > 0).sum())
    # ... and alpha (8-bit bilinear) and I_sty by one level; nothing else changes.
    both = (ra > 0) & (fa > 0)
    assert np.abs(ra - fa)[both].max() <= 1
    assert np.abs(ref[..., :3].astype(int) - full[..., :3])[both].max() <= 1
    assert not full[~(fa > 0)].any()
