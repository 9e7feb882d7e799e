"""The naive composition of a ZONE turn (the reference code's structure), timed stage by stage for `zone bench`.

Two float32 InstructPix2Pix pipelines stepped together, a store keeping every attention map,
SAM's stock automatic mask generator, a Python Region-IoU loop and the numpy FFT smoother.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from engine.api import EditParams
from engine.models import ModelBundle, make_scheduler
from engine.timing import StageTimer

INSTRUCTION = "make his tie blue"

# ----------------------------------------------------------------------------------------------
# The naive composition (the reference code's structure)
# ----------------------------------------------------------------------------------------------


class NaiveAttentionStore:
    """Keeps every attention map of at most 32^2 queries, per step and per place (the reference's store)."""

    MAX_QUERIES = 32 ** 2

    def __init__(self):
        self.step_store: dict[str, list[torch.Tensor]] = self._empty()
        self.steps: list[dict[str, list[torch.Tensor]]] = []

    @staticmethod
    def _empty() -> dict[str, list[torch.Tensor]]:
        return {f"{p}_{k}": [] for p in ("down", "mid", "up") for k in ("cross", "self")}

    def __call__(self, probs: torch.Tensor, is_cross: bool, place: str) -> None:
        if probs.shape[1] <= self.MAX_QUERIES:
            self.step_store[f"{place}_{'cross' if is_cross else 'self'}"].append(probs[probs.shape[0] // 3:])

    def end_step(self) -> None:
        self.steps.append(self.step_store)
        self.step_store = self._empty()

    def aggregate_cross(self, hw: tuple[int, int]) -> torch.Tensor:
        """Mean cross-attention at `hw` over steps, down/up layers, null-text branches and heads: [h, w, T]."""
        n = hw[0] * hw[1]
        maps = [m for step in self.steps for key in ("down_cross", "up_cross") for m in step[key] if m.shape[1] == n]
        stacked = torch.stack([m.float() for m in maps])  # [steps * layers, b * heads, N, T]
        return stacked.mean(dim=(0, 1)).reshape(hw[0], hw[1], -1)


class StoringAttnProcessor:
    """diffusers' plain `AttnProcessor` (explicit softmax, no fused kernel) that hands every map to a store."""

    def __init__(self, store: NaiveAttentionStore, place: str):
        self.store = store
        self.place = place

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        is_cross = encoder_hidden_states is not None
        residual = hidden_states
        ndim = hidden_states.ndim
        if ndim == 4:
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)  # [B, N, C]
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        if is_cross and attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        q = attn.head_to_batch_dim(attn.to_q(hidden_states))  # [B * heads, N, d]
        k = attn.head_to_batch_dim(attn.to_k(context))  # [B * heads, T, d]
        v = attn.head_to_batch_dim(attn.to_v(context))
        probs = attn.get_attention_scores(q, k, None)  # [B * heads, N, T]
        self.store(probs, is_cross, self.place)
        out = attn.batch_to_head_dim(torch.bmm(probs, v))
        out = attn.to_out[1](attn.to_out[0](out))
        if ndim == 4:
            out = out.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def register_naive_store(unet, store: NaiveAttentionStore) -> None:
    """Replaces every attention processor of `unet` with a storing plain processor."""
    procs = {}
    for name in unet.attn_processors:
        place = "down" if name.startswith("down") else "up" if name.startswith("up") else "mid"
        procs[name] = StoringAttnProcessor(store, place)
    unet.set_attn_processor(procs)


class NaiveTurn:
    """The reference code's turn: two float32 InstructPix2Pix pipelines stepped together, a full
    attention store, SAM's stock automatic mask generator, a Python Region-IoU loop and the numpy
    FFT smoother.

    Each pipeline has its own VAE and text encoder (copies of the bundle's, as two checkpoints
    would give) and encodes the prompt and the image itself. IP2P's UNet runs the store's plain
    processors on every attention layer; MagicBrush's keeps diffusers' default (SDPA).

    Args:
        bundle: the models (copied to float32; the bundle itself is left as it is).
        sam_thresholds: keyword arguments for `SamAutomaticMaskGenerator` (the engine's).
        device: where the naive models live while they run.
    """

    def __init__(self, bundle: ModelBundle, sam_thresholds: dict, device: torch.device):
        from diffusers import StableDiffusionInstructPix2PixPipeline

        self.device = device
        self.pipes = []
        for unet in (bundle.unet_ip2p, bundle.unet_mb):
            pipe = StableDiffusionInstructPix2PixPipeline(
                vae=copy.deepcopy(bundle.vae).float(), text_encoder=copy.deepcopy(bundle.text_encoder).float(),
                tokenizer=bundle.tokenizer, unet=copy.deepcopy(unet).float(),
                scheduler=make_scheduler(bundle.scheduler_config), safety_checker=None,
                feature_extractor=None, requires_safety_checker=False)
            pipe.set_progress_bar_config(disable=True)
            self.pipes.append(pipe)
        self.sam = copy.deepcopy(bundle.sam).float()
        self.sam_thresholds = dict(sam_thresholds)

    def to(self, device: torch.device) -> "NaiveTurn":
        for pipe in self.pipes:
            pipe.to(device)
        self.sam.to(device)
        return self

    @torch.no_grad()
    def run(self, image: np.ndarray, params: EditParams, points_per_side: int) -> tuple[dict[str, float], np.ndarray]:
        """One turn; returns per-stage milliseconds and the final full-resolution mask."""
        from segment_anything import SamAutomaticMaskGenerator

        from engine.compositing import LayerCompositor
        from engine.localize import rough_mask_from_attention
        from engine.refine import filter_small_regions, region_iou_reference, scale_region_px
        from engine.smoother import smooth_edges_reference

        dev = self.device
        sw = StageTimer(dev)
        ip2p, mb = self.pipes
        h, w = image.shape[:2]
        store = NaiveAttentionStore()
        originals = dict(ip2p.unet.attn_processors)  # MagicBrush keeps diffusers' default (SDPA)
        register_naive_store(ip2p.unet, store)
        # 1. Each pipeline encodes the prompt ([text, null, null]) and the image itself.
        with sw.stage("text_encode"):
            embs = [p._encode_prompt(INSTRUCTION, dev, 1, True) for p in self.pipes]
        from PIL import Image

        with sw.stage("vae_encode"):
            img_lats = []
            for p in self.pipes:
                x = p.image_processor.preprocess(Image.fromarray(image))
                img_lats.append(p.prepare_image_latents(x, 1, 1, torch.float32, dev, True))
        # 2. Both chains stepped together, every attention map stored.
        with sw.stage("denoise"):
            for p in self.pipes:
                p.scheduler = make_scheduler(dict(p.scheduler.config))
                p.scheduler.set_timesteps(params.steps, device=dev)
            gen = torch.Generator(device="cpu").manual_seed(params.seed)
            z = torch.randn((1, 4, h // 8, w // 8), generator=gen).to(dev) * ip2p.scheduler.init_noise_sigma
            lat = [z.clone(), z.clone()]
            beta = params.effective_beta
            for t in ip2p.scheduler.timesteps:
                new = []
                for p, z_i, emb, il in zip(self.pipes, lat, embs, img_lats):
                    x = p.scheduler.scale_model_input(torch.cat([z_i] * 3), t)
                    noise = p.unet(torch.cat([x, il], 1), t, encoder_hidden_states=emb, return_dict=False)[0]
                    nt, ni, nu = noise.chunk(3)
                    guided = nu + params.text_scale * (nt - ni) + params.image_scale * (ni - nu)
                    new.append(p.scheduler.step(guided, t, z_i, return_dict=False)[0])
                lat = [(new[0] + beta * new[1]) / (1 + beta), new[1]]
                store.end_step()
        last = len(ip2p.tokenizer(INSTRUCTION).input_ids) - 1
        with sw.stage("attention"):
            hw32 = (-(-h // 32), -(-w // 32))
            attention = store.aggregate_cross(hw32).cpu()
            rough = rough_mask_from_attention(attention, last, (h, w))
        with sw.stage("vae_decode"):
            dec = ip2p.vae.decode(lat[0] / ip2p.vae.config.scaling_factor, return_dict=False)[0]
            canvas = ip2p.image_processor.postprocess(dec, output_type="np")[0]
            canvas = (canvas * 255).round().astype(np.uint8)
        # 3. SAM's stock automatic mask generator, timed encoder / the rest.
        generator = SamAutomaticMaskGenerator(self.sam, points_per_side=points_per_side, **self.sam_thresholds)
        generator.predictor.set_image = sw.wrap("sam_encode", generator.predictor.set_image)
        target = image if params.action == "remove" else canvas
        with sw.stage("mask_generation"):
            records = generator.generate(target)
        sw.timings_ms["mask_generation"] -= sw.timings_ms.get("sam_encode", 0.0)
        # 4. Region-IoU one segment at a time.
        with sw.stage("region_iou"):
            min_px = scale_region_px(params.min_region_px, h, w)
            rough_f = filter_small_regions(rough, min_px)
            segs = [r["segmentation"] for r in records]
            scores = region_iou_reference(segs, rough_f)
            refined = filter_small_regions(segs[int(np.argmax(scores))], min_px) if segs and max(scores) > 0 else rough_f
        with sw.stage("smooth"):
            smoothed = smooth_edges_reference(canvas, image, refined, dilate_iterations=params.dilate_iterations,
                                              d0=params.d0, threshold=params.fft_threshold,
                                              closing_kernel=params.closing_kernel, gray=params.smoother_gray)
        with sw.stage("composite"):
            comp = LayerCompositor(edge_alpha=params.edge_alpha)
            alpha = comp.alpha_at_work_size(refined, smoothed.mask, params)
            _, _, mask = comp.to_full_resolution(canvas, alpha, image)
        ip2p.unet.set_attn_processor(originals)
        return sw.timings_ms, mask


