"""The fused sampler against diffusers' InstructPix2Pix pipeline and a plain two-pipeline reference loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import EditCancelled
from engine.models import make_scheduler
from engine.sampler import FusedSampler, image_to_tensor, tensor_to_image
from tests.engine.dummies import diffusers_ip2p_pipeline, get_dummy_components

PROMPT = "make his tie blue"


@pytest.fixture(scope="module")
def bundle():
    return get_dummy_components(0)


@pytest.fixture(scope="module")
def photo():
    return np.random.default_rng(0).integers(0, 255, (64, 48, 3), dtype=np.uint8)


def run_fused(bundle, photo, beta, seed=3, steps=4, capture="null_text"):
    s = FusedSampler(bundle, capture=capture)
    ctx, last = s.encode_prompt(PROMPT)
    lat = s.encode_image(photo)
    return s, s.sample(ctx, lat, steps=steps, image_scale=1.5, text_scale=7.5, beta=beta, seed=seed, last_token_index=last)


def test_beta_zero_reproduces_diffusers_pipeline(bundle, photo):
    _, out = run_fused(bundle, photo, beta=0.0)
    pipe = diffusers_ip2p_pipeline(bundle)
    ref = pipe(
        PROMPT,
        image=image_to_tensor(photo),
        num_inference_steps=4,
        guidance_scale=7.5,
        image_guidance_scale=1.5,
        generator=torch.Generator().manual_seed(3),
        output_type="latent",
    ).images
    torch.testing.assert_close(out.latents, ref, rtol=0, atol=0)
    # and the decoded image, through diffusers' own post-processing
    s = FusedSampler(bundle)
    ref_img = pipe(
        PROMPT, image=image_to_tensor(photo), num_inference_steps=4, guidance_scale=7.5, image_guidance_scale=1.5,
        generator=torch.Generator().manual_seed(3), output_type="np",
    ).images[0]
    np.testing.assert_array_equal(s.decode(out.latents), (ref_img * 255).round().astype(np.uint8))


def reference_fused_loop(bundle, photo, beta, seed, steps):
    """The reference implementation's loop, written plainly: two pipelines, MagicBrush first."""
    pipe = diffusers_ip2p_pipeline(bundle)
    text = pipe.text_encoder(pipe.tokenizer([PROMPT], padding="max_length", max_length=77, return_tensors="pt").input_ids)[0]
    null = pipe.text_encoder(pipe.tokenizer([""], padding="max_length", max_length=77, return_tensors="pt").input_ids)[0]
    context = torch.cat([text, null, null])
    img_lat = bundle.vae.encode(image_to_tensor(photo)).latent_dist.mode()
    img_lat = torch.cat([img_lat, img_lat, torch.zeros_like(img_lat)])
    s_ip, s_mb = make_scheduler(bundle.scheduler_config), make_scheduler(bundle.scheduler_config)
    s_ip.set_timesteps(steps)
    s_mb.set_timesteps(steps)
    z = torch.randn((1, 4, *img_lat.shape[-2:]), generator=torch.Generator().manual_seed(seed))
    z_ip, z_mb = z.clone(), z.clone()
    for t in s_ip.timesteps:
        outs = []
        for unet, sch, zz in ((bundle.unet_mb, s_mb, z_mb), (bundle.unet_ip2p, s_ip, z_ip)):
            x = torch.cat([sch.scale_model_input(torch.cat([zz] * 3), t), img_lat], 1)
            n_text, n_img, n_unc = unet(x, t, encoder_hidden_states=context).sample.chunk(3)
            eps = n_unc + 7.5 * (n_text - n_img) + 1.5 * (n_img - n_unc)
            outs.append(sch.step(eps, t, zz).prev_sample)
        z_mb, z_star = outs
        z_ip = (z_star + beta * z_mb) / (1 + beta)
    return z_ip


@torch.no_grad()
@pytest.mark.parametrize("beta", [0.2, 0.01])
def test_fused_loop_matches_plain_reference(bundle, photo, beta):
    _, out = run_fused(bundle, photo, beta=beta, seed=5, steps=3)
    ref = reference_fused_loop(bundle, photo, beta, seed=5, steps=3)
    torch.testing.assert_close(out.latents, ref, rtol=1e-5, atol=1e-5)


def test_magicbrush_changes_the_result_only_through_beta(bundle, photo):
    _, a = run_fused(bundle, photo, beta=0.0)
    _, b = run_fused(bundle, photo, beta=0.2)
    assert (a.latents - b.latents).abs().max() > 1e-3
    same = get_dummy_components(0, same_unets=True)
    _, c = run_fused(same, photo, beta=0.0)
    _, d = run_fused(same, photo, beta=0.2)  # z* == z' when both UNets are IP2P: mixing is the identity
    torch.testing.assert_close(c.latents, d.latents, rtol=1e-5, atol=1e-5)


def test_capture_does_not_change_the_output(bundle, photo):
    _, with_capture = run_fused(bundle, photo, beta=0.01)
    _, without = run_fused(bundle, photo, beta=0.01, capture=None)
    torch.testing.assert_close(with_capture.latents, without.latents, rtol=0, atol=0)
    assert with_capture.attention.shape == (2, 2, 77) and without.attention is None


def test_seed_determinism_and_cancel(bundle, photo):
    _, a = run_fused(bundle, photo, beta=0.01, seed=7)
    _, b = run_fused(bundle, photo, beta=0.01, seed=7)
    _, c = run_fused(bundle, photo, beta=0.01, seed=8)
    assert torch.equal(a.latents, b.latents) and not torch.equal(a.latents, c.latents)
    s = FusedSampler(bundle)
    ctx, last = s.encode_prompt(PROMPT)
    lat = s.encode_image(photo)
    calls = []
    with pytest.raises(EditCancelled):
        s.sample(ctx, lat, steps=5, image_scale=1.5, text_scale=7.5, beta=0.01, seed=0, cancel=lambda: len(calls) >= 2,
                 progress=lambda e: calls.append(e))
    assert [e.step for e in calls] == [1, 2]


def test_last_token_index_is_the_end_of_text_position(bundle):
    s = FusedSampler(bundle)
    _, last = s.encode_prompt("ab c")  # tiny tokenizer: one token per character, spaces dropped
    ids = bundle.tokenizer("ab c").input_ids
    assert last == len(ids) - 1 and ids[last] == bundle.tokenizer.eos_token_id


def test_image_tensor_roundtrip(photo):
    np.testing.assert_array_equal(tensor_to_image(image_to_tensor(photo)), photo)
