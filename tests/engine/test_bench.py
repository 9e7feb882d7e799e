"""`zone bench`: the configurations' architectures, the naive composition's parts, and a small CPU run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.bench import CONFIGS, STAGES, bench_image, engine_stage_ms, run_bench
from engine.bundles import SAM_SPECS, build_sam, build_unet
from engine.naive import NaiveAttentionStore, StoringAttnProcessor, register_naive_store
from engine.offload import STAGE_MODELS, ModelOffloader


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_sd15_config_builds_the_real_architectures():
    """On the meta device (no memory): the parameter counts of IP2P's UNet, SD's VAE, CLIP-L and SAM ViT-H."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from segment_anything import build_sam_vit_h
    from transformers import CLIPTextConfig, CLIPTextModel

    cfg = CONFIGS["sd15"]
    spec = cfg.bundle
    assert (cfg.size, cfg.steps, cfg.points_per_side, spec.sam.name) == (512, 20, 32, "vit_h")
    with torch.device("meta"):
        unet = UNet2DConditionModel(**spec.unet)
        vae = AutoencoderKL(**spec.vae)
        text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **spec.text))
        sam = build_sam(spec.sam)
        stock = build_sam_vit_h(checkpoint=None)
    assert _count(unet) == 859_532_484  # SD 1.5's 859,520,964 + 4 extra input channels x 320 x 3 x 3
    assert _count(vae) == 83_653_863
    assert _count(text) == 123_060_480
    assert _count(sam) == 641_090_608
    assert {k: v.shape for k, v in sam.state_dict().items()} == {k: v.shape for k, v in stock.state_dict().items()}
    assert vae.config.scaling_factor == 0.18215


@pytest.mark.parametrize("name", ["vit_b", "vit_l"])
def test_sam_specs_build_segment_anythings_models(name):
    """Our SAM builder with the ViT-B/L specs gives segment-anything's own modules, tensor for tensor."""
    from segment_anything import sam_model_registry

    with torch.device("meta"):
        ours = build_sam(SAM_SPECS[name]).state_dict()
        stock = sam_model_registry[name](checkpoint=None).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in stock.items()}


def test_storing_processor_equals_default_attention_and_keeps_every_map():
    unet = build_unet("tiny", 0)
    x = torch.randn(3, 8, 16, 16, generator=torch.Generator().manual_seed(0))
    ctx = torch.randn(3, 77, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = unet(x, 10, encoder_hidden_states=ctx).sample
        store = NaiveAttentionStore()
        register_naive_store(unet, store)
        out = unet(x, 10, encoder_hidden_states=ctx).sample
        store.end_step()
        out2 = unet(x, 10, encoder_hidden_states=ctx).sample
        store.end_step()
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out2, ref, rtol=1e-4, atol=1e-5)
    assert all(isinstance(p, StoringAttnProcessor) for p in unet.attn_processors.values())
    assert len(store.steps) == 2
    num_layers = len(unet.attn_processors)  # every layer has <= 32^2 queries at 16x16 latents
    assert sum(len(v) for v in store.steps[0].values()) == num_layers
    m = store.steps[0]["down_cross"][0]
    heads = unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2.heads
    assert m.shape == (2 * heads, 16 * 16, 77)  # the two null-text branches x heads, N, T
    torch.testing.assert_close(m.sum(-1), torch.ones_like(m.sum(-1)))  # probabilities
    assert store.aggregate_cross((4, 4)).shape == (4, 4, 77)


def test_engine_stage_mapping():
    fast = engine_stage_ms({"text_encode": 1, "vae_encode": 2, "denoise": 3, "vae_decode": 4, "localize": 5,
                            "segment": 10, "segment.sam_encode": 6, "segment.mask_generation": 3,
                            "segment.region_iou": 1, "smooth": 7, "composite": 8, "total": 40})
    assert list(sorted(fast)) == sorted(STAGES)
    assert fast["attention"] == 5 and fast["sam_encode"] == 6 and fast["region_iou"] == 1
    plain = engine_stage_ms({"segment": 10, "localize": 5})
    assert plain["mask_generation"] == 10 and plain["sam_encode"] == 0


def test_bench_image_is_deterministic():
    a, b = bench_image(64), bench_image(64)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert len(np.unique(a.reshape(-1, 3), axis=0)) > 100


class _FakeModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.moves: list[str] = []

    def to(self, device):  # records instead of moving (no second device on a CPU machine)
        self.moves.append(str(device))
        self.w = torch.nn.Parameter(torch.zeros(1, device=device))
        return self


def test_offloader_keeps_only_the_stage_models_on_the_device():
    from types import SimpleNamespace

    bundle = SimpleNamespace(**{n: _FakeModule() for names in STAGE_MODELS.values() for n in names})
    off = ModelOffloader(bundle, "meta")  # "meta" stands in for the accelerator
    off.activate("diffusion")
    assert {n: str(getattr(bundle, n).w.device) for n in STAGE_MODELS["diffusion"]} == dict.fromkeys(STAGE_MODELS["diffusion"], "meta")
    assert bundle.sam.w.device.type == "cpu" and bundle.sam.moves == []
    off.activate("segment")
    assert bundle.sam.w.device.type == "meta"
    assert all(getattr(bundle, n).w.device.type == "cpu" for n in STAGE_MODELS["diffusion"])
    moves = off.moves
    off.activate("segment")  # already in place: nothing moves
    assert off.moves == moves
    disabled = ModelOffloader(bundle, "meta", enabled=False)
    disabled.activate("diffusion")
    assert disabled.moves == 0
    with pytest.raises(ValueError):
        off.activate("decode")


def test_zone_bench_small_cpu_json(capsys):
    """The whole harness on the CPU: warm-up, interleaved repeats, per-stage medians, ratio, JSON."""
    from tui.cli import main

    argv = ["bench", "--config", "small", "--device", "cpu", "--size", "64", "--steps", "2",
            "--points-per-side", "4", "--repeats", "1", "--paths", "fast,plain,naive", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["config"], out["device"], out["size"], out["steps"]) == ("small", "cpu", 64, 2)
    assert set(out["total_ms"]) == {"fast", "plain", "naive"}
    for path in ("fast", "plain", "naive"):
        stages = out["stages_ms"][path]
        assert set(stages) == set(STAGES)
        assert stages["denoise"] > 0 and stages["vae_decode"] > 0 and stages["mask_generation"] > 0
        assert out["total_ms"][path] >= stages["denoise"]
        assert out["peak_memory_mb"][path] is None  # CPU: n/a
    for path in ("fast", "naive"):
        assert out["stages_ms"][path]["sam_encode"] > 0
    # (ratio rounded to 3 decimals: abs tolerance too, a loaded machine can make it small)
    assert out["ratio"] == pytest.approx(out["total_ms"]["naive"] / out["total_ms"]["fast"], rel=1e-2, abs=1e-3)
    # Same seed, same weights, float32: the fast and naive turns produce the same edit.
    assert out["mask_iou_vs_naive"]["fast"] >= 0.98
    assert out["mask_iou_vs_naive"]["plain"] >= 0.98


def test_zone_bench_rejects_bad_arguments(capsys):
    from tui.cli import main

    assert main(["bench", "--paths", "fast,slow", "--device", "cpu"]) == 1
    assert "unknown --paths slow" in capsys.readouterr().err
    assert main(["bench", "--size", "100", "--device", "cpu"]) == 1
    assert "--size" in capsys.readouterr().err


def test_run_bench_unknown_config():
    with pytest.raises(ValueError, match="unknown config"):
        run_bench("sdxl", device="cpu")
