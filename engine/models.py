"""Model bundle: two 8-channel UNets (IP2P, MagicBrush) sharing one VAE, text encoder and tokenizer, plus SAM."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.weights import IP2P_ID, MAGICBRUSH_ID


@dataclass
class ModelBundle:
    """Everything one ZONE edit needs, on one device.

    Attributes:
        vae: AutoencoderKL shared by both UNets (IP2P's).
        text_encoder: CLIPTextModel shared by both UNets (IP2P's).
        tokenizer: CLIPTokenizer (IP2P's).
        unet_ip2p: InstructPix2Pix's UNet2DConditionModel (8 input channels).
        unet_mb: MagicBrush's UNet2DConditionModel (8 input channels).
        scheduler_config: IP2P's scheduler config; each chain gets its own DPM-Solver++ instance.
        sam: segment_anything `Sam` model.
        model_ids: names recorded in every version's parameters.
        sam_points_per_side: default automatic-mask grid for this bundle.
    """

    vae: Any
    text_encoder: Any
    tokenizer: Any
    unet_ip2p: Any
    unet_mb: Any
    scheduler_config: dict
    sam: Any
    model_ids: dict = field(default_factory=dict)
    sam_points_per_side: int = 32
    sam_points_per_batch: int = 64

    @property
    def device(self) -> torch.device:
        return next(self.unet_ip2p.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.unet_ip2p.parameters()).dtype

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> "ModelBundle":
        for m in (self.vae, self.text_encoder, self.unet_ip2p, self.unet_mb):
            current = next(m.parameters()).dtype
            m.to(device=device, dtype=dtype) if dtype not in (None, current) else m.to(device)
        self.sam.to(device)  # SAM stays float32 (its encoder may autocast to bf16 on CUDA)
        return self

    def eval(self) -> "ModelBundle":
        for m in (self.vae, self.text_encoder, self.unet_ip2p, self.unet_mb, self.sam):
            m.eval().requires_grad_(False)
        return self


def default_scheduler_config() -> dict:
    """The scheduler config of SD 1.5 / IP2P (used by the tiny engine; real weights bring their own)."""
    return {
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": "epsilon",
        "steps_offset": 1,
        "clip_sample": False,
        "set_alpha_to_one": False,
        "trained_betas": None,
    }


def make_scheduler(config: dict):
    """A fresh DPM-Solver++ (multistep) scheduler: it keeps per-chain state, so one per latent chain."""
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler.from_config(config)


# ----------------------------------------------------------------------------------------------
# Real weights
# ----------------------------------------------------------------------------------------------


def load_sam(checkpoint) -> tuple[Any, str]:
    """SAM from a checkpoint file, the variant (ViT-B/L/H) read from its shapes: (model, variant name).

    Raises:
        WeightsMissingError: the file is not a segment-anything checkpoint, or `$ZONE_SAM_MODEL`
            names another variant than the file holds.
    """
    from engine.bundles import build_sam, load_sam_checkpoint, sam_spec_from_state_dict
    from engine.errors import WeightsMissingError
    from engine.weights import SAM_MODEL_ENV, sam_variant

    try:
        state = load_sam_checkpoint(str(checkpoint))
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise WeightsMissingError(f"cannot read the SAM checkpoint {checkpoint}: {type(exc).__name__}") from exc
    spec = sam_spec_from_state_dict(state) if isinstance(state, dict) else None
    if spec is None:
        raise WeightsMissingError(f"{checkpoint} is not a Segment Anything ViT-B, ViT-L or ViT-H checkpoint")
    wanted = sam_variant()
    if wanted is not None and wanted != spec.name:
        raise WeightsMissingError(f"{SAM_MODEL_ENV}={wanted} but {checkpoint} holds a SAM {spec.name}")
    return build_sam(spec, state_dict=state), spec.name


def load_real_bundle(paths, device: torch.device, dtype: torch.dtype, sam_points_per_side: int = 32) -> ModelBundle:
    """Loads IP2P (UNet, VAE, text encoder, tokenizer, scheduler config), MagicBrush's UNet and SAM.

    Args:
        paths: `engine.weights.WeightPaths` (local folders and the SAM checkpoint).
        device: where the models run.
        dtype: float16 on CUDA, float32 on the CPU (SAM always loads in float32).
        sam_points_per_side: automatic-mask grid (32 in the reference).
    """
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    ip2p, mb = str(paths.ip2p), str(paths.magicbrush)
    sam, sam_name = load_sam(paths.sam_checkpoint)
    bundle = ModelBundle(
        vae=AutoencoderKL.from_pretrained(ip2p, subfolder="vae", torch_dtype=dtype),
        text_encoder=CLIPTextModel.from_pretrained(ip2p, subfolder="text_encoder", torch_dtype=dtype),
        tokenizer=CLIPTokenizer.from_pretrained(ip2p, subfolder="tokenizer"),
        unet_ip2p=UNet2DConditionModel.from_pretrained(ip2p, subfolder="unet", torch_dtype=dtype),
        unet_mb=UNet2DConditionModel.from_pretrained(mb, subfolder="unet", torch_dtype=dtype),
        scheduler_config=dict(DPMSolverMultistepScheduler.load_config(ip2p, subfolder="scheduler")),
        sam=sam,
        model_ids={"ip2p": IP2P_ID, "magicbrush": MAGICBRUSH_ID, "sam": f"sam_{sam_name}:{Path(paths.sam_checkpoint).name}"},
        sam_points_per_side=sam_points_per_side,
    )
    return bundle.to(device, dtype).eval()
