"""The lossless pixel codec of stored blobs: Zstandard over a byte-wise "Sub" prediction.

Why not PNG: at 12 MP (a 4000x3000 photo, measured on the 2-core CPU in BENCHMARKS.md) Pillow's
PNG takes 560 ms to encode at zlib level 1 (2 s at level 6) and 280 ms to decode; this codec
takes about 110 ms and 65 ms for a file of the same size (10.3 MB against 9.8 MB). Exports stay
standard PNG (`storage.blobs.encode_png`); blobs written by older Zones are PNG and still read.

Layout: `ZPX1`, then height and width (uint32, little-endian), the channel count (0: a bool
mask, packed 8 pixels a byte along rows; 3 RGB; 4 RGBA) and the filter (0 none, 1 Sub: every
byte minus the same channel of the pixel to its left, modulo 256), then one Zstandard frame.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from storage.errors import CorruptBlobError

MAGIC = b"ZPX1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADER = struct.Struct("<4sIIBB")
ZSTD_LEVEL = 1  # level 3 is 40% slower for 2% less; see BENCHMARKS.md
BAND_BYTES = 8 << 20  # rows filtered and compressed at a time
FILTER_NONE, FILTER_SUB = 0, 1
_CHANNELS = {"1": 0, "RGB": 3, "RGBA": 4}


def encode_pixels(array: np.ndarray) -> bytes:
    """Encode an RGB/RGBA uint8 image or a bool mask losslessly (see the module doc).

    Rows are filtered and compressed a band at a time into one frame: no full-size copy is made.

    Args:
        array: [H, W, 3] or [H, W, 4] uint8, or [H, W] bool.
    """
    import zstandard

    arr = np.asarray(array)
    if arr.ndim == 2 and arr.dtype == np.bool_:
        channels, flt = 0, FILTER_NONE
    elif arr.ndim == 3 and arr.dtype == np.uint8 and arr.shape[2] in (3, 4):
        channels, flt = arr.shape[2], FILTER_SUB
    else:
        raise ValueError(f"cannot encode an array of shape {arr.shape} and dtype {arr.dtype}")
    if 0 in arr.shape[:2]:
        raise ValueError(f"cannot encode an empty array of shape {arr.shape}")
    h, w = arr.shape[:2]
    row_bytes = (w + 7) // 8 if channels == 0 else w * channels
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj(size=h * row_bytes)
    out = [HEADER.pack(MAGIC, h, w, channels, flt)]
    band = max(1, BAND_BYTES // row_bytes)
    for y in range(0, h, band):
        rows = arr[y:y + band]
        if channels == 0:
            payload = np.packbits(rows, axis=1)
        else:
            payload = np.empty(rows.shape, np.uint8)
            payload[:, :1] = rows[:, :1]
            np.subtract(rows[:, 1:], rows[:, :-1], out=payload[:, 1:])
        out.append(compressor.compress(np.ascontiguousarray(payload).data))  # F-ordered input stays F-ordered
    out.append(compressor.flush())
    return b"".join(out)


def decode_pixels(data: bytes, mode: str, label: str) -> np.ndarray:
    """Decode a stored image: mode "RGB", "RGBA" or "1" (a bool mask). Reads ZPX1 and PNG.

    Raises:
        CorruptBlobError: the bytes are neither, or not of the expected mode and size.
    """
    if data[:8] == PNG_SIGNATURE:
        return _decode_png(data, mode, label)
    if data[:4] != MAGIC or len(data) < HEADER.size:
        raise CorruptBlobError(f"stored {label} is not an image Zone wrote")
    _, h, w, channels, flt = HEADER.unpack_from(data)
    if channels != _CHANNELS[mode]:
        raise CorruptBlobError(f"stored {label} has {channels} channels, expected a {mode} image")
    row = (w + 7) // 8 if channels == 0 else w * channels
    buf = np.empty(h * row, np.uint8)  # decompressed straight into the array: no second copy
    try:
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(memoryview(data)[HEADER.size:]))
        view, filled = memoryview(buf), 0
        while filled < buf.size:
            n = reader.readinto(view[filled:])
            if not n:
                break
            filled += n
        extra = reader.read(1)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a damaged blob
        raise CorruptBlobError(f"stored {label} cannot be decoded: {exc}") from None
    if filled != h * row or extra:
        raise CorruptBlobError(f"stored {label} does not hold the {h * row} bytes its header says")
    if channels == 0:
        return np.unpackbits(buf.reshape(h, row), axis=1, count=w).astype(np.bool_)
    arr = buf.reshape(h, w, channels)
    if flt == FILTER_SUB:
        np.cumsum(arr, axis=1, dtype=np.uint8, out=arr)
    elif flt != FILTER_NONE:
        raise CorruptBlobError(f"stored {label} uses an unknown filter {flt}")
    return arr


def _decode_png(data: bytes, mode: str, label: str) -> np.ndarray:
    """Decode PNG bytes (blobs of Zones before this codec) into an array of `mode`."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.format != "PNG" or img.mode != mode:
                raise CorruptBlobError(f"stored {label} is not a {mode} PNG (found {img.format} {img.mode})")
            arr = np.asarray(img)
    except CorruptBlobError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a damaged blob
        raise CorruptBlobError(f"stored {label} cannot be decoded: {exc}") from None
    return arr.astype(np.bool_) if mode == "1" else arr
