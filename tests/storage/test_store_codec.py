"""The blob pixel codec (ZPX1: Sub filter + Zstandard) is lossless, reads old PNG blobs, and
reports damage as CorruptBlobError."""

from __future__ import annotations

import numpy as np
import pytest

import storage.codec as codec
from storage.blobs import encode_png
from storage.codec import decode_pixels, encode_pixels
from storage.errors import CorruptBlobError


@pytest.mark.parametrize("shape, mode", [((1, 1, 3), "RGB"), ((37, 53, 4), "RGBA"), ((9, 13), "1"),
                                         ((300, 7, 3), "RGB"), ((5, 1, 4), "RGBA"), ((64, 65), "1")])
def test_round_trip_in_bands(shape, mode, monkeypatch):
    monkeypatch.setattr(codec, "BAND_BYTES", 40)  # many bands in one frame
    rng = np.random.default_rng(shape[0])
    array = rng.integers(0, 2, shape).astype(bool) if mode == "1" else rng.integers(0, 256, shape, dtype=np.uint8)
    data = encode_pixels(array)
    assert data[:4] == codec.MAGIC
    back = decode_pixels(data, mode, "test")
    assert back.dtype == array.dtype and np.array_equal(back, array) and back.flags.writeable


def test_png_blobs_of_older_zones_still_decode():
    image = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    assert np.array_equal(decode_pixels(encode_png(image), "RGB", "old"), image)


def test_damage_is_reported():
    data = encode_pixels(np.random.default_rng(2).integers(0, 256, (40, 40, 3), dtype=np.uint8))
    with pytest.raises(CorruptBlobError):
        decode_pixels(data, "RGBA", "layer")  # wrong kind
    with pytest.raises(CorruptBlobError):
        decode_pixels(data[:-10], "RGB", "render")  # truncated
    with pytest.raises(CorruptBlobError):
        decode_pixels(b"garbage" * 5, "RGB", "render")
    with pytest.raises(ValueError):
        encode_pixels(np.zeros((3, 3, 2), np.uint8))


def test_non_contiguous_arrays_encode_like_their_copies():
    rng = np.random.default_rng(5)
    mask = np.asfortranarray(rng.random((33, 47)) > 0.5)  # a transposed work-size mask, say
    image = rng.integers(0, 256, (47, 33, 3), dtype=np.uint8).transpose(1, 0, 2)
    for array, mode in ((mask, "1"), (image, "RGB"), (image[::2, ::3], "RGB")):
        assert not array.flags.c_contiguous
        assert encode_pixels(array) == encode_pixels(np.ascontiguousarray(array))
        assert np.array_equal(decode_pixels(encode_pixels(array), mode, "test"), array)
