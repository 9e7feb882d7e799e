"""Fast SAM refinement: batched point prompts, low-resolution mask post-processing, one Region-IoU op."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from engine.refine import MaskRefiner, RefineResult, SegmentChoice, check_rgb_uint8, region_iou_scores
from engine.timing import StageTimer


def lowres_valid_hw(input_hw: tuple[int, int], img_size: int, lowres_side: int) -> tuple[int, int]:
    """Part of the decoder's low-res grid that covers the (unpadded) resized image.

    SAM's `postprocess_masks` upsamples the low-res logits to img_size x img_size and crops
    [:input_h, :input_w]; at low resolution that crop is ceil(input * lowres / img_size).
    """
    stride = img_size / lowres_side
    return int(np.ceil(input_hw[0] / stride)), int(np.ceil(input_hw[1] / stride))


def lowres_masks_to_boxes(masks: torch.Tensor, scale_yx: tuple[float, float]) -> torch.Tensor:
    """XYXY boxes of bool masks [N, h, w] in the original image's pixel frame (float [N, 4]).

    A low-res cell i covers original pixels [i * s, (i + 1) * s); the box spans the covered pixels
    like `batched_mask_to_box` does at full resolution (inclusive max index). Empty masks give zeros.
    """
    n, h, w = masks.shape
    if n == 0:
        return torch.zeros(0, 4, device=masks.device)
    sy, sx = scale_yx
    rows = masks.any(dim=2)  # [N, h]
    cols = masks.any(dim=1)  # [N, w]
    ar_h = torch.arange(h, device=masks.device)
    ar_w = torch.arange(w, device=masks.device)
    y1 = torch.where(rows, ar_h, -1).amax(dim=1)  # [N]
    y0 = torch.where(rows, ar_h, h).amin(dim=1)
    x1 = torch.where(cols, ar_w, -1).amax(dim=1)
    x0 = torch.where(cols, ar_w, w).amin(dim=1)
    boxes = torch.stack([x0 * sx, y0 * sy, (x1 + 1) * sx - 1, (y1 + 1) * sy - 1], dim=1).float()
    empty = ~rows.any(dim=1)
    return torch.where(empty[:, None], torch.zeros_like(boxes), boxes)


class FastMaskRefiner(MaskRefiner):
    """`MaskRefiner` whose segmentation never builds full-resolution masks for every prompt.

    The stock `SamAutomaticMaskGenerator` upsamples every prompt's three masks to 1024 px and to
    the image size, run-length encodes them on the host and decodes them again. Here:

    1. the image is embedded once (the encoder in bfloat16 on CUDA when `encoder_bf16`);
    2. all grid points go through the decoder in large batches;
    3. predicted-IoU and stability filtering, boxes and NMS run on the decoder's low-res logits
       (256 x 256 for the real SAM) on the model's device;
    4. Region-IoU of every surviving mask against M_b (resized to the low-res grid) in one op;
    5. only the `rescore_top_k` best candidates are upsampled exactly like SAM's
       `postprocess_masks` and rescored at full resolution; the best one is M_f.

    The survivors are kept in the stock generator's order (NMS order, decreasing predicted IoU),
    so ties resolve to the same segment. Checked against `MaskRefiner` in
    `tests/engine/test_fast_paths.py` (chosen-mask IoU >= 0.98 on fixed seeds).

    Args:
        sam_model, points_per_side, pred_iou_thresh, stability_score_thresh,
            stability_score_offset, box_nms_thresh, min_region_px, connectivity: as `MaskRefiner`.
        points_per_batch: points per decoder call (the stock default is 64; larger is faster).
        rescore_top_k: candidates rescored at full resolution (0: choose at low resolution).
        encoder_bf16: autocast SAM's image encoder to bfloat16 on CUDA.
    """

    def __init__(self, sam_model, points_per_side: int = 32, points_per_batch: int = 256,
                 pred_iou_thresh: float = 0.88, stability_score_thresh: float = 0.95,
                 stability_score_offset: float = 1.0, box_nms_thresh: float = 0.7,
                 crop_n_layers: int = 0, min_region_px: int = 64, connectivity: int = 4,
                 rescore_top_k: int = 8, encoder_bf16: bool = True) -> None:
        if crop_n_layers != 0:
            raise ValueError("FastMaskRefiner supports crop_n_layers=0 only (the ZONE setting)")
        super().__init__(sam_model, points_per_side=points_per_side, points_per_batch=points_per_batch,
                         pred_iou_thresh=pred_iou_thresh, stability_score_thresh=stability_score_thresh,
                         stability_score_offset=stability_score_offset, box_nms_thresh=box_nms_thresh,
                         crop_n_layers=0, min_region_px=min_region_px, connectivity=connectivity)
        self.rescore_top_k = int(rescore_top_k)
        self.encoder_bf16 = bool(encoder_bf16)
        self.last_timings_ms: dict[str, float] = {}

    # -- segmentation at low resolution ---------------------------------------------------------

    @torch.no_grad()
    def embed(self, image_uint8: np.ndarray):
        """A `SamPredictor` holding the image embedding (bf16 encoder on CUDA)."""
        from segment_anything import SamPredictor

        predictor = SamPredictor(self.sam_model)
        device = predictor.device
        use_bf16 = self.encoder_bf16 and device.type == "cuda"
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else nullcontext()
        with ctx:
            predictor.set_image(image_uint8)
        predictor.features = predictor.features.float()
        return predictor

    @torch.no_grad()
    def lowres_segments(self, predictor, points_per_side: Optional[int] = None) -> dict:
        """Surviving low-res mask logits after filtering and NMS, in the stock generator's order.

        Returns:
            dict with "logits" float [N, 256, 256] (the decoder's full grid), "valid_hw" (the
            cells covering the image), "iou_preds" [N], "boxes" [N, 4] (original pixel frame).
        """
        from segment_anything.utils.amg import build_point_grid, calculate_stability_score
        from torchvision.ops import batched_nms

        sam = self.sam_model
        device = predictor.device
        orig_h, orig_w = predictor.original_size
        in_h, in_w = predictor.input_size
        n_side = int(points_per_side or self.points_per_side)
        # 1. Point grid in image pixels -> the encoder's input frame, [P, 2].
        points = build_point_grid(n_side) * np.array([[orig_w, orig_h]])
        coords = torch.as_tensor(predictor.transform.apply_coords(points, (orig_h, orig_w)),
                                 dtype=torch.float32, device=device)  # [P, 2]
        dense_pe = sam.prompt_encoder.get_dense_pe()
        # Survivors wait for NMS in float16 on CUDA (3072 relaxed masks: 0.4 GB instead of 0.8 GB).
        store_dtype = torch.float16 if device.type == "cuda" else torch.float32
        logits_all, iou_all = [], []
        for start in range(0, coords.shape[0], self.points_per_batch):
            pts = coords[start:start + self.points_per_batch, None, :]  # [B, 1, 2]
            labels = torch.ones(pts.shape[:2], dtype=torch.int, device=device)  # [B, 1]
            sparse, dense = sam.prompt_encoder(points=(pts, labels), boxes=None, masks=None)
            low, iou = sam.mask_decoder(image_embeddings=predictor.features, image_pe=dense_pe,
                                        sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                        multimask_output=True)  # [B, 3, 256, 256], [B, 3]
            low = low.flatten(0, 1).float()  # [3B, 256, 256]
            iou = iou.flatten(0, 1).float()  # [3B]
            hl, wl = lowres_valid_hw((in_h, in_w), sam.image_encoder.img_size, low.shape[-1])
            # 2. Predicted-IoU and stability filters (as the stock generator, at low resolution).
            keep = torch.ones_like(iou, dtype=torch.bool)
            if self.pred_iou_thresh > 0.0:
                keep &= iou > self.pred_iou_thresh
            if self.stability_score_thresh > 0.0:
                stab = calculate_stability_score(low[:, :hl, :wl], sam.mask_threshold,
                                                 self.stability_score_offset)
                keep &= stab >= self.stability_score_thresh
            logits_all.append(low[keep].to(store_dtype))  # uncropped: the exact upsampling needs the padding cells
            iou_all.append(iou[keep])
        logits = torch.cat(logits_all)  # [M, 256, 256]
        iou = torch.cat(iou_all)  # [M]
        # 3. Boxes in the original frame and NMS (indices come back by decreasing score).
        boxes = lowres_masks_to_boxes(logits[:, :hl, :wl] > sam.mask_threshold, (orig_h / hl, orig_w / wl))
        if logits.shape[0]:
            keep_idx = batched_nms(boxes, iou, torch.zeros_like(iou, dtype=torch.long), self.box_nms_thresh)
        else:
            keep_idx = torch.zeros(0, dtype=torch.long, device=device)
        return {"logits": logits[keep_idx], "valid_hw": (hl, wl), "iou_preds": iou[keep_idx], "boxes": boxes[keep_idx]}

    def upsample(self, predictor, logits: torch.Tensor) -> torch.Tensor:
        """Low-res logits [K, 256, 256] -> bool masks [K, H, W], exactly SAM's `postprocess_masks`."""
        sam = self.sam_model
        masks = sam.postprocess_masks(logits[:, None].float(), predictor.input_size, predictor.original_size)
        return masks[:, 0] > sam.mask_threshold  # [K, H, W]

    # -- refinement: the scoring hook of MaskRefiner.refine ----------------------------------------

    def refine(self, rough_mask: np.ndarray, image_uint8: np.ndarray, **kwargs) -> RefineResult:
        """`MaskRefiner.refine`; `last_timings_ms` then holds this call's sam_encode,
        mask_generation and region_iou milliseconds (empty when SAM did not run)."""
        self.last_timings_ms = {}
        return super().refine(rough_mask, image_uint8, **kwargs)

    def score_segments(self, image_uint8: np.ndarray, rough: np.ndarray, points_per_side: Optional[int],
                       segments: Optional[np.ndarray]) -> SegmentChoice:
        """Low-resolution candidates, Region-IoU in one op, exact rescoring of the best few.

        Precomputed `segments` take the plain path (`MaskRefiner.score_segments`).
        """
        if segments is not None:
            return super().score_segments(image_uint8, rough, points_per_side, segments)
        img = check_rgb_uint8(image_uint8)
        device = next(self.sam_model.parameters()).device
        timer = StageTimer(device)
        # 1. Embed once, then all prompts at low resolution.
        with timer.stage("sam_encode"):
            predictor = self.embed(img)
        with timer.stage("mask_generation"):
            segs = self.lowres_segments(predictor, points_per_side)
        self.last_timings_ms = timer.timings_ms
        logits = segs["logits"]  # [N, 256, 256]
        n = int(logits.shape[0])
        if n == 0:
            return SegmentChoice(0, -1, 0.0, None)
        with timer.stage("region_iou"):
            # 2. Region-IoU of every survivor against M_b at low resolution: one op, [N].
            hl, wl = segs["valid_hw"]
            rough_t = torch.from_numpy(rough).to(device=device, dtype=torch.float32)[None, None]
            rough_lr = F.interpolate(rough_t, size=(hl, wl), mode="area")[0, 0] > 0.5  # [hl, wl]
            lr_scores = region_iou_scores(logits[:, :hl, :wl] > self.sam_model.mask_threshold, rough_lr)  # [N]
            # 3. Exact rescoring of the top candidates at full resolution (in survivor order for ties).
            k = n if self.rescore_top_k <= 0 else min(n, self.rescore_top_k)
            top = torch.topk(lr_scores, k).indices.sort().values  # [k], survivor order
            if self.rescore_top_k > 0:
                masks = self.upsample(predictor, logits[top])  # [k, H, W] bool
                scores = region_iou_scores(masks, rough)  # [k]
            else:
                masks, scores = None, lr_scores[top]
            j = int(torch.argmax(scores))  # first maximum
            best, idx = float(scores[j]), int(top[j])
            chosen = (masks[j] if masks is not None else self.upsample(predictor, logits[idx:idx + 1])[0]).cpu().numpy()
        if best <= 0.0:
            return SegmentChoice(n, -1, 0.0, None)
        return SegmentChoice(n, idx, best, chosen)
