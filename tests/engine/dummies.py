"""Tiny seeded components for engine tests (like diffusers' `get_dummy_components`)."""

from __future__ import annotations

import torch

from engine.models import (
    ModelBundle,
    build_tiny_text_encoder,
    build_tiny_tokenizer,
    build_tiny_unet,
    build_tiny_vae,
    default_scheduler_config,
    make_scheduler,
)


def get_dummy_components(seed: int = 0, same_unets: bool = False) -> ModelBundle:
    """VAE, text encoder, tokenizer and two UNets; no SAM (the sampler does not need it)."""
    tok = build_tiny_tokenizer()
    return ModelBundle(
        vae=build_tiny_vae(seed),
        text_encoder=build_tiny_text_encoder(seed, len(tok)),
        tokenizer=tok,
        unet_ip2p=build_tiny_unet(seed),
        unet_mb=build_tiny_unet(seed if same_unets else seed + 1),
        scheduler_config=default_scheduler_config(),
        sam=torch.nn.Identity(),
    ).eval()


def diffusers_ip2p_pipeline(bundle: ModelBundle):
    """diffusers' own InstructPix2Pix pipeline over the same IP2P components."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=bundle.vae,
        text_encoder=bundle.text_encoder,
        tokenizer=bundle.tokenizer,
        unet=bundle.unet_ip2p,
        scheduler=make_scheduler(bundle.scheduler_config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe
