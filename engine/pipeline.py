"""ZoneEngine: one instruction edits one photo (fused denoising, localization, refinement, blending)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import numpy as np
import torch

from engine.api import CancelFn, EditParams, EditResult, ProgressEvent, ProgressFn
from engine.compositing import LayerCompositor
from engine.errors import DeviceOutOfMemoryError, EditCancelled, ZoneInputError
from engine.localize import rough_mask_from_attention
from engine.models import ModelBundle
from engine.refine import MaskRefiner, changed_pixel_mask
from engine.sampler import FusedSampler
from engine.smoother import EdgeSmoother
from engine.timing import StageTimer
from engine.worksize import plan_work_frame

MAX_INSTRUCTION_CHARS = 1000


def out_of_memory_message(offloading: bool) -> str:
    """The one-line advice given when the GPU runs out of memory."""
    advice = "a smaller --work-size or --device cpu" if offloading else "a smaller --work-size, --offload, or --device cpu"
    return f"the GPU ran out of memory; try {advice}"


class ZoneEngine:
    """The ZONE method over a lazily loaded `ModelBundle`.

    Args:
        name: "real" or "tiny" (recorded in every version's parameters).
        loader: builds the bundle on first use (may raise `WeightsMissingError`).
        meaningful: False for random-weight engines, whose edits carry no meaning.
        default_work_size: long side the models see when `EditParams.work_size` is None.
        preflight: cheap check run before loading (the real engine resolves its weights there).
        capture: guidance branches whose cross-attention localizes the edit (see `engine.attention`).
        fast: the fast turn (`engine.fastsam.FastMaskRefiner`: batched prompts, low-res mask
            post-processing, one Region-IoU op; on CUDA also both UNets overlapped on two streams,
            channels-last UNets and SAM's encoder in bfloat16). None: on when the models are on
            CUDA. The same edit as the plain path (tests/engine/test_fast_paths.py).
        offload: keep idle models on the CPU (SAM while denoising, the diffusion models while
            segmenting), for GPUs with little memory (`engine.offload`).
        compile_unets: `torch.compile` MagicBrush's UNet at load time (compilation happens on the
            first turn). IP2P's UNet stays eager: its capture processors change every turn.
        device: the device turns run on (None: where IP2P's UNet is at the first turn); needed
            with `offload` when the bundle may start a turn on the CPU.
    """

    accepts_work_image = True  # `edit(..., work_image=preview)`: callers may pass a downsized copy

    def __init__(
        self,
        name: str,
        loader: Callable[[], ModelBundle],
        meaningful: bool = True,
        capture: str = "null_text",
        default_work_size: int = 512,
        fast: Optional[bool] = None,
        offload: bool = False,
        compile_unets: bool = False,
        preflight: Optional[Callable[[], object]] = None,
        device: Optional[torch.device | str] = None,
    ):
        self.name = name
        self._preflight = preflight
        self.fast = fast
        self.offload = offload
        self.compile_unets = compile_unets
        self.default_work_size = default_work_size
        self.meaningful = meaningful
        self.capture = capture
        self._loader = loader
        self._bundle: Optional[ModelBundle] = None
        self._lock = threading.Lock()
        self._device: Optional[torch.device] = torch.device(device) if device is not None else None
        self.load_ms: float = 0.0

    @property
    def loaded(self) -> bool:
        return self._bundle is not None

    @property
    def bundle(self) -> ModelBundle:
        if self._bundle is None:
            raise RuntimeError("the engine is not loaded yet: call load() or edit() first")
        return self._bundle

    def load(self, progress: ProgressFn | None = None) -> ModelBundle:
        """Loads the models once (thread-safe); later calls return at once."""
        with self._lock:
            if self._bundle is None:
                if self._preflight is not None:
                    self._preflight()  # e.g. missing weights: fail before announcing a load
                if progress is not None:
                    progress(ProgressEvent("load", 0, 1, f"loading the {self.name} models"))
                t0 = time.perf_counter()
                self._bundle = self._prepare(self._loader())
                self.load_ms = (time.perf_counter() - t0) * 1000.0
                if progress is not None:
                    progress(ProgressEvent("load", 1, 1, "models loaded"))
        return self._bundle

    def _prepare(self, bundle: ModelBundle) -> ModelBundle:
        """Load-time options: channels-last UNets (fast path on CUDA) and `torch.compile`."""
        if bundle.device.type == "cuda" and self.use_fast_on(bundle.device):
            for unet in (bundle.unet_ip2p, bundle.unet_mb):
                unet.to(memory_format=torch.channels_last)
        if self.compile_unets:
            bundle.unet_mb.compile(fullgraph=False, dynamic=False)
        return bundle

    def edit(
        self,
        image: np.ndarray,
        instruction: str,
        params: EditParams,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        work_image: np.ndarray | None = None,
    ) -> EditResult:
        """Edits `image` locally following `instruction` (pixels outside the final mask stay as they are).

        Args:
            image: uint8 [H, W, 3], the photo at full resolution.
            instruction: the user's instruction, e.g. "make his tie blue".
            params: action, seed, steps, guidance scales and blending options.
            progress: receives `ProgressEvent`s (load, encode, denoise k/n, localize, segment, blend).
            cancel: polled between steps; returning True raises `EditCancelled`.
            work_image: optional uint8 [h, w, 3], `image` already downsized with its aspect (a
                stored preview): the work-size image is resized from it instead of from the full
                photo when it is at least the work size. Ignored otherwise.

        Returns:
            `EditResult` with the layer and mask cropped to the edit (see `EditResult.offset`)
            and the full-resolution composite.
        """
        instruction = (instruction or "").strip()
        if not instruction:
            raise ZoneInputError("the instruction is empty; say what to change, e.g. \"make the sky pink\"")
        if len(instruction) > MAX_INSTRUCTION_CHARS:
            raise ZoneInputError(f"the instruction is {len(instruction)} characters long; keep it under {MAX_INSTRUCTION_CHARS}")
        image = np.ascontiguousarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
            raise ZoneInputError(f"the image must be RGB uint8 [H, W, 3], got {image.dtype} {image.shape}")
        bundle = self.load(progress)
        try:
            return self._edit(bundle, image, instruction, params, progress, cancel, work_image)
        except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - needs a GPU
            torch.cuda.empty_cache()
            raise DeviceOutOfMemoryError(out_of_memory_message(self.offload)) from exc

    def _edit(self, bundle, image, instruction, params: EditParams, progress, cancel,
              work_image: np.ndarray | None = None) -> EditResult:
        from engine.offload import ModelOffloader

        device = torch.device(bundle.device if self._device is None else self._device)
        self._device = device  # the accelerator, also while offloading moves the models
        offloader = ModelOffloader(bundle, device, enabled=self.offload and device.type != "cpu")
        fast = self.use_fast_on(device)
        timer = StageTimer(device)
        sub_timings: dict[str, float] = {}
        warnings: list[str] = []
        emit = progress or (lambda event: None)

        def check_cancel() -> None:
            if cancel is not None and cancel():
                raise EditCancelled("edit cancelled")

        # 1. Work resolution (`engine.worksize`): scaled to params.work_size, or the reference's
        #    downsize-and-pad; everything until blending runs on the (padded) model input.
        full_h, full_w = image.shape[:2]
        work_size = params.work_size or self.default_work_size
        frame = plan_work_frame(full_h, full_w, work_size, params.work_size_policy)
        h, w = frame.padded_hw
        source = image
        ch, cw = frame.resized_hw
        if (work_image is not None and work_image.ndim == 3 and work_image.shape[2] == 3
                and work_image.shape[0] >= ch and work_image.shape[1] >= cw and work_image.shape[:2] != image.shape[:2]):
            source = np.ascontiguousarray(work_image, dtype=np.uint8)  # a preview: far fewer pixels to resize
        with timer.stage("resize"):
            work = frame.to_work(source)  # [h, w, 3]

        # 2. Conditioning: text embeddings [3, 77, D] and image latents [3, 4, h/8, w/8].
        emit(ProgressEvent("encode", 0, 1, "encoding the instruction and the photo"))
        offloader.activate("diffusion")
        sampler = FusedSampler(bundle, capture=self.capture, overlap_streams=fast)
        with timer.stage("text_encode"):
            context, last_token = sampler.encode_prompt(instruction)
        with timer.stage("vae_encode"):
            image_latents = sampler.encode_image(work)
        check_cancel()

        # 3. Fused denoising (eq. 2 and 5) with the cross-attention running sum.
        with timer.stage("denoise"):
            out = sampler.sample(
                context,
                image_latents,
                steps=params.steps,
                image_scale=params.image_scale,
                text_scale=params.text_scale,
                beta=params.effective_beta,
                seed=params.seed,
                last_token_index=last_token,
                progress=emit,
                cancel=cancel,
            )
        with timer.stage("vae_decode"):
            canvas = sampler.decode(out.latents)  # I_sty, [h, w, 3]
        check_cancel()

        # 4. Localization (eq. 4): M_b at work resolution.
        emit(ProgressEvent("localize", 0, 1, "locating the edit"))
        with timer.stage("localize"):
            rough = rough_mask_from_attention(out.attention, out.last_token_index, (h, w))  # [h, w] bool

        # 5. Refinement (eq. 6): SAM segments of I_sty (of the original for remove), Region-IoU.
        emit(ProgressEvent("segment", 0, 1, "segmenting"))
        offloader.activate("segment")
        refiner_cls = MaskRefiner
        points_per_batch = bundle.sam_points_per_batch
        if fast:
            from engine.fastsam import FastMaskRefiner

            refiner_cls = FastMaskRefiner
            # ViT-H's decoder holds about 16 MB per prompt (upscaled embedding, repeated image
            # embedding): SAM's 64 on CUDA keeps the spike near 1 GB; larger batches on the CPU.
            if device.type != "cuda":
                points_per_batch = max(256, points_per_batch)
        refiner = refiner_cls(
            bundle.sam,
            points_per_side=params.points_per_side or bundle.sam_points_per_side,
            points_per_batch=points_per_batch,
            min_region_px=params.min_region_px,
            **self.refiner_thresholds(),
        )
        with timer.stage("segment"):
            target = work if params.action == "remove" else canvas
            refined = refiner.refine(rough, target, fallback_mask=changed_pixel_mask(canvas, work))
        for key, ms in getattr(refiner, "last_timings_ms", {}).items():
            sub_timings[f"segment.{key}"] = ms
        warnings += refined.warnings
        check_cancel()

        # 6. Blending (eq. 7-8): dilate, FFT edge smoother, alpha, full resolution.
        emit(ProgressEvent("blend", 0, 1, "blending"))
        with timer.stage("smooth"):
            smoother = EdgeSmoother.from_params(params, device=device if device.type == "cuda" else None)
            smoothed = smoother(canvas, work, refined.mask)
        warnings += smoothed.warnings
        with timer.stage("composite"):
            # Padding (reference policy) is cropped off before the layer goes to full resolution.
            canvas, rough = frame.crop(canvas), frame.crop(rough)
            compositor = LayerCompositor(edge_alpha=params.edge_alpha)
            alpha = compositor.alpha_at_work_size(frame.crop(refined.mask), frame.crop(smoothed.mask), params)
            full = compositor.to_full_resolution_crop(canvas, alpha, image)
        layer, composite, mask = full.rgba, full.composite, full.mask
        if not mask.any():
            warnings.append("no region was edited; the result equals the original")
        emit(ProgressEvent("blend", 1, 1, "done"))

        timings = dict(timer.timings_ms)
        timings["total"] = sum(timings.values())
        timings.update(sub_timings)  # parts of "segment", not added to the total
        return EditResult(
            composite=composite,
            layer=layer,
            mask=mask,
            canvas=canvas,
            rough_mask=rough,
            refined_mask=np.asarray(refined.mask, dtype=bool),
            mask_fraction=float(mask.sum()) / (full_h * full_w),
            offset=(full.top, full.left),
            timings_ms={k: round(v, 3) for k, v in timings.items()},
            warnings=warnings,
            params={
                **params.to_dict(),
                "work_size": work_size,
                "engine": self.name,
                "meaningful": self.meaningful,
                "model_ids": dict(bundle.model_ids),
                "work_hw": [h, w],
                "content_hw": list(frame.resized_hw),
                "capture": self.capture,
                "fast": fast,
                "segment_index": refined.index,
                "segment_iou": round(float(refined.iou), 6),
                "num_segments": refined.num_segments,
            },
        )

    def segments(self, image: np.ndarray, points_per_side: Optional[int] = None) -> np.ndarray:
        """Every SAM automatic segment of an RGB image (no diffusion): bool [N, h, w].

        For "edit only here": the layer's new mask is the segment that contains the user's point.
        """
        bundle = self.load()
        refiner = MaskRefiner(bundle.sam, points_per_side=points_per_side or bundle.sam_points_per_side,
                              points_per_batch=bundle.sam_points_per_batch, **self.refiner_thresholds())
        with torch.inference_mode():
            return refiner.generate_segments(np.ascontiguousarray(image))

    def use_fast_on(self, device: torch.device) -> bool:
        """Whether a turn on `device` takes the fast path (`fast=None`: on CUDA)."""
        return device.type == "cuda" if self.fast is None else bool(self.fast)

    def refiner_thresholds(self) -> dict:
        """SAM automatic-mask thresholds: SAM's defaults, relaxed for random-weight models."""
        if self.meaningful:
            return {}
        return {"pred_iou_thresh": 0.0, "stability_score_thresh": 0.0}
