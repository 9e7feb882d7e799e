"""Tests of engine.smoother: morphology helpers, torch vs numpy eq. 7-8, a constructed edit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from engine.api import EditParams
from engine.compositing import LayerCompositor
from engine.smoother import (
    EdgeSmoother,
    _pool_dilate,
    _pool_erode,
    close_mask,
    dilate_mask,
    erode_mask,
    fill_holes,
    gray_reference_u8,
    lowpass_disc,
    rgb_to_gray,
    scale_d0,
    scale_kernel,
    smooth_edges_reference,
)


def _blobs(rng, h, w, n=4):
    """A bool mask made of a few random ellipses."""
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(3, h / 4), rng.uniform(3, w / 4)
        m |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return m


def _texture(rng, h, w):
    """A smooth colourful texture plus fine noise: uint8 [h, w, 3], luma roughly 90-170."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(3):
            fy, fx, ph = rng.uniform(1, 12), rng.uniform(1, 12), rng.uniform(0, 2 * math.pi)
            base[..., c] += 12 * np.sin(2 * math.pi * (fy * yy + fx * xx) + ph)
    base += 130 + rng.normal(0, 6, (h, w, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


# --- helpers -------------------------------------------------------------------------------


def test_morphology_helpers_match_scipy_binary_ops():
    rng = np.random.default_rng(0)
    for _ in range(12):
        h, w = rng.integers(8, 70, 2)
        m = rng.random((h, w)) < rng.uniform(0.02, 0.6)
        it = int(rng.integers(1, 6))
        k = 2 * int(rng.integers(0, 8)) + 1
        sq3, sqk = np.ones((3, 3), bool), np.ones((k, k), bool)
        np.testing.assert_array_equal(dilate_mask(m, it), ndimage.binary_dilation(m, sq3, iterations=it))
        np.testing.assert_array_equal(erode_mask(m, k), ndimage.binary_erosion(m, sqk, border_value=1))
        closed = ndimage.binary_erosion(ndimage.binary_dilation(m, sqk), sqk, border_value=1)
        np.testing.assert_array_equal(close_mask(m, k), closed)
        # torch max-pool morphology == scipy, same border conventions
        t = torch.from_numpy(m.astype(np.float64))[None, None]
        np.testing.assert_array_equal(_pool_dilate(t, k)[0, 0].numpy() > 0.5,
                                      ndimage.binary_dilation(m, sqk) if k > 1 else m)
        np.testing.assert_array_equal(_pool_erode(t, k)[0, 0].numpy() > 0.5, erode_mask(m, k))
    with pytest.raises(ValueError):
        close_mask(m, 4)


def test_closing_keeps_masks_touching_the_border_and_fill_fills_holes():
    m = np.zeros((40, 40), bool)
    m[:, :10] = True  # touches three borders
    np.testing.assert_array_equal(close_mask(m, 21), m)
    ring = np.zeros((30, 30), bool)
    ring[5:25, 5:25] = True
    ring[10:20, 10:20] = False
    ring[0:3, 0:3] = True
    filled = fill_holes(ring)
    assert filled[15, 15] and filled.sum() == 400 + 9


def test_lowpass_disc_and_gray():
    d = lowpass_disc(64, 48, 10)
    assert d.dtype == bool and d[32, 24] and not d[32, 24 + 11] and d[32, 34] and d[22, 24]
    assert abs(d.sum() - math.pi * 100) < 0.1 * math.pi * 100
    np.testing.assert_array_equal(lowpass_disc(8, 8, 100), np.ones((8, 8), bool))
    px = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    np.testing.assert_allclose(rgb_to_gray(px, "luma")[0], [76.245, 149.685, 29.07, 0.299 * 10 + 0.587 * 20 + 0.114 * 30])
    # The default is the reference's: weights on swapped channels, rounded.
    np.testing.assert_array_equal(rgb_to_gray(px)[0], [29, 150, 76, round(0.299 * 30 + 0.587 * 20 + 0.114 * 10)])
    with pytest.raises(ValueError, match="gray"):
        rgb_to_gray(px, "bt709")


def _reference_gray(rgb: np.ndarray) -> np.ndarray:
    """The authors' grey, step by step: `cv2.cvtColor(np.array(pil), cv2.COLOR_BGR2RGB)` swaps the
    channels, then `cv2.COLOR_RGB2GRAY` treats channel 0 as R, in OpenCV's 14-bit fixed point
    (each coefficient rounded to 1/16384, half added before the shift)."""
    swapped = np.stack([rgb[..., 2], rgb[..., 1], rgb[..., 0]], axis=-1).astype(np.int64)
    r2y, g2y, b2y = (int(round(c * (1 << 14))) for c in (0.299, 0.587, 0.114))
    return ((swapped[..., 0] * r2y + swapped[..., 1] * g2y + swapped[..., 2] * b2y + (1 << 13)) >> 14).astype(np.uint8)


def test_reference_gray_on_every_colour():
    v = np.arange(256, dtype=np.uint8)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    rgb = np.stack([r, g, b], axis=-1).reshape(4096, 4096, 3)  # all 2^24 colours
    got = gray_reference_u8(rgb)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, _reference_gray(rgb))
    exact = 0.299 * rgb[..., 2] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 0]  # B, G, R weights swapped
    assert np.abs(got - exact).max() < 0.51  # rounded, within the fixed point's coefficient error
    assert (got == np.rint(exact)).mean() > 0.99  # np.rint differs for 0.2% of colours, by one


