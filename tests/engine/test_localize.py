"""Rough mask M_b (eq. 4) on constructed attention maps, against the reference's uint8 arithmetic."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.localize import REFERENCE_DIFF_THRESHOLD, attention_difference_u8, rough_mask_from_attention


def constructed_attention(h=16, w=16, T=77, box=(4, 10, 5, 12)):
    y0, y1, x0, x1 = box
    a = np.full((h, w, T), 1.0 / T, np.float32)
    a[..., 0] = 0.8  # the first token attends to the unedited region ...
    a[y0:y1, x0:x1, 0] = 0.1
    a[..., 9] = 0.05  # ... the last one to the edit
    a[y0:y1, x0:x1, 9] = 0.6
    return a


def reference_rough_mask(att, last, out_hw):
    """The reference's steps: uint8 max-normalization, cv2.subtract, PIL resize, x2, > 108, invert."""
    first = (255 * att[..., 0] / att[..., 0].max()).astype(np.uint8)
    lastm = (255 * att[..., last] / att[..., last].max()).astype(np.uint8)
    diff = np.clip(first.astype(int) - lastm.astype(int), 0, 255).astype(np.uint8)
    rgb = np.repeat(diff[..., None], 3, -1)
    up = np.asarray(Image.fromarray(rgb).resize((out_hw[1], out_hw[0])))[..., 0]
    scaled = np.clip(up.astype(int) * 2, 0, 255)
    binary = np.where(scaled > 108, 255, 0)
    return (255 - binary) > 0


def test_rough_mask_finds_the_constructed_region():
    att = constructed_attention()
    m = rough_mask_from_attention(att, 9, (512, 512))
    truth = np.zeros((512, 512), bool)
    truth[4 * 32 : 10 * 32, 5 * 32 : 12 * 32] = True
    iou = (m & truth).sum() / (m | truth).sum()
    assert iou > 0.85  # 1/32 maps upsampled 32x with bicubic blur the box's border by about half a cell
    assert m[7 * 32, 8 * 32] and not m[0, 0] and not m[-1, -1]


def test_matches_reference_arithmetic():
    rng = np.random.default_rng(0)
    att = rng.random((12, 9, 77)).astype(np.float32)
    for out_hw in [(384, 288), (100, 75)]:
        np.testing.assert_array_equal(rough_mask_from_attention(att, 7, out_hw), reference_rough_mask(att, 7, out_hw))
    assert REFERENCE_DIFF_THRESHOLD == 54


def test_degenerate_maps_do_not_crash():
    zeros = np.zeros((4, 4, 77), np.float32)
    assert attention_difference_u8(zeros, 5).max() == 0
    assert rough_mask_from_attention(zeros, 5, (32, 32)).all()  # no signal: everything "close" -> refinement decides
