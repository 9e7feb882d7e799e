"""Model bundle: two 8-channel UNets (IP2P, MagicBrush) sharing one VAE, text encoder and tokenizer, plus SAM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

# Hugging Face ids and the SAM checkpoint the real engine uses.
IP2P_ID = "timbrooks/instruct-pix2pix"
MAGICBRUSH_ID = "vinesmsuic/magicbrush-jul7"
SAM_CHECKPOINT_NAME = "sam_vit_h_4b8939.pth"
SAM_CHECKPOINT_URL = "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth"
SAM_CHECKPOINT_SHA256 = "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e"


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

    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

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
# Tiny random-weight models (tests and dry runs; their edits are meaningless)
# ----------------------------------------------------------------------------------------------


def _byte_level_alphabet() -> list[str]:
    """GPT-2/CLIP byte-to-unicode alphabet: 256 printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def build_tiny_tokenizer(model_max_length: int = 77):
    """A CLIP tokenizer whose vocabulary is the 256 byte symbols (no merges): one token per character."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in _byte_level_alphabet():
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)


def build_tiny_unet(seed: int, cross_attention_dim: int = 32):
    """An SD-1.5-shaped UNet (4 levels, so a 1/32 map exists) with 8 input channels and few weights."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    return UNet2DConditionModel(
        sample_size=16,
        in_channels=8,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=2,
        norm_num_groups=4,
    )


def build_tiny_vae(seed: int):
    """A 4-level AutoencoderKL (scale factor 8, 4 latent channels) with few weights."""
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    )


def build_tiny_text_encoder(seed: int, vocab_size: int, hidden_size: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=hidden_size,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        max_position_embeddings=77,
    )
    return CLIPTextModel(config)


def build_tiny_bundle(seed: int = 0) -> ModelBundle:
    """Seeded, deterministic tiny models with the real architectures' shapes (for tests and dry runs)."""
    from engine.refine import build_tiny_sam

    tokenizer = build_tiny_tokenizer()
    bundle = ModelBundle(
        vae=build_tiny_vae(seed),
        text_encoder=build_tiny_text_encoder(seed, vocab_size=len(tokenizer)),
        tokenizer=tokenizer,
        unet_ip2p=build_tiny_unet(seed),
        unet_mb=build_tiny_unet(seed + 1),
        scheduler_config=default_scheduler_config(),
        sam=build_tiny_sam(seed),
        model_ids={"ip2p": "tiny-random-ip2p", "magicbrush": "tiny-random-magicbrush", "sam": "tiny-random-sam"},
        sam_points_per_side=4,
        sam_points_per_batch=16,
    )
    return bundle.eval()


# ----------------------------------------------------------------------------------------------
# Real weights
# ----------------------------------------------------------------------------------------------


def load_real_bundle(paths, device: torch.device, dtype: torch.dtype, sam_points_per_side: int = 32) -> ModelBundle:
    """Loads IP2P (UNet, VAE, text encoder, tokenizer, scheduler config), MagicBrush's UNet and SAM ViT-H.

    Args:
        paths: `engine.weights.WeightPaths` (local folders and the SAM checkpoint).
        device: where the models run.
        dtype: float16 on CUDA, float32 on the CPU (SAM always loads in float32).
        sam_points_per_side: automatic-mask grid (32 in the reference).
    """
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, UNet2DConditionModel
    from segment_anything import sam_model_registry
    from transformers import CLIPTextModel, CLIPTokenizer

    ip2p, mb = str(paths.ip2p), str(paths.magicbrush)
    bundle = ModelBundle(
        vae=AutoencoderKL.from_pretrained(ip2p, subfolder="vae", torch_dtype=dtype),
        text_encoder=CLIPTextModel.from_pretrained(ip2p, subfolder="text_encoder", torch_dtype=dtype),
        tokenizer=CLIPTokenizer.from_pretrained(ip2p, subfolder="tokenizer"),
        unet_ip2p=UNet2DConditionModel.from_pretrained(ip2p, subfolder="unet", torch_dtype=dtype),
        unet_mb=UNet2DConditionModel.from_pretrained(mb, subfolder="unet", torch_dtype=dtype),
        scheduler_config=dict(DPMSolverMultistepScheduler.load_config(ip2p, subfolder="scheduler")),
        sam=sam_model_registry["vit_h"](checkpoint=str(paths.sam_checkpoint)),
        model_ids={"ip2p": IP2P_ID, "magicbrush": MAGICBRUSH_ID, "sam": "sam_vit_h_4b8939"},
        sam_points_per_side=sam_points_per_side,
    )
    return bundle.to(device, dtype).eval()
