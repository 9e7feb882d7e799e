"""Work-size policies: ours (scale to 512, multiples of 8) and the authors' (downsize only, pad to 32)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageOps

from engine.api import EditParams
from engine.worksize import WorkFrame, plan_work_frame


def _check_image_size_plain(pil_image: Image.Image, side_multiple: int = 32, max_size: int = 512) -> Image.Image:
    """The authors' check_image_size (lsl001006/ZONE, ptp_utils.py), re-implemented plainly from its
    description: shrink only when a side exceeds max_size (long side to max_size, the other side
    truncated, Pillow's default filter), then pad with black to multiples of 32, pad // 2 first."""
    w, h = pil_image.size
    if w > max_size or h > max_size:
        nw, nh = (max_size, int(h * max_size / w)) if w > h else (int(w * max_size / h), max_size)
        pil_image = pil_image.resize((nw, nh))
        w, h = pil_image.size
    tw, th = math.ceil(w / side_multiple) * side_multiple, math.ceil(h / side_multiple) * side_multiple
    if tw != w:
        pil_image = ImageOps.expand(pil_image, ((tw - w) // 2, 0, (tw - w) - (tw - w) // 2, 0), fill="black")
    if th != h:
        pil_image = ImageOps.expand(pil_image, (0, (th - h) // 2, 0, (th - h) - (th - h) // 2), fill="black")
    return pil_image


def _photo(h, w, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx * yy) % 256], -1).astype(np.uint8)
    img[rng.random((h, w)) < 0.05] = 255
    return img


@pytest.mark.parametrize("h, w", [(1365, 2048), (300, 200), (512, 512), (100, 513), (700, 333), (64, 64), (33, 47)])
def test_reference_policy_matches_the_authors_resize_and_pad(h, w):
    photo = _photo(h, w, seed=h + w)
    frame = plan_work_frame(h, w, 512, "reference")
    ours = frame.to_work(photo)
    theirs = np.asarray(_check_image_size_plain(Image.fromarray(photo)))
    np.testing.assert_array_equal(ours, theirs)
    assert ours.shape[0] % 32 == 0 and ours.shape[1] % 32 == 0
    # Cropping gives back exactly the resized photo (the black bands are gone).
    content = frame.crop(ours)
    assert content.shape[:2] == frame.resized_hw
    if max(h, w) <= 512:
        np.testing.assert_array_equal(content, photo)  # never upscaled
    assert frame.crop(ours[..., 0] > 0).shape == frame.resized_hw  # masks crop the same way


def test_reference_policy_grid_and_padding():
    frame = plan_work_frame(200, 300, 512, "reference")
    assert frame.resized_hw == (200, 300) and frame.padded_hw == (224, 320) and frame.offset == (12, 10)
    assert (frame.padded_hw[0] // 32, frame.padded_hw[1] // 32) == (7, 10)  # the 1/32 attention grid
    big = plan_work_frame(1365, 2048, 512, "reference")
    assert big.resized_hw == (341, 512) and big.padded_hw == (352, 512) and big.offset == (5, 0)


def test_scale_policy_is_the_plain_resize():
    frame = plan_work_frame(200, 300, 512, "scale")
    assert frame == WorkFrame((344, 512), (344, 512)) and not frame.padded
    photo = _photo(200, 300)
    assert frame.to_work(photo).shape == (344, 512, 3)
    assert frame.crop(np.zeros((344, 512), bool)).shape == (344, 512)
    with pytest.raises(ValueError):
        frame.crop(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="work_size_policy"):
        plan_work_frame(10, 10, 512, "pad")


def test_edit_params_policy_fields():
    assert EditParams(action="add").work_size_policy == "scale"
    assert EditParams(action="add").smoother_gray == "reference"
    with pytest.raises(ValueError):
        EditParams(action="add", work_size_policy="crop")
    with pytest.raises(ValueError):
        EditParams(action="add", smoother_gray="bt709")


def test_tiny_engine_with_the_reference_policy_keeps_the_photo_size():
    from engine.registry import build_engine

    engine = build_engine("tiny", device="cpu")
    photo = _photo(90, 150, seed=3)
    r = engine.edit(photo, "make it blue", EditParams(action="change", steps=2, work_size=128,
                                                       work_size_policy="reference"))
    assert r.params["work_hw"] == [96, 128] and r.params["content_hw"] == [76, 128]
    assert r.canvas.shape == (76, 128, 3) and r.rough_mask.shape == (76, 128)
    assert r.composite.shape == photo.shape and r.mask.shape == photo.shape[:2]
    outside = ~r.mask
    np.testing.assert_array_equal(r.composite[outside], photo[outside])


def test_zone_edit_switches_reach_the_engine(tmp_path, capsys):
    import json

    from tui.cli import main

    photo = tmp_path / "p.png"
    Image.fromarray(_photo(90, 150, seed=4)).save(photo)
    out = tmp_path / "o.png"
    argv = ["edit", str(photo), "make it blue", "--action", "change", "--engine", "tiny", "--device", "cpu",
            "--steps", "2", "--work-size-policy", "reference", "--smoother-gray", "luma", "--json", "--out", str(out)]
    assert main(argv) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert (params["work_size_policy"], params["smoother_gray"]) == ("reference", "luma")
    assert params["work_hw"] == [96, 128] and params["content_hw"] == [76, 128]
    assert np.asarray(Image.open(out)).shape == (90, 150, 3)
