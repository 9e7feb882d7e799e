"""Captured cross-attention equals a plain softmax(QK^T/sqrt(d)) store averaged like the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import AttnProcessor

from engine.attention import (
    CrossAttentionStore,
    attention_resolution_hw,
    capture_cross_attention,
    cross_attention_layer_names,
    reference_cross_attention_probs,
)
from engine.sampler import FusedSampler
from tests.engine.dummies import get_dummy_components


class ReferenceStoreProcessor(AttnProcessor):
    """Plain attention that appends every cross-attention probability map to a list (like ptp's store)."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *a, **k):
        if encoder_hidden_states is not None:
            self.log.append((self.name, reference_cross_attention_probs(attn, hidden_states, encoder_hidden_states)))
        return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb)


@pytest.fixture(scope="module")
def bundle():
    return get_dummy_components(0)


def test_capture_equals_plain_reference(bundle):
    photo = np.random.default_rng(1).integers(0, 255, (128, 96, 3), dtype=np.uint8)
    s = FusedSampler(bundle, capture="null_text")
    ctx, last = s.encode_prompt("put a hat on the dog")
    lat = s.encode_image(photo)
    steps = 2
    out = s.sample(ctx, lat, steps=steps, image_scale=1.5, text_scale=7.5, beta=0.01, seed=0, last_token_index=last)

    # Reference: plain processors on IP2P's down/up cross-attention layers, every map kept.
    log: list = []
    unet = bundle.unet_ip2p
    originals = dict(unet.attn_processors)
    procs = dict(originals)
    for name in cross_attention_layer_names(unet):
        procs[name] = ReferenceStoreProcessor(name, log)
    unet.set_attn_processor(procs)
    try:
        FusedSampler(bundle, capture=None).sample(ctx, lat, steps=steps, image_scale=1.5, text_scale=7.5, beta=0.01, seed=0)
    finally:
        unet.set_attn_processor(originals)

    h, w = attention_resolution_hw(tuple(lat.shape[-2:]))
    maps = [p for _, p in log if p.shape[1] == h * w]  # each [3 * heads, N, 77]
    assert maps, "the tiny UNet must have cross-attention at 1/32"
    # reference: attn[h // 3:] (the two null-text branches), mean over heads, layers and steps
    picked = torch.cat([m[m.shape[0] // 3 :] for m in maps])  # [K, N, 77]
    expected = picked.mean(0).reshape(h, w, -1)
    torch.testing.assert_close(out.attention, expected, rtol=1e-5, atol=1e-6)
    # every probability row sums to one
    torch.testing.assert_close(out.attention.sum(-1), torch.ones(h, w), rtol=1e-5, atol=1e-5)


def test_processors_restored_even_on_error(bundle):
    unet = bundle.unet_ip2p
    before = {k: type(v) for k, v in unet.attn_processors.items()}
    store = CrossAttentionStore((2, 2), (1, 2))
    with pytest.raises(ValueError):
        with capture_cross_attention(unet, store):
            assert any(type(p).__name__ == "CapturingAttnProcessor" for p in unet.attn_processors.values())
            raise ValueError("boom")
    assert {k: type(v) for k, v in unet.attn_processors.items()} == before


def test_only_down_and_up_cross_attention_is_wrapped(bundle):
    names = cross_attention_layer_names(bundle.unet_ip2p)
    assert names and all(n.endswith("attn2.processor") and not n.startswith("mid") for n in names)
    at_1_32 = cross_attention_layer_names(bundle.unet_ip2p, level=2)
    assert at_1_32 == [n for n in names if n.startswith(("down_blocks.2.", "up_blocks.1."))]
    unet = bundle.unet_ip2p
    with capture_cross_attention(unet, CrossAttentionStore((2, 2), (1, 2))):
        wrapped = sorted(k for k, p in unet.attn_processors.items() if type(p).__name__ == "CapturingAttnProcessor")
    assert wrapped == sorted(at_1_32)


def test_store_reports_wrong_state():
    with pytest.raises(RuntimeError, match="no cross-attention was captured"):
        CrossAttentionStore((4, 4), (1, 2)).average()


def test_attention_resolution_rounds_up():
    assert attention_resolution_hw((64, 64)) == (16, 16)
    assert attention_resolution_hw((11, 6)) == (3, 2)
