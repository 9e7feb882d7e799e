"""Fused InstructPix2Pix + MagicBrush denoising (ZONE eq. 2 and eq. 5) with attention capture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from engine.api import CancelFn, ProgressEvent, ProgressFn
from engine.attention import (
    CAPTURE_BRANCHES,
    CrossAttentionStore,
    attention_resolution_hw,
    capture_cross_attention,
)
from engine.errors import EditCancelled
from engine.models import ModelBundle, make_scheduler


@dataclass
class SamplerOutput:
    """Result of one fused denoising run.

    Attributes:
        latents: IP2P's final latent chain (the mixed one), [1, 4, h/8, w/8].
        attention: mean cross-attention of IP2P, [h/32, w/32, 77] float32 on the CPU, or None.
        last_token_index: position of the instruction's end-of-text token (the "last token" of eq. 4).
    """

    latents: torch.Tensor
    attention: Optional[torch.Tensor]
    last_token_index: int


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, 3] -> float32 [1, 3, H, W] in [-1, 1] (what diffusers' VaeImageProcessor produces)."""
    x = torch.tensor(np.asarray(image), dtype=torch.float32).div(255.0)  # [H, W, 3]
    return x.permute(2, 0, 1).unsqueeze(0).mul(2.0).sub(1.0)


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """float [1, 3, H, W] in [-1, 1] -> uint8 [H, W, 3], rounding like diffusers' `numpy_to_pil`."""
    x = (x[0].float() / 2 + 0.5).clamp(0, 1)
    return (x.permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)


