"""Tests of engine.refine: small-region filter, Region-IoU, MaskRefiner (tiny SAM)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from engine.bundles import build_tiny_sam
from engine.refine import (
    MaskRefiner,
    changed_pixel_mask,
    filter_small_regions,
    region_iou_reference,
    region_iou_scores,
    scale_region_px,
    select_segment_by_region_iou,
)


def _rect(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


@pytest.fixture(scope="module")
def tiny_sam():
    return build_tiny_sam(seed=0)


# --- small regions ---------------------------------------------------------------------------


def test_filter_small_regions_threshold_and_connectivity():
    m = np.zeros((40, 40), bool)
    m[0:7, 0:9] = True  # 63 px: dropped
    m[20:28, 20:28] = True  # 64 px: kept
    out = filter_small_regions(m, 64)
    np.testing.assert_array_equal(out, _rect(40, 40, 20, 28, 20, 28))
    # Two 40-px blocks touching only at a corner: separate for 4-connectivity, one for 8.
    d = np.zeros((30, 30), bool)
    d[0:5, 0:8] = True
    d[5:10, 8:16] = True
    assert not filter_small_regions(d, 64, connectivity=4).any()
    np.testing.assert_array_equal(filter_small_regions(d, 64, connectivity=8), d)
    assert filter_small_regions(m, 0).sum() == m.sum()
    with pytest.raises(ValueError):
        filter_small_regions(m, 64, connectivity=6)


def test_filter_small_regions_removes_only_the_region_not_its_box():
    # A small blob inside the hole of a large ring: the reference blanked bounding boxes; we
    # remove the blob alone, and a small blob whose box overlaps the ring keeps the ring intact.
    ring = _rect(64, 64, 10, 50, 10, 50) & ~_rect(64, 64, 15, 45, 15, 45)
    blob = _rect(64, 64, 28, 32, 28, 32)
    np.testing.assert_array_equal(filter_small_regions(ring | blob, 64), ring)
    corner = np.zeros((64, 64), bool)  # an L outside the ring's corner; its box covers the corner
    corner[8, 8:13] = True
    corner[8:13, 8] = True
    assert not (ndimage.binary_dilation(corner) & ring).any()
    np.testing.assert_array_equal(filter_small_regions(ring | corner, 64, connectivity=8), ring)


def test_scale_region_px():
    assert scale_region_px(64, 512, 512) == 64
    assert scale_region_px(64, 512, 344) == 64
    assert scale_region_px(64, 1024, 700) == 256
    assert scale_region_px(64, 256, 256) == 16


# --- Region-IoU ------------------------------------------------------------------------------


def test_region_iou_matches_reference_numpy_and_torch():
    rng = np.random.default_rng(0)
    segs = rng.random((17, 31, 23)) < rng.random((17, 1, 1))
    segs[3] = False  # empty segment
    rough = rng.random((31, 23)) < 0.3
    ref = region_iou_reference(segs, rough)
    got = region_iou_scores(segs, rough)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (17,)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-15)
    got_t = region_iou_scores(torch.from_numpy(segs), torch.from_numpy(rough))
    assert torch.is_tensor(got_t)
    torch.testing.assert_close(got_t, torch.tensor(ref, dtype=torch.float64), rtol=0, atol=1e-15)
    # empty rough and empty segment: union 0 -> 0
    z = region_iou_scores(np.zeros((2, 5, 5), bool), np.zeros((5, 5), bool))
    np.testing.assert_array_equal(z, [0.0, 0.0])


def test_region_iou_picks_whole_object_over_part_and_background():
    h = w = 64
    obj = _rect(h, w, 16, 48, 16, 48)  # the object
    head = _rect(h, w, 16, 26, 16, 48)  # a part of it
    bg = ~obj
    everything = np.ones((h, w), bool)
    rough = _rect(h, w, 18, 50, 14, 46)  # M_b: roughly the object, shifted
    segs = np.stack([head, bg, everything, obj])
    k, iou = select_segment_by_region_iou(segs, rough)
    assert k == 3
    assert iou == pytest.approx(region_iou_reference([obj], rough)[0])
    # A rough mask on the head only picks the part, not the whole.
    k, _ = select_segment_by_region_iou(segs, _rect(h, w, 15, 27, 17, 47))
    assert k == 0


def test_region_iou_ties_take_the_first():
    h = w = 20
    rough = _rect(h, w, 0, 10, 0, 20)  # 200 px
    a = _rect(h, w, 0, 10, 0, 10)  # inter 100, union 200
    b = _rect(h, w, 0, 10, 10, 20)  # same score, different pixels
    c = _rect(h, w, 10, 20, 0, 20)  # no overlap
    assert select_segment_by_region_iou(np.stack([c, a, b]), rough) == (1, 0.5)
    assert select_segment_by_region_iou(np.stack([c, b, a, b]), rough) == (1, 0.5)
    assert select_segment_by_region_iou(np.stack([a, a]), rough)[0] == 0


def test_select_segment_degenerate():
    rough = _rect(10, 10, 0, 3, 0, 3)
    assert select_segment_by_region_iou(np.zeros((0, 10, 10), bool), rough) == (-1, 0.0)
    assert select_segment_by_region_iou(np.stack([_rect(10, 10, 5, 9, 5, 9)]), rough) == (-1, 0.0)
    with pytest.raises(ValueError):
        region_iou_scores(np.zeros((2, 10, 9), bool), rough)


# --- MaskRefiner ---------------------------------------------------------------------------


def test_refine_with_given_segments_and_fallbacks():
    h = w = 128  # min_region_px scales to round(64 / 16) = 4 px
    refiner = MaskRefiner(None, min_region_px=64)
    img = np.zeros((h, w, 3), np.uint8)
    obj = _rect(h, w, 30, 90, 30, 90)
    speck = _rect(h, w, 5, 6, 5, 8)  # 3 px: filtered
    segs = np.stack([~obj, obj | speck])
    rough = _rect(h, w, 32, 95, 28, 88) | _rect(h, w, 120, 121, 0, 2)
    res = refiner.refine(rough, img, segments=segs)
    assert res.index == 1 and res.num_segments == 2 and not res.warnings
    np.testing.assert_array_equal(res.mask, obj)
    assert not res.rough[120, 0]
    # empty rough, fallback used
    res = refiner.refine(np.zeros((h, w), bool), img, segments=segs, fallback_mask=obj)
    assert res.index == 1 and "changed" in res.warnings[0]
    # empty rough, no fallback: empty mask, warning, no SAM call (model is None)
    res = refiner.refine(np.zeros((h, w), bool), img)
    assert not res.mask.any() and res.index == -1 and res.warnings
    # no segments
    res = refiner.refine(rough, img, segments=np.zeros((0, h, w), bool))
    assert res.index == -1 and res.mask.sum() == res.rough.sum() > 0 and "no segments" in res.warnings[0]
    # no overlapping segment
    res = refiner.refine(rough, img, segments=np.stack([_rect(h, w, 0, 10, 100, 128)]))
    assert res.index == -1 and "overlaps" in res.warnings[0]
    np.testing.assert_array_equal(res.mask, res.rough)
    # the best segment is below the minimum region size
    res = refiner.refine(_rect(h, w, 0, 4, 0, 4), img, segments=np.stack([_rect(h, w, 0, 1, 0, 3)]))
    assert res.index == -1 and res.mask.sum() == 16
    with pytest.raises(RuntimeError, match="no SAM model"):
        refiner.refine(rough, img)
    with pytest.raises(ValueError):
        refiner.refine(rough[:10], img)


def test_changed_pixel_mask():
    a = np.zeros((40, 40, 3), np.uint8)
    b = a.copy()
    b[10:20, 10:20, 1] = 100
    b[30, 30, 0] = 255  # single pixel: filtered
    m = changed_pixel_mask(b, a, threshold=40, min_px=4)
    np.testing.assert_array_equal(m, _rect(40, 40, 10, 20, 10, 20))


def test_mask_refiner_end_to_end_with_tiny_sam(tiny_sam):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    img[16:48, 16:48] = (250, 20, 20)
    refiner = MaskRefiner(tiny_sam, points_per_side=4, pred_iou_thresh=0.0,
                          stability_score_thresh=0.0, min_region_px=64)
    segs = refiner.generate_segments(img)
    assert segs.dtype == bool and segs.ndim == 3 and segs.shape[1:] == (64, 64)
    assert segs.shape[0] >= 1
    rough = _rect(64, 64, 16, 48, 16, 48)
    res = refiner.refine(rough, img)
    assert res.mask.shape == (64, 64) and res.mask.dtype == bool and res.mask.any()
    assert res.num_segments == segs.shape[0]
    expected = region_iou_reference(segs, res.rough)
    assert res.index == int(np.argmax(expected)) >= 0  # a segment was chosen, and the best-scoring one
    assert res.iou == pytest.approx(max(expected))
    with pytest.raises(ValueError):
        refiner.generate_segments(img.astype(np.float32))
