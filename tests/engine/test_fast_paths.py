"""Fast paths against the plain ones on fixed seeds: SAM refinement, the fused sampler, the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.api import EditParams
from engine.fastsam import FastMaskRefiner, lowres_masks_to_boxes, lowres_valid_hw
from engine.bundles import build_tiny_sam
from engine.refine import MaskRefiner

MASK_IOU_MIN = 0.98


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


class _PointPromptEncoder(torch.nn.Module):
    """Passes the point coordinates through as the 'sparse embedding' (for the synthetic decoder)."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.image_embedding_size = base.image_embedding_size

    def get_dense_pe(self):
        return self.base.get_dense_pe()

    def forward(self, points, boxes, masks):
        coords, _ = points  # [B, 1, 2] in the encoder's input frame
        return coords.float(), torch.zeros(coords.shape[0], 1, 1, 1, device=coords.device)


class _RegionDecoder(torch.nn.Module):
    """Low-res logits of the label regions containing each prompt, at three granularities.

    `labels` [3, L, L] (L = 4 x embedding grid) are nested partitions of the padded input; a prompt
    gets +8 inside its region, -8 outside, plus a seeded smooth perturbation so that the bilinear
    upsampling and the thresholds see realistic, non-binary logits.
    """

    def __init__(self, labels: torch.Tensor, img_size: int, seed: int):
        super().__init__()
        self.labels = labels
        self.img_size = img_size
        g = torch.Generator().manual_seed(seed)
        self.noise = torch.randn(3, labels.shape[-1] // 4, labels.shape[-1] // 4, generator=g)
        self.iou_bias = torch.rand(64, generator=g)

    def forward(self, image_embeddings, image_pe, sparse_prompt_embeddings, dense_prompt_embeddings,
                multimask_output):
        coords = sparse_prompt_embeddings[:, 0]  # [B, 2] (x, y)
        L = self.labels.shape[-1]
        cell = (coords / self.img_size * L).long().clamp(0, L - 1)  # [B, 2]
        out, ious = [], []
        noise = torch.nn.functional.interpolate(self.noise[None], size=(L, L), mode="bilinear",
                                                align_corners=False)[0]  # [3, L, L]
        for lvl in range(3):
            lab = self.labels[lvl]  # [L, L]
            ids = lab[cell[:, 1], cell[:, 0]]  # [B]
            inside = lab[None] == ids[:, None, None]  # [B, L, L]
            out.append(torch.where(inside, 8.0, -8.0) + 3.0 * noise[lvl])
            ious.append(0.5 + 0.5 * self.iou_bias[ids % 64])
        return torch.stack(out, 1), torch.stack(ious, 1)  # [B, 3, L, L], [B, 3]


def synthetic_sam(seed: int, img_size: int = 128):
    """Tiny SAM whose decoder returns nested label regions: many distinct segments survive NMS."""
    sam = build_tiny_sam(seed, img_size)
    L = 4 * (img_size // 16)
    rng = np.random.default_rng(seed)
    fine = np.kron(rng.integers(0, 1000, (L // 4, L // 4)), np.ones((4, 4), dtype=np.int64))  # [L, L]
    mid = np.kron(rng.integers(0, 1000, (L // 8, L // 8)), np.ones((8, 8), dtype=np.int64))
    coarse = np.kron(rng.integers(0, 1000, (L // 16, L // 16)), np.ones((16, 16), dtype=np.int64))
    labels = torch.as_tensor(np.stack([fine + 10_000, mid * 1000 + 20_000_000, coarse]))
    sam.prompt_encoder = _PointPromptEncoder(sam.prompt_encoder)
    sam.mask_decoder = _RegionDecoder(labels, img_size, seed)
    return sam.eval()


def _case(seed: int, h: int = 96, w: int = 128):
    rng = np.random.default_rng(seed)
    img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    rough = np.zeros((h, w), bool)
    y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
    rough[y:y + rng.integers(16, h // 2), x:x + rng.integers(16, w // 2)] = True
    return img, rough


RELAXED = dict(points_per_side=8, pred_iou_thresh=0.0, stability_score_thresh=0.0, min_region_px=16)


def test_lowres_helpers():
    assert lowres_valid_hw((768, 1024), 1024, 256) == (192, 256)
    assert lowres_valid_hw((683, 1024), 1024, 256) == (171, 256)
    m = torch.zeros(2, 8, 8, dtype=torch.bool)
    m[0, 2:4, 1:6] = True
    boxes = lowres_masks_to_boxes(m, (4.0, 4.0))
    assert boxes[0].tolist() == [4.0, 8.0, 23.0, 15.0]  # covers pixels 4..23 x 8..15
    assert boxes[1].tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_fast_refiner_matches_stock_generator_on_synthetic_segments(seed):
    sam = synthetic_sam(seed)
    img, rough = _case(seed)
    plain = MaskRefiner(sam, **RELAXED).refine(rough, img)
    fast = FastMaskRefiner(sam, **RELAXED).refine(rough, img)
    assert plain.num_segments > 5  # a real choice among many segments
    assert abs(fast.num_segments - plain.num_segments) <= max(2, plain.num_segments // 10)
    assert mask_iou(fast.mask, plain.mask) >= MASK_IOU_MIN
    assert fast.iou == pytest.approx(plain.iou, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_refiner_matches_stock_with_default_thresholds(seed):
    sam = synthetic_sam(seed)
    img, rough = _case(seed + 10)
    kw = dict(points_per_side=8, min_region_px=16, pred_iou_thresh=0.7, stability_score_thresh=0.8)
    plain = MaskRefiner(sam, **kw).refine(rough, img)
    fast = FastMaskRefiner(sam, **kw).refine(rough, img)
    assert mask_iou(fast.mask, plain.mask) >= MASK_IOU_MIN


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_refiner_matches_stock_on_tiny_random_sam(seed):
    sam = build_tiny_sam(seed)
    img, rough = _case(seed)
    plain = MaskRefiner(sam, **RELAXED).refine(rough, img)
    refiner = FastMaskRefiner(sam, **RELAXED)
    fast = refiner.refine(rough, img)
    assert mask_iou(fast.mask, plain.mask) >= MASK_IOU_MIN
    assert fast.index == plain.index
    assert set(refiner.last_timings_ms) == {"sam_encode", "mask_generation", "region_iou"}


def test_fast_refiner_fallbacks_match_plain():
    sam = synthetic_sam(0)
    img, _ = _case(0)
    empty = np.zeros(img.shape[:2], bool)
    plain = MaskRefiner(sam, **RELAXED).refine(empty, img)
    fast = FastMaskRefiner(sam, **RELAXED).refine(empty, img)
    assert not fast.mask.any() and fast.index == -1 and fast.warnings == plain.warnings
    fallback = np.zeros_like(empty)
    fallback[10:40, 10:40] = True
    plain = MaskRefiner(sam, **RELAXED).refine(empty, img, fallback_mask=fallback)
    fast = FastMaskRefiner(sam, **RELAXED).refine(empty, img, fallback_mask=fallback)
    assert fast.warnings == plain.warnings
    assert mask_iou(fast.mask, plain.mask) >= MASK_IOU_MIN


def _tiny_engine(fast, **kw):
    from engine.bundles import build_bundle
    from engine.pipeline import ZoneEngine

    return ZoneEngine("tiny", lambda: build_bundle("tiny", 0), meaningful=False, default_work_size=128, fast=fast, **kw)


@pytest.mark.parametrize("action,seed", [("change", 0), ("remove", 3)])
def test_fast_engine_makes_the_same_edit_as_the_plain_engine(synthetic_photo, action, seed):
    params = EditParams(action=action, seed=seed, steps=3)
    plain = _tiny_engine(False).edit(synthetic_photo, "make the sky pink", params)
    fast = _tiny_engine(True).edit(synthetic_photo, "make the sky pink", params)
    # Same denoising on the CPU (overlap streams are CUDA-only), same canvas and rough mask.
    np.testing.assert_array_equal(fast.canvas, plain.canvas)
    np.testing.assert_array_equal(fast.rough_mask, plain.rough_mask)
    assert mask_iou(fast.mask, plain.mask) >= MASK_IOU_MIN
    # Images within tolerance: at most 1% of pixels differ (mask boundary), none outside both masks.
    differ = np.any(fast.composite != plain.composite, axis=-1)
    assert differ.mean() <= 0.01
    assert not differ[~(fast.mask | plain.mask)].any()
    assert fast.params["fast"] is True and plain.params["fast"] is False
    assert {"segment.sam_encode", "segment.mask_generation", "segment.region_iou"} <= set(fast.timings_ms)
    assert fast.timings_ms["total"] == pytest.approx(
        sum(v for k, v in fast.timings_ms.items() if k != "total" and not k.startswith("segment.")), abs=0.01)


def test_fast_defaults_follow_the_device():
    engine = _tiny_engine(None)
    assert engine.use_fast_on(torch.device("cpu")) is False
    assert engine.use_fast_on(torch.device("cuda")) is True
    assert _tiny_engine(True).use_fast_on(torch.device("cpu")) is True


def test_offload_on_cpu_is_a_no_op_and_the_oom_message_advises():
    from engine.pipeline import out_of_memory_message

    engine = _tiny_engine(True, offload=True)
    img = np.full((64, 64, 3), 120, np.uint8)
    res = engine.edit(img, "make it red", EditParams(action="change", steps=1))
    assert res.composite.shape == img.shape
    assert "--offload" in out_of_memory_message(False)
    assert "--offload" not in out_of_memory_message(True)


def test_fused_sampler_overlap_flag_is_ignored_on_cpu():
    from engine.sampler import FusedSampler
    from tests.engine.dummies import get_dummy_components

    bundle = get_dummy_components()
    img = np.full((64, 64, 3), 100, np.uint8)
    outs = []
    for overlap in (False, True):
        s = FusedSampler(bundle, overlap_streams=overlap)
        ctx, last = s.encode_prompt("make it blue")
        out = s.sample(ctx, s.encode_image(img), steps=2, image_scale=1.5, text_scale=7.5, beta=0.2, seed=0)
        outs.append(out)
    torch.testing.assert_close(outs[0].latents, outs[1].latents, rtol=0, atol=0)
    torch.testing.assert_close(outs[0].attention, outs[1].attention, rtol=0, atol=0)