def test_reference_gray_with_opencv_when_installed():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(gray_reference_u8(rgb), cv2.cvtColor(bgr, cv2.COLOR_RGB2GRAY))


def test_default_difference_image_is_the_references_arithmetic():
    """The default smoother's M_dm equals the authors' subtract_fft_images up to its uint8 cast,
    re-implemented plainly: BGR arrays masked by M_d, grey, two shifted FFTs, disc, difference."""
    rng = np.random.default_rng(11)
    h, w = 96, 128
    orig = _texture(rng, h, w)
    sty = orig.copy()
    region = _blobs(rng, h, w, 2)
    sty[region] = rng.integers(0, 255, 3)
    refined = np.roll(region, (1, 2), axis=(0, 1))
    got = EdgeSmoother(d0=50.0, scale_with_size=False, closing_kernel=9).smooth_raw(sty, orig, refined)
    m_d = dilate_mask(refined, 4)
    grays = [_reference_gray(np.where(m_d[..., None], im, 0)).astype(np.float64) for im in (sty, orig)]
    disc = lowpass_disc(h, w, 50.0)
    f1, f2 = (np.fft.fftshift(np.fft.fft2(g)) * disc for g in grays)
    plain = np.abs(np.fft.ifft2(np.fft.ifftshift(f1 - f2)))
    assert 30 < plain.max() < 255  # below the clip, over the threshold: the whole range is compared
    np.testing.assert_allclose(got.difference, plain, atol=1e-9)
    luma = EdgeSmoother(d0=50.0, scale_with_size=False, closing_kernel=9, gray="luma").smooth_raw(sty, orig, refined)
    assert np.abs(luma.difference - plain).max() > 0.5  # the two behaviours do differ here


def test_d0_and_kernel_scaling():
    assert scale_d0(200, 512, 512) == pytest.approx(200)
    assert scale_d0(200, 1024, 1024) == pytest.approx(400)
    assert scale_d0(200, 344, 512) == pytest.approx(200 * math.sqrt(344 * 512) / 512)
    assert scale_kernel(21, 512, 512) == 21
    assert scale_kernel(21, 256, 200) == 11
    assert scale_kernel(21, 1024, 1024) == 43
    assert scale_kernel(21, 16, 16) == 1
    smoother = EdgeSmoother()
    assert smoother.sizes_for(1024, 1024) == (pytest.approx(400), 43)
    assert EdgeSmoother(scale_with_size=False).sizes_for(1024, 1024) == (200, 21)


def test_d0_scaling_keeps_the_same_detail_at_twice_the_size():
    # A pattern of 150 cycles per 512 px passes D0 = 200; the same pattern on a 1024 image has
    # 300 cycles per 1024 px: it passes the scaled D0 = 400 and is removed by an unscaled 200.
    def filtered_amplitude(n, cycles, d0):
        x = np.cos(2 * np.pi * cycles * np.arange(n) / n)[None, :].repeat(n, 0)
        spec = np.fft.fftshift(np.fft.fft2(x)) * lowpass_disc(n, n, d0)
        return np.abs(np.fft.ifft2(np.fft.ifftshift(spec))).max()

    assert filtered_amplitude(512, 150, scale_d0(200, 512, 512)) == pytest.approx(1.0)
    assert filtered_amplitude(1024, 300, scale_d0(200, 1024, 1024)) == pytest.approx(1.0)
    assert filtered_amplitude(1024, 300, 200) < 1e-9


