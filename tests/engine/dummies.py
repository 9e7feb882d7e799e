"""Tiny seeded components for engine tests (like diffusers' `get_dummy_components`)."""

from __future__ import annotations

from engine.bundles import build_bundle
from engine.models import ModelBundle, make_scheduler


def get_dummy_components(seed: int = 0, same_unets: bool = False) -> ModelBundle:
    """The tiny spec's VAE, text encoder, tokenizer and two UNets; no SAM (the sampler does not need it)."""
    return build_bundle("tiny", seed, with_sam=False, same_unets=same_unets)


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
