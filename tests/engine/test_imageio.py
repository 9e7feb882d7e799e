"""Tests of engine.imageio: every supported mode, every refusal, resizing helpers."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import ZoneInputError
from engine.imageio import (
    load_image,
    resize_float,
    resize_mask,
    resize_rgb,
    save_image,
    save_png,
    work_size_hw,
)


def _gradient_rgb(h: int = 24, w: int = 40) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) % 256], -1).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with_header(path: Path, w: int, h: int) -> Path:
    """A PNG whose header claims w x h RGB pixels, followed by garbage pixel data."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"garbage!") \
        + _png_chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def test_import_is_torch_free():
    code = "import sys, engine.imageio, engine.api, engine.errors; print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root, env=env)
    assert out.stdout.strip() == "False"


def test_rgb_png_roundtrip(tmp_path):
    rgb = _gradient_rgb()
    p = save_png(tmp_path / "a.png", rgb)
    out = load_image(p)
    assert out.dtype == np.uint8 and out.shape == (24, 40, 3)
    np.testing.assert_array_equal(out, rgb)


def test_exif_orientation_is_applied(tmp_path):
    rgb = _gradient_rgb(20, 30)
    im = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW for display
    p = tmp_path / "rot.jpg"
    im.save(p, quality=100, exif=exif.tobytes())
    out = load_image(p)
    assert out.shape == (30, 20, 3)
    expected = np.rot90(np.asarray(Image.open(p).convert("RGB")), k=-1)
    np.testing.assert_array_equal(out, expected)


