"""The whole ZONE pipeline on the tiny engine: full resolution, untouched pixels, determinism, cancel."""

from __future__ import annotations

import os

import numpy as np
import pytest

from engine.api import EditParams
from engine.errors import EditCancelled, ZoneInputError
from engine.registry import build_engine


@pytest.fixture(scope="module")
def engine():
    e = build_engine("tiny", device="cpu")
    e.load()
    return e


def big_photo(h=1365, w=2048):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) % 256)], -1).astype(np.uint8)
    img[::7, ::5] = 17  # fine texture that a resize round trip would not preserve
    return img


def test_large_non_square_photo_keeps_size_and_untouched_pixels(engine):
    photo = big_photo()
    r = engine.edit(photo, "make the dog a golden statue", EditParams(action="change", steps=2))
    assert r.composite.shape == photo.shape and r.layer.shape == (*photo.shape[:2], 4) and r.mask.shape == photo.shape[:2]
    outside = ~r.mask
    assert outside.any()
    np.testing.assert_array_equal(r.composite[outside], photo[outside])
    assert (r.layer[..., 3][outside] == 0).all() and (r.layer[..., 3][r.mask] > 0).all()
    assert r.params["work_hw"] == [88, 128] and r.params["engine"] == "tiny" and r.params["meaningful"] is False
    # What a later reshape needs, at work size: I_sty, M_b and M_f (M_f lies inside the layer's region).
    assert r.canvas.shape == (88, 128, 3) and r.rough_mask.shape == (88, 128) and r.refined_mask.shape == (88, 128)
    assert r.refined_mask.dtype == bool and r.refined_mask.any()
    assert set(r.timings_ms) >= {"text_encode", "vae_encode", "denoise", "vae_decode", "localize", "segment", "smooth", "composite", "total"}


def test_same_seed_same_bytes_and_progress_stages(engine, synthetic_photo):
    events = []
    p = EditParams(action="add", steps=3, seed=11)
    a = engine.edit(synthetic_photo, "give him a hat", p, progress=events.append)
    b = engine.edit(synthetic_photo, "give him a hat", p)
    assert a.composite.tobytes() == b.composite.tobytes() and a.layer.tobytes() == b.layer.tobytes()
    c = engine.edit(synthetic_photo, "give him a hat", EditParams(action="add", steps=3, seed=12))
    assert c.canvas.tobytes() != a.canvas.tobytes()
    stages = [e.stage for e in events]
    assert stages.index("encode") < stages.index("denoise") < stages.index("localize") < stages.index("segment") < stages.index("blend")
    assert [e.step for e in events if e.stage == "denoise"] == [1, 2, 3]
    assert a.params["beta"] == 0.01


def test_remove_uses_beta_point_two(engine, synthetic_photo):
    r = engine.edit(synthetic_photo, "remove the cup", EditParams(action="remove", steps=2))
    assert r.params["beta"] == 0.2


def test_cancel_and_bad_input(engine, synthetic_photo):
    with pytest.raises(EditCancelled):
        engine.edit(synthetic_photo, "make it blue", EditParams(action="change", steps=3), cancel=lambda: True)
    with pytest.raises(ZoneInputError, match="empty"):
        engine.edit(synthetic_photo, "   ", EditParams(action="change"))
    with pytest.raises(ZoneInputError):
        engine.edit(synthetic_photo[..., :2], "make it blue", EditParams(action="change"))


@pytest.mark.real
@pytest.mark.skipif(os.environ.get("ZONE_REAL_WEIGHTS") != "1", reason="set ZONE_REAL_WEIGHTS=1 with the weights present")
class TestRealEngine:
    """Real InstructPix2Pix + MagicBrush + SAM ViT-H on a real photo (needs the weights and, in practice, a GPU)."""

    def test_corgi_statue(self, shared_image_path):
        from engine.imageio import load_image

        photo = load_image(shared_image_path("corgi.jpg"))
        e = build_engine("real")
        r = e.edit(photo, "make the dog a golden statue", EditParams(action="change", seed=42))
        assert r.composite.shape == photo.shape
        assert 0.02 < r.mask_fraction < 0.7
        np.testing.assert_array_equal(r.composite[~r.mask], photo[~r.mask])
