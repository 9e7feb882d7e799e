"""One registry of model-bundle specs (tiny, small, sd15) and SAM specs, and the builders they share.

Every random-weight bundle in Zone (the tiny engine, `zone bench`, scripts/bench_capture.py, the
test dummies) is built here by `build_bundle(BUNDLE_SPECS[name])`. SAM models, random or from a
checkpoint, are built by `build_sam`, which follows segment-anything's `_build_sam` (the same
modules, the same arguments) with the sizes taken from a `SamSpec`, so the tiny SAM and ViT-B/L/H
come out of one function. Importing this module does not import torch (the weights code reads
the SAM checkpoint names from it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import partial
from typing import Optional

# GPT-2/CLIP byte alphabet (256 symbols, each with and without "</w>") plus start and end tokens.
TINY_VOCAB_SIZE = 2 + 2 * 256


@dataclass(frozen=True)
class SamCheckpoint:
    """A released segment-anything checkpoint: file name, download URL and SHA-256."""

    name: str
    url: str
    sha256: str


@dataclass(frozen=True)
class SamSpec:
    """Sizes of one Segment Anything model, as segment-anything's `_build_sam` takes them.

    Attributes:
        name: registry key ("vit_b", "vit_l", "vit_h", "tiny").
        encoder: `ImageEncoderViT` keyword arguments (img_size, embed_dim, depth, num_heads,
            global_attn_indexes, mlp_ratio, use_rel_pos, window_size).
        prompt_dim: prompt/mask embedding width (the encoder's `out_chans`, the decoder's width).
        transformer: the mask decoder's `TwoWayTransformer` (depth, mlp_dim, num_heads).
        heads: (IoU head depth, IoU head width, the prompt encoder's mask_in_chans).
        checkpoint: the released checkpoint (None for random-only specs).
    """

    name: str
    encoder: dict
    prompt_dim: int
    transformer: dict
    heads: tuple[int, int, int]
    checkpoint: Optional[SamCheckpoint] = None

    @property
    def img_size(self) -> int:
        return int(self.encoder["img_size"])

    def at_size(self, img_size: int) -> "SamSpec":
        """The same model for another input side."""
        return dataclasses.replace(self, encoder={**self.encoder, "img_size": int(img_size)})


def _released(name: str, width: int, depth: int, heads: int, global_attn: tuple[int, ...], file: str, sha256: str) -> SamSpec:
    vit = dict(img_size=1024, embed_dim=width, depth=depth, num_heads=heads, global_attn_indexes=global_attn,
               mlp_ratio=4.0, use_rel_pos=True, window_size=14)
    ckpt = SamCheckpoint(file, "https://dl.fbaipublicfiles.com/segment_anything/" + file, sha256)
    return SamSpec(name, vit, 256, dict(depth=2, mlp_dim=2048, num_heads=8), (3, 256, 16), ckpt)


SAM_SPECS: dict[str, SamSpec] = {
    "vit_b": _released("vit_b", 768, 12, 12, (2, 5, 8, 11), "sam_vit_b_01ec64.pth",
                       "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912"),
    "vit_l": _released("vit_l", 1024, 24, 16, (5, 11, 17, 23), "sam_vit_l_0b3195.pth",
                       "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622"),
    "vit_h": _released("vit_h", 1280, 32, 16, (7, 15, 23, 31), "sam_vit_h_4b8939.pth",
                       "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e"),
    # ViT depth 1, width 32: for tests and the tiny engine (random weights only).
    "tiny": SamSpec("tiny", dict(img_size=128, embed_dim=32, depth=1, num_heads=2, global_attn_indexes=(0,),
                                 mlp_ratio=2.0, use_rel_pos=False, window_size=0),
                    32, dict(depth=1, mlp_dim=64, num_heads=2), (1, 16, 4)),
}
SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class BundleSpec:
    """Architectures of one random-weight bundle.

    Attributes:
        name: registry key.
        unet, vae, text: keyword arguments of UNet2DConditionModel, AutoencoderKL, CLIPTextConfig.
        sam: the SAM spec.
        points_per_side, points_per_batch: the bundle's automatic-mask grid and decoder batch.
        model_ids: names recorded in every version's parameters.
    """

    name: str
    unet: dict
    vae: dict
    text: dict
    sam: SamSpec
    points_per_side: int = 32
    points_per_batch: int = 64
    model_ids: dict = field(default_factory=dict)


SD15_UNET = dict(  # SD 1.5 / InstructPix2Pix UNet with 8 input channels
    sample_size=64, in_channels=8, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)
SD15_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512),
    layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=512, scaling_factor=0.18215,
)
SD15_TEXT = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
    num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
)


def _random_ids(name: str, sam: str) -> dict:
    return {"ip2p": f"random-{name}", "magicbrush": f"random-{name}", "sam": sam}


BUNDLE_SPECS: dict[str, BundleSpec] = {
    # SD-1.5-shaped (4 levels, so a 1/32 map exists) with few weights: tests and the tiny engine.
    "tiny": BundleSpec(
        "tiny",
        unet={**SD15_UNET, "sample_size": 16, "layers_per_block": 1, "block_out_channels": (8, 16, 16, 16),
              "cross_attention_dim": 32, "attention_head_dim": 2, "norm_num_groups": 4},
        vae={**SD15_VAE, "block_out_channels": (8, 8, 8, 8), "layers_per_block": 1, "norm_num_groups": 4,
             "sample_size": 64, "scaling_factor": 0.18215},
        text={**SD15_TEXT, "vocab_size": TINY_VOCAB_SIZE, "hidden_size": 32, "intermediate_size": 37,
              "num_hidden_layers": 2, "num_attention_heads": 4, "layer_norm_eps": 1e-05},
        sam=SAM_SPECS["tiny"], points_per_side=4, points_per_batch=16,
        model_ids={"ip2p": "tiny-random-ip2p", "magicbrush": "tiny-random-magicbrush", "sam": "tiny-random-sam"},
    ),
    # CPU-sized bench models.
    "small": BundleSpec(
        "small",
        unet={**SD15_UNET, "sample_size": 16, "layers_per_block": 1, "block_out_channels": (32, 64, 64, 64),
              "cross_attention_dim": 64},
        vae={**SD15_VAE, "block_out_channels": (32, 32, 64, 64), "layers_per_block": 1, "sample_size": 128},
        text={**SD15_TEXT, "vocab_size": TINY_VOCAB_SIZE, "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 2, "num_attention_heads": 4},
        sam=SAM_SPECS["tiny"].at_size(256), points_per_side=16,
        model_ids=_random_ids("small", "tiny-256"),
    ),
    # The real architectures: two SD 1.5 UNets, SD's VAE, CLIP ViT-L/14's text tower, SAM ViT-H.
    "sd15": BundleSpec("sd15", unet=SD15_UNET, vae=SD15_VAE, text=SD15_TEXT, sam=SAM_SPECS["vit_h"],
                       model_ids=_random_ids("sd15", "vit_h")),
    # A mid-size SD-shaped UNet (2 layers per block, 768-d text) for scripts/bench_capture.py.
    "mid": BundleSpec(
        "mid",
        unet={**SD15_UNET, "sample_size": 32, "block_out_channels": (64, 128, 256, 256)},
        vae={**SD15_VAE, "block_out_channels": (8, 8, 8, 8), "layers_per_block": 1, "norm_num_groups": 4,
             "sample_size": 64},
        text={**SD15_TEXT, "vocab_size": TINY_VOCAB_SIZE, "intermediate_size": 1536, "num_hidden_layers": 2},
        sam=SAM_SPECS["tiny"], model_ids=_random_ids("mid", "tiny"),
    ),
}


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------


def build_sam(spec: SamSpec | str, state_dict: Optional[dict] = None, seed: int = 0):
    """A SAM of `spec` in eval mode: seeded random weights, or `state_dict` (loaded strictly).

    Args:
        spec: a `SamSpec` or a `SAM_SPECS` key.
        state_dict: a segment-anything checkpoint's tensors (see `load_sam_checkpoint`).
        seed: torch seed for the random initialisation.
    """
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    s = SAM_SPECS[spec] if isinstance(spec, str) else spec
    if s.img_size % 16:
        raise ValueError("img_size must be a multiple of 16")
    grid = s.img_size // 16
    iou_depth, iou_width, mask_in_chans = s.heads
    torch.manual_seed(seed)
    sam = Sam(
        image_encoder=ImageEncoderViT(patch_size=16, out_chans=s.prompt_dim, qkv_bias=True,
                                      norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), **s.encoder),
        prompt_encoder=PromptEncoder(
            embed_dim=s.prompt_dim, image_embedding_size=(grid, grid), input_image_size=(s.img_size, s.img_size),
            mask_in_chans=mask_in_chans),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3, transformer=TwoWayTransformer(embedding_dim=s.prompt_dim, **s.transformer),
            transformer_dim=s.prompt_dim, iou_head_depth=iou_depth, iou_head_hidden_dim=iou_width),
        pixel_mean=list(SAM_PIXEL_MEAN),
        pixel_std=list(SAM_PIXEL_STD),
    )
    if state_dict is not None:
        sam.load_state_dict(state_dict)
    return sam.eval()


def sam_spec_from_state_dict(state_dict: dict) -> Optional[SamSpec]:
    """The registered spec whose encoder width and depth the checkpoint has, at its input size; or None.

    ViT-B/L/H differ in width (768, 1024, 1280); the input size is read from the position embedding.
    """
    patch = state_dict.get("image_encoder.patch_embed.proj.weight")
    if patch is None:
        return None
    width = int(patch.shape[0])
    depth = len({k.split(".")[2] for k in state_dict if k.startswith("image_encoder.blocks.")})
    pos = state_dict.get("image_encoder.pos_embed")
    for spec in SAM_SPECS.values():
        if (spec.encoder["embed_dim"], spec.encoder["depth"]) == (width, depth):
            return spec.at_size(int(pos.shape[1]) * 16) if pos is not None else spec
    return None


def load_sam_checkpoint(path: str) -> dict:
    """The tensors of a segment-anything checkpoint file, on the CPU (no pickled code is run)."""
    import torch

    with open(path, "rb") as fh:
        return torch.load(fh, map_location="cpu", weights_only=True)


def build_tiny_sam(seed: int = 0, img_size: int = 128):
    """The tiny random-weight SAM (ViT depth 1, width 32) at `img_size`, eval mode."""
    return build_sam(SAM_SPECS["tiny"].at_size(img_size), seed=seed)


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


def build_unet(spec: BundleSpec | str, seed: int):
    """The spec's UNet2DConditionModel with seeded random weights."""
    import torch
    from diffusers import UNet2DConditionModel

    s = BUNDLE_SPECS[spec] if isinstance(spec, str) else spec
    torch.manual_seed(seed)
    return UNet2DConditionModel(**s.unet)


def build_bundle(spec: BundleSpec | str, seed: int = 0, *, device: Optional[torch.device | str] = None,
                 dtype: Optional[torch.dtype] = None, with_sam: bool = True, same_unets: bool = False):
    """The spec's models with seeded random weights, in eval mode.

    Args:
        spec: a `BundleSpec` or a `BUNDLE_SPECS` key.
        seed: every component is seeded with it right before it is built (MagicBrush's UNet
            with seed + 1 unless `same_unets`).
        device: where the models are created (None: the CPU).
        dtype: of the VAE, text encoder and UNets (SAM stays float32).
        with_sam: False puts an empty module in SAM's place (the sampler does not need it).
        same_unets: MagicBrush's UNet gets IP2P's weights.
    """
    import torch
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel

    from engine.models import ModelBundle, default_scheduler_config

    s = BUNDLE_SPECS[spec] if isinstance(spec, str) else spec
    tokenizer = build_tiny_tokenizer()
    with torch.device(device or "cpu"):
        torch.manual_seed(seed)
        vae = AutoencoderKL(**s.vae)
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **s.text))
        unet_ip2p = build_unet(s, seed)
        unet_mb = build_unet(s, seed if same_unets else seed + 1)
        sam = build_sam(s.sam, seed=seed) if with_sam else torch.nn.Identity()
    bundle = ModelBundle(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet_ip2p=unet_ip2p, unet_mb=unet_mb,
        scheduler_config=default_scheduler_config(), sam=sam, model_ids=dict(s.model_ids),
        sam_points_per_side=s.points_per_side, sam_points_per_batch=s.points_per_batch,
    )
    if device is not None or dtype is not None:
        bundle.to(device or "cpu", dtype)
    return bundle.eval()