# --- torch vs numpy ------------------------------------------------------------------------


@pytest.mark.parametrize("gray", ["reference", "luma"])
@pytest.mark.parametrize("h, w, scale", [(96, 96, True), (80, 120, True), (77, 53, False), (128, 64, True)])
def test_torch_smoother_matches_numpy_reference(h, w, scale, gray):
    rng = np.random.default_rng(h * w)
    orig = _texture(rng, h, w)
    sty = orig.copy()
    region = _blobs(rng, h, w, 2)
    sty[region] = rng.integers(0, 40, 3)
    sty = np.clip(sty.astype(int) + rng.integers(-50, 50, sty.shape), 0, 255).astype(np.uint8)
    refined = np.roll(region, (2, -3), axis=(0, 1)) | _blobs(rng, h, w, 1)
    # (threshold 30.5: with a disc that passes every frequency, the reference grey makes M_dm
    # integer-valued, and a tie at exactly 30 would be decided by FFT rounding noise)
    kwargs = dict(d0=120.0, threshold=30.5, closing_kernel=9, dilate_iterations=4, scale_with_size=scale, gray=gray)
    ref = smooth_edges_reference(sty, orig, refined, **kwargs)
    got = EdgeSmoother(**kwargs).smooth_raw(sty, orig, refined)
    np.testing.assert_array_equal(got.dilated, ref.dilated)
    torch.testing.assert_close(torch.from_numpy(got.difference), torch.from_numpy(ref.difference),
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got.mask, ref.mask)
    assert 0 < ref.mask.mean() < 1  # a meaningful comparison, not all or nothing
    got32 = EdgeSmoother(dtype=torch.float32, **kwargs).smooth_raw(sty, orig, refined)
    np.testing.assert_allclose(got32.difference, ref.difference, atol=2e-3)
    assert (got32.mask != ref.mask).mean() < 0.01


# --- behaviour -----------------------------------------------------------------------------


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


@pytest.mark.parametrize("shift", [(0, 0), (3, -2), (-2, 3)])
def test_constructed_edit_recovers_the_true_region(shift):
    h, w = 256, 224
    rng = np.random.default_rng(1)
    orig = _texture(rng, h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    truth = ((yy - 120) / 55.0) ** 2 + ((xx - 110) / 45.0) ** 2 <= 1
    # The canvas: a dark, textured object inside `truth`, mild global drift everywhere (as IP2P).
    sty = orig.astype(np.float64) + rng.normal(0, 3, orig.shape)
    sty[truth] = 0.25 * sty[truth] + np.array([20, 25, 70]) + rng.normal(0, 8, (truth.sum(), 3))
    sty = np.clip(np.rint(sty), 0, 255).astype(np.uint8)
    # M_f slightly wrong: eroded by 3 px and shifted.
    refined = np.roll(ndimage.binary_erosion(truth, iterations=3), shift, axis=(0, 1))
    params = EditParams(action="change")
    res = EdgeSmoother.from_params(params)(sty, orig, refined)
    assert not res.warnings
    assert _iou(res.mask, truth) >= 0.9
    alpha = LayerCompositor().alpha_at_work_size(refined, res.mask, params)
    assert _iou(alpha > 0, truth) >= 0.9
    assert _iou(refined, truth) < _iou(res.mask, truth)


def test_smoother_fallbacks():
    h = w = 64
    rng = np.random.default_rng(2)
    orig = _texture(rng, h, w)
    smoother = EdgeSmoother()
    res = smoother(orig, orig, np.zeros((h, w), bool))
    assert not res.mask.any() and "empty" in res.warnings[0]
    # The whole image changed and M_f covers nearly everything: M*_f > 95% -> keep M_f.
    refined = np.ones((h, w), bool)
    refined[:2, :2] = False
    res = smoother(orig // 4, orig, refined)
    np.testing.assert_array_equal(res.mask, refined)
    assert "kept the refined mask" in res.warnings[0]
    # Nothing changed: the smoother finds nothing, says so.
    m = np.zeros((h, w), bool)
    m[20:40, 20:40] = True
    res = smoother(orig, orig, m)
    assert not res.mask.any() and "no visible change" in res.warnings[0]
    with pytest.raises(ValueError):
        smoother(orig[:10], orig, m)
