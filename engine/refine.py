"""Mask refinement (ZONE sec. 4.3): pick the SAM segment with the highest Region-IoU to M_b.

The rough location mask M_b (from `engine.localize`) says roughly where the edit happened. SAM's
automatic mask generator segments the canvas I_sty (the original for "remove") at every level;
the refined mask M_f is the segment S_k with the highest Region-IoU (eq. 6)

    R(j) = |S_j ∩ M_b| / |S_j ∪ M_b|,   k = argmax_j R(j)   (ties: the first maximum).

As in the authors' code, connected regions smaller than `min_region_px` (at 512 px; scaled with the
square of the long side) are removed from M_b before scoring and from S_k after choosing. Unlike
the authors' code, only those regions are removed (theirs blanked the regions' bounding boxes).
Degenerate cases never raise: they fall back and say so in `RefineResult.warnings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np
import torch
from scipy import ndimage

ArrayLike = Union[np.ndarray, torch.Tensor]

REFERENCE_SIDE = 512


# ----------------------------------------------------------------------------------------------
# Small connected regions
# ----------------------------------------------------------------------------------------------


def scale_region_px(min_px_at_512: int, h: int, w: int) -> int:
    """Scale an area given at 512 px (long side) to an image of size h x w."""
    s = max(h, w) / REFERENCE_SIDE
    return max(0, int(round(min_px_at_512 * s * s)))


def _structure(connectivity: int) -> np.ndarray:
    if connectivity == 4:
        return ndimage.generate_binary_structure(2, 1)
    if connectivity == 8:
        return ndimage.generate_binary_structure(2, 2)
    raise ValueError(f"connectivity must be 4 or 8, not {connectivity}")


def filter_small_regions(mask: np.ndarray, min_px: int, connectivity: int = 4) -> np.ndarray:
    """Remove the connected regions of `mask` with fewer than `min_px` pixels.

    Args:
        mask: bool (or 0/nonzero) [h, w].
        min_px: regions with area < min_px are dropped; 0 or 1 keeps everything.
        connectivity: 4 (the reference's `scipy.ndimage.label` default) or 8.

    Returns:
        bool [h, w].
    """
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be [h, w], got shape {m.shape}")
    if min_px <= 1 or not m.any():
        return m.copy()
    labels, n = ndimage.label(m, structure=_structure(connectivity))  # [h, w] int
    sizes = np.bincount(labels.ravel(), minlength=n + 1)  # [n + 1]
    keep = sizes >= min_px
    keep[0] = False
    return keep[labels]


def changed_pixel_mask(styled: np.ndarray, original: np.ndarray, threshold: int = 40,
                       min_px: int = 64) -> np.ndarray:
    """Pixels whose largest channel difference exceeds `threshold`, small regions removed.

    The fallback for an empty rough mask M_b: where the canvas visibly differs from the original.

    Args:
        styled, original: uint8 [h, w, 3] at the same size.
        threshold: on the 0-255 scale.
        min_px: regions smaller than this (at this size) are dropped.

    Returns:
        bool [h, w].
    """
    a = np.asarray(styled)
    b = np.asarray(original)
    if a.shape != b.shape:
        raise ValueError(f"styled {a.shape} and original {b.shape} differ in shape")
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1)  # [h, w]
    return filter_small_regions(diff > threshold, min_px)


# ----------------------------------------------------------------------------------------------
# Region-IoU
# ----------------------------------------------------------------------------------------------


def _writable_bool(a) -> np.ndarray:
    """A bool numpy array torch can wrap without a warning (copies read-only inputs only)."""
    arr = np.ascontiguousarray(np.asarray(a), dtype=bool)
    return arr if arr.flags.writeable else arr.copy()


def region_iou_scores(segments: ArrayLike, rough: ArrayLike) -> ArrayLike:
    """Region-IoU (eq. 6) of every segment against the rough mask, in one batched tensor op.

    Args:
        segments: bool [N, h, w] (numpy or torch).
        rough: bool [h, w], same kind or numpy.

    Returns:
        float64 [N], numpy if `segments` is numpy, else a tensor on its device. A segment whose
        union with `rough` is empty scores 0.
    """
    as_numpy = not torch.is_tensor(segments)
    seg = torch.from_numpy(_writable_bool(segments)) if as_numpy else segments
    if seg.ndim != 3:
        raise ValueError(f"segments must be [N, h, w], got shape {tuple(seg.shape)}")
    rgh = torch.from_numpy(_writable_bool(rough)) if not torch.is_tensor(rough) else rough
    rgh = rgh.to(device=seg.device, dtype=torch.bool)
    if tuple(rgh.shape) != tuple(seg.shape[1:]):
        raise ValueError(f"rough mask {tuple(rgh.shape)} does not match segments {tuple(seg.shape)}")
    seg = seg.to(torch.bool)
    n = seg.shape[0]
    flat = seg.reshape(n, -1)  # [N, P]
    r = rgh.reshape(1, -1)  # [1, P]
    inter = (flat & r).sum(dim=1, dtype=torch.int64)  # [N]
    union = flat.sum(dim=1, dtype=torch.int64) + r.sum(dtype=torch.int64) - inter  # [N]
    iou = torch.where(union > 0, inter.double() / union.clamp_min(1).double(),
                      torch.zeros((), dtype=torch.float64, device=seg.device))  # [N]
    return iou.cpu().numpy() if as_numpy else iou


def region_iou_reference(segments, rough) -> list[float]:
    """Plain-Python Region-IoU, one segment at a time (the authors' loop); for tests."""
    r = np.asarray(rough).astype(bool)
    out = []
    for s in segments:
        s = np.asarray(s).astype(bool)
        inter = int(np.logical_and(s, r).sum())
        union = int(np.logical_or(s, r).sum())
        out.append(inter / union if union else 0.0)
    return out


def select_segment_by_region_iou(segments: ArrayLike, rough: ArrayLike) -> tuple[int, float]:
    """Index and score of the segment with the highest Region-IoU (first maximum on ties).

    Returns:
        (k, R(k)); (-1, 0.0) when there are no segments or none overlaps `rough`.
    """
    if segments is None or len(segments) == 0:
        return -1, 0.0
    scores = region_iou_scores(segments, rough)
    scores_t = torch.as_tensor(scores)
    k = int(torch.argmax(scores_t))  # first maximal index
    best = float(scores_t[k])
    if best <= 0.0:
        return -1, 0.0
    return k, best


# ----------------------------------------------------------------------------------------------
# SAM wrapper
# ----------------------------------------------------------------------------------------------


def check_rgb_uint8(image) -> np.ndarray:
    """The image as a contiguous uint8 [h, w, 3] array, or ValueError."""
    img = np.ascontiguousarray(np.asarray(image))
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be uint8 [h, w, 3], got {img.dtype} {img.shape}")
    return img


@dataclass
class SegmentChoice:
    """What `MaskRefiner.score_segments` chose.

    Attributes:
        num_segments: how many segments there were.
        index: the chosen segment (-1: none overlaps M_b).
        iou: its Region-IoU (0.0 when none).
        mask: bool [h, w], the chosen segment at the image's size (None when none).
    """

    num_segments: int
    index: int
    iou: float
    mask: Optional[np.ndarray]


@dataclass
class RefineResult:
    """The refined mask M_f and how it was chosen.

    Attributes:
        mask: bool [h, w], M_f (may be empty: see warnings).
        index: index of the chosen SAM segment; -1 when a fallback was used.
        iou: Region-IoU of the chosen segment (0.0 for fallbacks).
        num_segments: how many segments SAM produced.
        rough: bool [h, w], the rough mask actually scored (small regions removed, or the fallback).
        warnings: one-line notes about fallbacks.
    """

    mask: np.ndarray
    index: int
    iou: float
    num_segments: int
    rough: np.ndarray
    warnings: list[str] = field(default_factory=list)


class MaskRefiner:
    """Refine a rough mask M_b into M_f with SAM's automatic masks and Region-IoU.

    Args:
        sam_model: a `segment_anything.modeling.Sam` (any size; e.g. `engine.bundles.build_tiny_sam()`).
        points_per_side: SAM's point grid (32 in the reference).
        points_per_batch: points per SAM decoder batch.
        pred_iou_thresh, stability_score_thresh, stability_score_offset, box_nms_thresh,
            crop_n_layers: passed to `SamAutomaticMaskGenerator` (its defaults).
        min_region_px: small-region threshold at 512 px (scaled to the image's size).
        connectivity: 4 or 8, for the small-region filter.
    """

    def __init__(self, sam_model, points_per_side: int = 32, points_per_batch: int = 64,
                 pred_iou_thresh: float = 0.88, stability_score_thresh: float = 0.95,
                 stability_score_offset: float = 1.0, box_nms_thresh: float = 0.7,
                 crop_n_layers: int = 0, min_region_px: int = 64, connectivity: int = 4) -> None:
        self.sam_model = sam_model
        self.points_per_side = int(points_per_side)
        self.points_per_batch = int(points_per_batch)
        self.pred_iou_thresh = float(pred_iou_thresh)
        self.stability_score_thresh = float(stability_score_thresh)
        self.stability_score_offset = float(stability_score_offset)
        self.box_nms_thresh = float(box_nms_thresh)
        self.crop_n_layers = int(crop_n_layers)
        self.min_region_px = int(min_region_px)
        self.connectivity = int(connectivity)
        self._generators: dict[int, object] = {}

    def _generator(self, points_per_side: int):
        if self.sam_model is None:
            raise RuntimeError("MaskRefiner has no SAM model: construct it with MaskRefiner(sam_model)")
        gen = self._generators.get(points_per_side)
        if gen is None:
            from segment_anything import SamAutomaticMaskGenerator

            gen = SamAutomaticMaskGenerator(
                self.sam_model,
                points_per_side=points_per_side,
                points_per_batch=self.points_per_batch,
                pred_iou_thresh=self.pred_iou_thresh,
                stability_score_thresh=self.stability_score_thresh,
                stability_score_offset=self.stability_score_offset,
                box_nms_thresh=self.box_nms_thresh,
                crop_n_layers=self.crop_n_layers,
                min_mask_region_area=0,  # > 0 would need opencv; we filter ourselves
                output_mode="binary_mask",
            )
            self._generators[points_per_side] = gen
        return gen

    def generate_segments(self, image_uint8: np.ndarray,
                          points_per_side: Optional[int] = None) -> np.ndarray:
        """All SAM segments of an RGB image, every level: bool [N, h, w] (N may be 0)."""
        img = check_rgb_uint8(image_uint8)
        gen = self._generator(int(points_per_side or self.points_per_side))
        records = gen.generate(img)
        h, w = img.shape[:2]
        if not records:
            return np.zeros((0, h, w), dtype=bool)
        return np.stack([np.asarray(r["segmentation"], dtype=bool) for r in records])  # [N, h, w]

    def clean_rough_mask(self, rough: np.ndarray, fallback_mask: Optional[np.ndarray], min_px: int,
                         warnings: list[str]) -> np.ndarray:
        """M_b without its small regions; the fallback when that is empty; empty (with a warning) if both are."""
        rough_f = filter_small_regions(rough, min_px, self.connectivity)
        if rough_f.any():
            return rough_f
        fb = (filter_small_regions(np.asarray(fallback_mask).astype(bool), min_px, self.connectivity)
              if fallback_mask is not None else np.zeros_like(rough_f))
        if not fb.any():
            warnings.append("the edit could not be localized (empty rough mask and no changed "
                            "pixels); nothing was changed")
            return fb
        warnings.append("the rough edit mask was empty; using the pixels the model changed")
        return fb

    def refine(self, rough_mask: np.ndarray, image_uint8: np.ndarray, *,
               fallback_mask: Optional[np.ndarray] = None,
               points_per_side: Optional[int] = None,
               segments: Optional[np.ndarray] = None) -> RefineResult:
        """Refine M_b into M_f on `image_uint8` (I_sty; the original image for "remove").

        A template method: cleaning M_b, the fallbacks and cleaning the chosen segment are here;
        segmenting and scoring is the `score_segments` hook (subclasses segment differently).

        Args:
            rough_mask: bool [h, w], M_b at the image's size.
            image_uint8: uint8 [h, w, 3], the image SAM segments.
            fallback_mask: bool [h, w] used when M_b is empty after filtering (e.g.
                `changed_pixel_mask(I_sty, I_orig)`); None: no fallback.
            points_per_side: overrides the grid for this call.
            segments: precomputed bool [N, h, w] segments (skips SAM).

        Returns:
            RefineResult; its mask is empty only when M_b and the fallback are both empty.
        """
        rough = np.asarray(rough_mask).astype(bool)
        h, w = rough.shape
        if np.asarray(image_uint8).shape[:2] != (h, w):
            raise ValueError(f"rough mask {rough.shape} and image {np.asarray(image_uint8).shape} "
                             "differ in size")
        min_px = scale_region_px(self.min_region_px, h, w)
        warnings: list[str] = []
        # 1. Clean M_b; fall back to the changed pixels, or give up with an empty mask.
        rough_f = self.clean_rough_mask(rough, fallback_mask, min_px, warnings)
        if not rough_f.any():
            return RefineResult(np.zeros((h, w), bool), -1, 0.0, 0, rough_f, warnings)
        # 2. Segment everything and pick the segment with the highest Region-IoU (the hook).
        choice = self.score_segments(image_uint8, rough_f, points_per_side, segments)
        if choice.num_segments == 0:
            warnings.append("the segmenter found no segments; using the rough mask as is")
            return RefineResult(rough_f, -1, 0.0, 0, rough_f, warnings)
        if choice.index < 0:
            warnings.append("no segment overlaps the rough mask; using the rough mask as is")
            return RefineResult(rough_f, -1, 0.0, choice.num_segments, rough_f, warnings)
        # 3. Clean the chosen segment.
        chosen = filter_small_regions(choice.mask, min_px, self.connectivity)
        if not chosen.any():
            warnings.append("the best segment is smaller than the minimum region; using the rough mask")
            return RefineResult(rough_f, -1, 0.0, choice.num_segments, rough_f, warnings)
        return RefineResult(chosen, choice.index, choice.iou, choice.num_segments, rough_f, warnings)

    def score_segments(self, image_uint8: np.ndarray, rough: np.ndarray, points_per_side: Optional[int],
                       segments: Optional[np.ndarray]) -> "SegmentChoice":
        """The hook of `refine`: SAM's automatic masks (or `segments`), Region-IoU, first argmax.

        Args:
            image_uint8: uint8 [h, w, 3].
            rough: bool [h, w], the cleaned M_b (never empty).
            points_per_side: the grid for this call (None: the refiner's).
            segments: precomputed bool [N, h, w] segments, or None.
        """
        segs = self.generate_segments(image_uint8, points_per_side) if segments is None \
            else np.asarray(segments).astype(bool)
        k, iou = select_segment_by_region_iou(segs, rough)
        return SegmentChoice(int(segs.shape[0]), k, iou, segs[k] if k >= 0 else None)
