"""MagicBrush's metrics: L1/L2 against a plain implementation of its formula; CLIP/DINO plumbing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.metrics import (
    CLIP_MODEL,
    DINO_MODEL,
    ClipScorer,
    DinoScorer,
    cosine,
    in_cache,
    l1_distance,
    l2_distance,
    load_scorers,
)


def magicbrush_numpy(gen: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """image_eval.py's eval_distance for one pair, in plain numpy: PIL's default resize of the
    generated image to the ground truth's size, ToTensor's scaling to [0, 1], mean |d| and mean d^2."""
    g = Image.fromarray(gen).convert("RGB")
    t = Image.fromarray(gt).convert("RGB")
    g = g.resize(t.size)  # no resample given, exactly as image_eval.py calls it
    a = np.asarray(g, dtype=np.float64) / 255.0
    b = np.asarray(t, dtype=np.float64) / 255.0
    return float(np.abs(a - b).mean()), float(((a - b) ** 2).mean())


def _pairs():
    rng = np.random.default_rng(7)
    same = rng.integers(0, 256, (30, 42, 3), dtype=np.uint8)
    yield same, same.copy()
    yield rng.integers(0, 256, (30, 42, 3), dtype=np.uint8), rng.integers(0, 256, (30, 42, 3), dtype=np.uint8)
    yield rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), rng.integers(0, 256, (30, 42, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:64, 0:80]
    smooth = np.stack([xx * 3 % 256, yy * 4 % 256, (xx + yy) % 256], -1).astype(np.uint8)
    yield smooth, smooth[::2, ::2].copy()  # a downscale: the resize matters


@pytest.mark.parametrize("k", range(4))
def test_l1_l2_match_the_magicbrush_formula_on_constructed_pairs(k):
    gen, gt = list(_pairs())[k]
    want_l1, want_l2 = magicbrush_numpy(gen, gt)
    assert l1_distance(gen, gt) == pytest.approx(want_l1, rel=1e-6, abs=1e-9)
    assert l2_distance(gen, gt) == pytest.approx(want_l2, rel=1e-6, abs=1e-9)


def test_l1_l2_known_values():
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    fifth = np.full((8, 8, 3), 51, np.uint8)
    assert l1_distance(black, white) == pytest.approx(1.0) and l2_distance(black, white) == pytest.approx(1.0)
    assert l1_distance(black, fifth) == pytest.approx(0.2) and l2_distance(black, fifth) == pytest.approx(0.04)
    assert l1_distance(white, white) == 0.0


def test_l1_l2_match_torch_as_image_eval_computes_them():
    torch = pytest.importorskip("torch")
    from torchvision.transforms import transforms

    for gen, gt in _pairs():
        g = Image.fromarray(gen).resize(Image.fromarray(gt).size)
        a, b = transforms.ToTensor()(g), transforms.ToTensor()(Image.fromarray(gt))
        assert l1_distance(gen, gt) == pytest.approx(torch.nn.L1Loss()(a, b).item(), rel=1e-5, abs=1e-7)
        assert l2_distance(gen, gt) == pytest.approx(torch.nn.MSELoss()(a, b).item(), rel=1e-5, abs=1e-7)


def test_cosine():
    assert cosine([1, 0], [2, 0]) == pytest.approx(1.0)
    assert cosine([1, 0], [0, 3]) == pytest.approx(0.0)
    assert cosine([1, 1], [-1, -1]) == pytest.approx(-1.0)


def _tiny_clip():
    from transformers import CLIPConfig, CLIPModel

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cfg = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "vocab_size": 99, "max_position_embeddings": 77},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16)
    return CLIPModel(cfg)


def _fake_tokenizer(text, **kw):
    import torch

    ids = [min(98, 1 + ord(c) % 97) for c in text][: kw.get("max_length", 77)]
    n = kw.get("max_length", 77)
    pad = ids + [0] * (n - len(ids))
    return {"input_ids": torch.tensor([pad]), "attention_mask": torch.tensor([[1] * len(ids) + [0] * (n - len(ids))])}


def test_clip_scorer_with_a_tiny_random_model():
    scorer = ClipScorer(_tiny_clip(), _fake_tokenizer)
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8), rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    fa = scorer.image(a)
    assert fa.shape == (16,) and np.isfinite(fa).all()
    assert cosine(fa, scorer.image(a.copy())) == pytest.approx(1.0, abs=1e-5)
    assert -1.0 <= cosine(fa, scorer.image(b)) <= 1.0
    t = scorer.text("a red hat")
    assert t.shape == (16,) and -1.0 <= cosine(fa, t) <= 1.0


def test_dino_scorer_with_a_tiny_random_model():
    torch = pytest.importorskip("torch")
    from transformers import ViTConfig, ViTModel

    torch.manual_seed(0)
    model = ViTModel(ViTConfig(hidden_size=24, intermediate_size=48, num_hidden_layers=1, num_attention_heads=2,
                               image_size=224, patch_size=32), add_pooling_layer=False)
    scorer = DinoScorer(model)
    img = np.random.default_rng(2).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    f = scorer.image(img)
    assert f.shape == (24,) and cosine(f, scorer.image(img.copy())) == pytest.approx(1.0, abs=1e-5)


def test_missing_models_are_named_without_touching_the_network(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    import engine.metrics as metrics

    monkeypatch.setattr(metrics, "in_cache", lambda model_id: False)
    clip, dino, missing = load_scorers()
    assert clip is None and dino is None and missing == [CLIP_MODEL, DINO_MODEL]


@pytest.mark.real
@pytest.mark.skipif(not (in_cache(CLIP_MODEL) and in_cache(DINO_MODEL)),
                    reason="CLIP ViT-B/32 and DINO ViT-S/16 are not in the Hugging Face cache")
class TestRealMetricModels:
    """The metric functions on the real weights (run where the models are cached)."""

    def test_identical_images_score_one_and_text_matches_colour(self):
        clip, dino, missing = load_scorers()
        assert missing == []
        red = np.zeros((224, 224, 3), np.uint8)
        red[..., 0] = 230
        green = np.zeros_like(red)
        green[..., 1] = 200
        assert cosine(clip.image(red), clip.image(red.copy())) == pytest.approx(1.0, abs=1e-4)
        assert cosine(dino.image(red), dino.image(red.copy())) == pytest.approx(1.0, abs=1e-4)
        f = clip.image(red)
        assert cosine(f, clip.text("a plain red square")) > cosine(f, clip.text("a plain green square"))
        assert cosine(clip.image(red), clip.image(green)) < 1.0