def test_rgba_composited_over_white(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, :, 3] = 255  # opaque red-ish row
    rgba[1, :, 3] = 0  # fully transparent -> white
    rgba[2, :, 3] = 128
    p = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(p)
    out = load_image(p)
    np.testing.assert_array_equal(out[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(out[1, 0], [255, 255, 255])
    red, other = (200 * 128 + 255 * 127 + 127) // 255, (255 * 127 + 127) // 255
    np.testing.assert_array_equal(out[2, 0], [red, other, other])


def test_la_and_palette_with_transparency(tmp_path):
    la = np.zeros((3, 3, 2), np.uint8)
    la[..., 0] = 10
    la[0, 0, 1] = 255
    p = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(p)
    out = load_image(p)
    np.testing.assert_array_equal(out[0, 0], [10, 10, 10])
    np.testing.assert_array_equal(out[1, 1], [255, 255, 255])

    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    pal.putpixel((0, 0), 0)
    pal.info["transparency"] = 0
    p2 = tmp_path / "p.png"
    pal.save(p2, transparency=0)
    out = load_image(p2)
    np.testing.assert_array_equal(out[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(out[1, 1], [0, 0, 255])


def test_grayscale_and_bilevel(tmp_path):
    g = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(g, "L").save(tmp_path / "l.png")
    out = load_image(tmp_path / "l.png")
    np.testing.assert_array_equal(out, np.repeat(g[..., None], 3, 2))
    Image.fromarray(g > 100).save(tmp_path / "b.png")
    out = load_image(tmp_path / "b.png")
    assert set(np.unique(out)) <= {0, 255}
    np.testing.assert_array_equal(out[..., 0] == 255, g > 100)


def test_16bit_png_scales_to_8bit(tmp_path):
    g16 = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(g16).save(p)
    assert Image.open(p).mode.startswith("I")
    out = load_image(p)
    np.testing.assert_array_equal(out[..., 1], (g16 >> 8).astype(np.uint8))


def test_int32_and_float_modes(tmp_path):
    small = np.arange(200, dtype=np.int32).reshape(10, 20)
    Image.fromarray(small, "I").save(tmp_path / "i.tif")
    np.testing.assert_array_equal(load_image(tmp_path / "i.tif")[..., 0], small.astype(np.uint8))
    wide = (np.arange(200, dtype=np.int32).reshape(10, 20) - 100) * 1000
    Image.fromarray(wide, "I").save(tmp_path / "w.tif")
    out = load_image(tmp_path / "w.tif")[..., 0]
    assert out.min() == 0 and out.max() == 255
    f = np.linspace(0, 1, 50, dtype=np.float32).reshape(5, 10)
    Image.fromarray(f, "F").save(tmp_path / "f.tif")
    np.testing.assert_array_equal(load_image(tmp_path / "f.tif")[..., 2],
                                  np.round(f.astype(np.float64) * 255).astype(np.uint8))


def test_cmyk_jpeg_and_ycbcr(tmp_path):
    Image.new("CMYK", (8, 6), (0, 255, 0, 0)).save(tmp_path / "c.jpg", quality=100)
    out = load_image(tmp_path / "c.jpg")
    assert out.shape == (6, 8, 3)
    assert out[3, 3, 1] < 30 and out[3, 3, 0] > 220 and out[3, 3, 2] > 220  # magenta
    rgb = _gradient_rgb()
    Image.fromarray(rgb).convert("YCbCr").save(tmp_path / "y.tif")
    out = load_image(tmp_path / "y.tif")
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 3


@pytest.mark.parametrize("content, pattern", [
    (None, "no such file"),
    (b"", "empty"),
    (b"hello, I am a text file\n" * 10, "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "(not an image|corrupt)"),
])
def test_refusals(tmp_path, content, pattern):
    p = tmp_path / "photo.png"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(ZoneInputError, match=pattern) as info:
        load_image(p)
    msg = str(info.value)
    assert "photo.png" in msg and "\n" not in msg


def test_directory_and_truncated(tmp_path):
    with pytest.raises(ZoneInputError, match="directory"):
        load_image(tmp_path)
    p = tmp_path / "t.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ZoneInputError, match="t.jpg.*(corrupt|truncated)"):
        load_image(p)


def test_huge_image_refused_from_header(tmp_path):
    # Header claims 100000 x 100000; the pixel data is garbage, so decoding would fail
    # differently: the "too large" message proves the check happens before decoding.
    p = _png_with_header(tmp_path / "huge.png", 100_000, 100_000)
    with pytest.raises(ZoneInputError, match="huge.png is too large"):
        load_image(p)
    p2 = _png_with_header(tmp_path / "big.png", 3000, 3000)  # 9 MP: under 2x, over the limit
    with pytest.raises(ZoneInputError, match="big.png is too large: 3000x3000"):
        load_image(p2, max_pixels=5_000_000)


def test_max_pixels_from_env(tmp_path, monkeypatch):
    p = save_png(tmp_path / "a.png", _gradient_rgb(24, 40))  # 960 px
    monkeypatch.setenv("ZONE_MAX_PIXELS", "500")
    with pytest.raises(ZoneInputError, match="too large"):
        load_image(p)
    monkeypatch.setenv("ZONE_MAX_PIXELS", "1000")
    assert load_image(p).shape == (24, 40, 3)
    from PIL import Image as _Image
    assert _Image.MAX_IMAGE_PIXELS != 1000  # the global limit is restored


def test_save_image_formats(tmp_path):
    rgba = np.zeros((5, 6, 4), np.uint8)
    save_image(tmp_path / "x.png", rgba)
    assert Image.open(tmp_path / "x.png").mode == "RGBA"
    save_image(tmp_path / "x.jpg", _gradient_rgb())
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"
    with pytest.raises(ZoneInputError, match="transparency"):
        save_image(tmp_path / "y.jpg", rgba)
    with pytest.raises(ZoneInputError, match="unknown image type"):
        save_image(tmp_path / "y.xyz", rgba)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.jpg", "x.png"]


def test_work_size_and_resizing():
    assert work_size_hw(512, 512) == (512, 512)
    assert work_size_hw(3000, 1999) == (512, 344)
    assert work_size_hw(1999, 3000) == (344, 512)
    assert work_size_hw(100, 50) == (512, 256)
    assert work_size_hw(10000, 10) == (512, 8)
    for h, w in [(3000, 1999), (333, 777), (65, 4000)]:
        hh, ww = work_size_hw(h, w)
        assert hh % 8 == 0 and ww % 8 == 0 and max(hh, ww) == 512
    rgb = _gradient_rgb()
    assert resize_rgb(rgb, (48, 80)).shape == (48, 80, 3)
    assert resize_float(np.ones((4, 4), np.float32), (9, 7)).shape == (9, 7)
    np.testing.assert_allclose(resize_float(np.ones((4, 4), np.float32), (9, 7)), 1.0, atol=1e-6)
    m = np.zeros((8, 8), bool)
    m[2:6, 2:6] = True
    up = resize_mask(m, (16, 16), "nearest")
    np.testing.assert_array_equal(up[4:12, 4:12], True)
    assert up.sum() == 64
    assert resize_mask(m, (16, 16)).dtype == bool
