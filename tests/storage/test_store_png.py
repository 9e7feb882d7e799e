"""The export PNG writer makes standard files: Pillow decodes them to the same pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import storage.png as png
from storage.png import encode_png_fast


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 4), (300, 211, 3), (64, 33), (1200, 1100, 4)])
def test_pillow_reads_back_the_same_pixels(shape, monkeypatch):
    monkeypatch.setattr(png, "PIECE_BYTES", 1000)  # many deflate pieces, joined with sync flushes
    rng = np.random.default_rng(len(shape) + shape[0])
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    image[: shape[0] // 2] //= 7  # some compressible rows too
    data = encode_png_fast(image)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG" and img.mode == {1: "L", 3: "RGB", 4: "RGBA"}[1 if len(shape) == 2 else shape[2]]
        assert np.array_equal(np.asarray(img), image)


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError):
        encode_png_fast(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        encode_png_fast(np.zeros((4, 4, 3), np.float32))
