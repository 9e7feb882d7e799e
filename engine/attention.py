"""Cross-attention capture: processors keyed by layer name that feed one running-sum store."""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F

# Batch layout of InstructPix2Pix's three-way guidance: [text+image, null-text+image, null-text+null-image].
BRANCH_TEXT, BRANCH_IMAGE, BRANCH_UNCOND = 0, 1, 2
# The reference implementation stores attn[h // 3:], i.e. the two null-text branches; the paper's
# Fig. 3 shows that IP2P's maps "with unconditional embeddings" are edit-aware.
CAPTURE_BRANCHES = {
    "null_text": (BRANCH_IMAGE, BRANCH_UNCOND),
    "text": (BRANCH_TEXT,),
    "all": (BRANCH_TEXT, BRANCH_IMAGE, BRANCH_UNCOND),
}


def attention_resolution_hw(latent_hw: tuple[int, int], downsamples: int = 2) -> tuple[int, int]:
    """Spatial size of the UNet feature map after `downsamples` stride-2 convolutions.

    A stride-2 3x3 convolution with padding 1 maps n to ceil(n / 2), so the 1/32 map of a
    latent of size (h, w) (itself 1/8 of the image) is (ceil(h / 4), ceil(w / 4)).
    """
    h, w = latent_hw
    for _ in range(downsamples):
        h, w = -(-h // 2), -(-w // 2)
    return h, w


class CrossAttentionStore:
    """Running sum of cross-attention probabilities at one spatial resolution.

    Nothing is kept per step or per layer: every captured map is added into one tensor
    `total` of shape [num_pixels, num_tokens], and `count` records how many head-maps went
    into it, so `average()` is the mean over steps, layers, branches and heads, exactly the
    reference's per-layer step average followed by the mean over layers and heads (all
    layers at one resolution have the same number of heads).

    Args:
        resolution_hw: (h, w) of the maps to keep; other resolutions pass through uncaptured.
        branches: which guidance branches to capture (see `CAPTURE_BRANCHES`).
        num_branches: the batch is this many equal chunks (3 for IP2P guidance).
    """

    def __init__(self, resolution_hw: tuple[int, int], branches: Sequence[int], num_branches: int = 3):
        self.resolution_hw = tuple(resolution_hw)
        self.num_pixels = resolution_hw[0] * resolution_hw[1]
        self.branches = tuple(branches)
        self.num_branches = num_branches
        self.total: torch.Tensor | None = None  # [N, T] float32
        self.count = 0

    def wants(self, num_queries: int) -> bool:
        return num_queries == self.num_pixels

    @torch.no_grad()
    def add(self, layer_name: str, probs: torch.Tensor) -> None:
        """Adds `probs` [M, N, T] (M head-maps) into the running sum."""
        summed = probs.sum(dim=0, dtype=torch.float32)  # [N, T]
        if self.total is None:
            self.total = summed
        else:
            self.total += summed
        self.count += probs.shape[0]

    def average(self) -> torch.Tensor:
        """Mean map, [h, w, T] float32."""
        if self.total is None or self.count == 0:
            raise RuntimeError(
                f"no cross-attention was captured at {self.resolution_hw}: the UNet has no "
                "cross-attention layer at this resolution, or no step ran"
            )
        h, w = self.resolution_hw
        return (self.total / self.count).reshape(h, w, -1)


class CapturingAttnProcessor:
    """Wraps a layer's original processor; at the store's resolution it also records the probabilities.

    The layer's output is always computed by the original processor (the fused kernel), so
    capture never changes the result. Probabilities are recomputed only for the captured
    branches, with the plain formula softmax(Q K^T * scale) of eq. 3.
    """

    def __init__(self, name: str, original, store: CrossAttentionStore):
        self.name = name
        self.original = original
        self.store = store

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        out = self.original(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        if encoder_hidden_states is None:
            return out
        x = hidden_states
        if x.ndim == 4:  # [B, C, H, W] -> [B, HW, C]
            b, c, h, w = x.shape
            x = x.view(b, c, h * w).transpose(1, 2)
        if not self.store.wants(x.shape[1]):
            return out
        self._capture(attn, x, encoder_hidden_states)
        return out

    @torch.no_grad()
    def _capture(self, attn, x: torch.Tensor, context: torch.Tensor) -> None:
        store = self.store
        batch = x.shape[0]
        chunk = batch // store.num_branches
        branches = store.branches
        if list(branches) == list(range(branches[0], branches[-1] + 1)):  # contiguous: a view, no copy
            x = x[branches[0] * chunk : (branches[-1] + 1) * chunk]  # [b, N, C]
            ctx = context[branches[0] * chunk : (branches[-1] + 1) * chunk]  # [b, T, D]
        else:  # index built on the device: no host-to-device copy (and no sync) inside the loop
            idx = torch.cat([torch.arange(br * chunk, (br + 1) * chunk, device=x.device) for br in branches])
            x = x.index_select(0, idx)
            ctx = context.index_select(0, idx)
        if attn.group_norm is not None:
            x = attn.group_norm(x.transpose(1, 2)).transpose(1, 2)
        if attn.norm_cross:
            ctx = attn.norm_encoder_hidden_states(ctx)
        q = attn.to_q(x)
        k = attn.to_k(ctx)
        b, n, inner = q.shape
        heads = attn.heads
        d = inner // heads
        q = q.view(b, n, heads, d).transpose(1, 2).float()  # [b, heads, N, d]
        k = k.view(b, -1, heads, d).transpose(1, 2).float()  # [b, heads, T, d]
        probs = torch.softmax(q @ k.transpose(-1, -2) * attn.scale, dim=-1)  # [b, heads, N, T]
        store.add(self.name, probs.reshape(b * heads, n, -1))


def cross_attention_layer_names(unet, places: Sequence[str] = ("down", "up"), level: int | None = None) -> list[str]:
    """Processor keys of the cross-attention layers (attn2) in the given UNet parts.

    Args:
        unet: a diffusers `UNet2DConditionModel`.
        places: "down", "up" and/or "mid".
        level: keep only the blocks working at latent / 2**level (2 is 1/32 of the image):
            down block i runs at level i, up block j at level (number of up blocks - 1 - j).
            None keeps every level.
    """
    num_up = len(unet.up_blocks)
    names = []
    for name in unet.attn_processors:
        if not name.endswith("attn2.processor"):
            continue
        part = name.split(".")[0]  # down_blocks / up_blocks / mid_block
        place = part.split("_")[0]
        if place not in places:
            continue
        if level is not None and place in ("down", "up"):
            index = int(name.split(".")[1])
            if (index if place == "down" else num_up - 1 - index) != level:
                continue
        names.append(name)
    return names


@contextlib.contextmanager
def capture_cross_attention(
    unet, store: CrossAttentionStore, places: Sequence[str] = ("down", "up"), level: int | None = 2
) -> Iterator[CrossAttentionStore]:
    """Installs capturing processors on `unet` for the duration of the block.

    Only the layers at `level` (the 1/32 maps) are wrapped: capture happens only where it is
    used. The original processors are restored in a `finally`, also when the block raises.
    The reference aggregates the "down" and "up" blocks only (not the mid block).
    """
    originals = dict(unet.attn_processors)
    wrapped = dict(originals)
    for name in cross_attention_layer_names(unet, places, level=level):
        wrapped[name] = CapturingAttnProcessor(name, originals[name], store)
    unet.set_attn_processor(wrapped)
    try:
        yield store
    finally:
        unet.set_attn_processor(originals)


def reference_cross_attention_probs(attn, hidden_states: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """Plain softmax(Q K^T / sqrt(d)) for every batch entry and head: [B * heads, N, T] (for tests)."""
    q = attn.to_q(hidden_states)
    k = attn.to_k(context)
    q = attn.head_to_batch_dim(q)
    k = attn.head_to_batch_dim(k)
    d = q.shape[-1]
    return F.softmax(q.float() @ k.float().transpose(-1, -2) / d**0.5, dim=-1)