class FusedSampler:
    """Runs IP2P and MagicBrush side by side, mixing MagicBrush's latents into IP2P's chain.

    MagicBrush keeps its own latent chain and scheduler state; only IP2P's chain is mixed:
    z_{t-1} = (z*_{t-1} + beta * z'_{t-1}) / (1 + beta). Both UNets use IP2P's text embeddings
    and image latents (the models share the VAE and text encoder).

    Args:
        bundle: the loaded models.
        capture: which guidance branches' cross-attention to average ("null_text" follows the
            reference implementation; "text" or "all" are alternatives; None disables capture).
        overlap_streams: on CUDA, run MagicBrush's UNet on a second stream so that both UNets
            overlap (same arithmetic, same result); ignored on the CPU.
    """

    def __init__(self, bundle: ModelBundle, capture: Optional[str] = "null_text", overlap_streams: bool = False):
        if capture is not None and capture not in CAPTURE_BRANCHES:
            raise ValueError(f"capture must be one of {sorted(CAPTURE_BRANCHES)} or None")
        self.bundle = bundle
        self.capture = capture
        self.overlap_streams = overlap_streams

    # -- conditioning ------------------------------------------------------------------------

    @torch.no_grad()
    def encode_prompt(self, instruction: str) -> tuple[torch.Tensor, int]:
        """Text context for the three branches, [3, 77, D] = [text, null, null], and the last token index."""
        b = self.bundle
        tok = b.tokenizer
        ids = tok(
            [instruction, ""],
            padding="max_length",
            max_length=tok.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(b.device)
        mask = None
        if getattr(b.text_encoder.config, "use_attention_mask", False):
            mask = (ids != tok.pad_token_id).long()
        emb = b.text_encoder(ids, attention_mask=mask)[0].to(b.dtype)  # [2, 77, D]
        text, null = emb[:1], emb[1:]
        num_tokens = len(tok(instruction, truncation=True, max_length=tok.model_max_length).input_ids)
        return torch.cat([text, null, null]), num_tokens - 1

    @torch.no_grad()
    def encode_image(self, image: np.ndarray) -> torch.Tensor:
        """Image latents for the three branches, [3, 4, h, w] = [image, image, zeros] (unscaled mode)."""
        b = self.bundle
        x = image_to_tensor(image).to(device=b.device, dtype=b.dtype)
        lat = b.vae.encode(x).latent_dist.mode()  # [1, 4, h, w]
        return torch.cat([lat, lat, torch.zeros_like(lat)])

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> np.ndarray:
        b = self.bundle
        x = b.vae.decode(latents / b.vae.config.scaling_factor).sample
        return tensor_to_image(x)

    # -- denoising ---------------------------------------------------------------------------

    @staticmethod
    def guide(noise: torch.Tensor, image_scale: float, text_scale: float) -> torch.Tensor:
        """Eq. 2: eps(null,null) + s_I (eps(img,null) - eps(null,null)) + s_T (eps(img,txt) - eps(img,null))."""
        text, image, uncond = noise.chunk(3)
        return uncond + text_scale * (text - image) + image_scale * (image - uncond)

    def initial_latents(self, image_latents: torch.Tensor, seed: int, scheduler) -> torch.Tensor:
        """Seeded noise drawn on the CPU (device-independent), like diffusers' `randn_tensor`."""
        from diffusers.utils.torch_utils import randn_tensor

        shape = (1, 4, *image_latents.shape[-2:])
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        z = randn_tensor(shape, generator=gen, device=image_latents.device, dtype=image_latents.dtype)
        return z * scheduler.init_noise_sigma

    @torch.no_grad()
    def sample(
        self,
        context: torch.Tensor,
        image_latents: torch.Tensor,
        *,
        steps: int,
        image_scale: float,
        text_scale: float,
        beta: float,
        seed: int,
        last_token_index: int = 0,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        latents: torch.Tensor | None = None,
    ) -> SamplerOutput:
        """Runs the fused loop.

        Args:
            context: [3, 77, D] text embeddings from `encode_prompt`.
            image_latents: [3, 4, h, w] from `encode_image`.
            steps: number of DPM-Solver++ steps.
            image_scale: s_I.
            text_scale: s_T.
            beta: MagicBrush weight (0.2 remove, 0.01 otherwise).
            seed: seed of the initial noise (shared by both chains).
            last_token_index: recorded in the output for localization.
            progress: receives ("denoise", k, steps) after each step.
            cancel: polled before each step; True raises `EditCancelled`.
            latents: optional initial noise [1, 4, h, w] (overrides `seed`).
        """
        b = self.bundle
        # 1. One scheduler per chain: DPM-Solver++ keeps the previous model outputs.
        sched_ip2p = make_scheduler(b.scheduler_config)
        sched_mb = make_scheduler(b.scheduler_config)
        sched_ip2p.set_timesteps(steps, device=b.device)
        sched_mb.set_timesteps(steps, device=b.device)

        # 2. Shared initial noise.
        z = latents.to(b.device, b.dtype) if latents is not None else self.initial_latents(image_latents, seed, sched_ip2p)
        z_ip2p, z_mb = z.clone(), z.clone()  # [1, 4, h, w] each

        store = None
        if self.capture is not None:
            res = attention_resolution_hw(tuple(image_latents.shape[-2:]))
            store = CrossAttentionStore(res, CAPTURE_BRANCHES[self.capture])

        def run_unet(unet, sched, z_in: torch.Tensor, t) -> torch.Tensor:
            x = sched.scale_model_input(torch.cat([z_in] * 3), t)  # [3, 4, h, w]
            x = torch.cat([x, image_latents], dim=1)  # [3, 8, h, w]
            noise = unet(x, t, encoder_hidden_states=context, return_dict=False)[0]
            return sched.step(self.guide(noise, image_scale, text_scale), t, z_in, return_dict=False)[0]

        # 3. Denoise; attention is captured on IP2P only, into one running sum.
        import contextlib

        capture_ctx = capture_cross_attention(b.unet_ip2p, store) if store is not None else contextlib.nullcontext()
        # With `overlap_streams` on CUDA, MagicBrush runs on a side stream that first waits for
        # everything queued so far (z_mb, the context) and that the main stream waits for before
        # mixing; nothing is read on the host inside the loop.
        side = torch.cuda.Stream(device=b.device) if self.overlap_streams and b.device.type == "cuda" else None
        with capture_ctx:
            for k, t in enumerate(sched_ip2p.timesteps):
                if cancel is not None and cancel():
                    raise EditCancelled("edit cancelled")
                if side is None:
                    z_mb = run_unet(b.unet_mb, sched_mb, z_mb, t)  # z'_{t-1}: MagicBrush's own chain
                    z_star = run_unet(b.unet_ip2p, sched_ip2p, z_ip2p, t)  # z*_{t-1}
                else:
                    main = torch.cuda.current_stream(b.device)
                    side.wait_stream(main)
                    with torch.cuda.stream(side):
                        z_mb = run_unet(b.unet_mb, sched_mb, z_mb, t)
                    z_star = run_unet(b.unet_ip2p, sched_ip2p, z_ip2p, t)
                    main.wait_stream(side)
                    z_mb.record_stream(main)
                z_ip2p = (z_star + beta * z_mb) / (1.0 + beta)  # eq. 5
                if progress is not None:
                    progress(ProgressEvent("denoise", k + 1, steps, f"denoising step {k + 1} of {steps}"))

        attention = store.average().cpu() if store is not None else None
        return SamplerOutput(latents=z_ip2p, attention=attention, last_token_index=last_token_index)
