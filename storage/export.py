"""Writing exports atomically: PNG, JPEG, mask PNG and layered OpenRaster (.ora) files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from common.safe_write import FORCE_HINT, check_output, write_bytes
from storage.errors import StorageError
from storage.png import encode_png_fast

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ora")
ORA_MIMETYPE = b"image/openraster"
THUMB_MAX = 256


def write_atomic(path: Path, data: bytes, *, force: bool = False, hint: str = FORCE_HINT) -> Path:
    """Write `data` to `path` through `common.safe_write`: all or nothing, umask mode, no clobbering.

    Args:
        force: replace an existing file (otherwise OutputExistsError).
        hint: what the refusal of an existing file tells the user.
    Raises:
        common.safe_write.OutputError: exists, not a regular file, folder missing or not writable,
            disk full.
    """
    return write_bytes(path, data, force=force, hint=hint)


def check_writable(path: Path, *, force: bool = False, hint: str = FORCE_HINT) -> Path:
    """Raise OutputError unless `path` could be written (checked before any work is done)."""
    check_output(path, force=force, hint=hint)
    return Path(path).expanduser()


def check_suffix(path: Path, allowed: tuple[str, ...] = IMAGE_SUFFIXES) -> str:
    """Return the lower-case suffix of `path`, or raise StorageError if it is not `allowed`."""
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise StorageError(f"cannot export to {path}: use one of {', '.join(allowed)}")
    return suffix


def encode_jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    """Encode an RGB image as a JPEG (4:4:4, the given quality)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def encode_mask_png(mask: np.ndarray) -> bytes:
    """Encode a bool mask as an 8-bit grey PNG (0 and 255), the form every editor opens."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _thumbnail_png(rgb: np.ndarray) -> bytes:
    """Return a PNG thumbnail of at most THUMB_MAX pixels a side."""
    from PIL import Image

    img = Image.fromarray(rgb)
    img.thumbnail((THUMB_MAX, THUMB_MAX))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class OraLayer:
    """One edit layer of an .ora file: an RGBA crop at (x, y), its opacity and visibility."""

    name: str
    rgba: np.ndarray  # [h, w, 4] uint8 (h or w may be 0: a layer with nothing visible)
    x: int = 0
    y: int = 0
    opacity: float = 1.0
    visible: bool = True


def _ora_crop(layer: OraLayer, h: int, w: int) -> tuple[np.ndarray, int, int]:
    """The part of a layer inside the h x w canvas, and its offset (a 1x1 clear pixel when empty)."""
    ch, cw = layer.rgba.shape[:2]
    t, l = max(layer.y, 0), max(layer.x, 0)
    b, r = min(layer.y + ch, h), min(layer.x + cw, w)
    if t >= b or l >= r:
        return np.zeros((1, 1, 4), np.uint8), 0, 0
    return np.ascontiguousarray(layer.rgba[t - layer.y:b - layer.y, l - layer.x:r - layer.x]), l, t


def build_ora(original: np.ndarray, layers: list, composite: np.ndarray,
              original_name: str = "original") -> bytes:
    """Return an OpenRaster archive: the original at the bottom, one RGBA layer per edit above.

    Each edit layer is written cropped to its part inside the canvas, with stack.xml `x`, `y`,
    `opacity` (the 0-255 factor Zone composes with, as a fraction) and `visibility`.

    Args:
        original: [H, W, 3] uint8, the bottom layer.
        layers: OraLayer items bottom-most first (or (name, [H, W, 4]) pairs, or (name, [h, w, 4],
            top, left) crops at their place).
        composite: [H, W, 3] uint8, stored as mergedimage.png.
        original_name: the bottom layer's name.

    The PNGs are written by `storage.png.encode_png_fast`; the two full-size ones in parallel.
    """
    from concurrent.futures import ThreadPoolExecutor

    h, w = original.shape[:2]
    with ThreadPoolExecutor(max_workers=2) as pool:  # zlib releases the GIL
        big = [pool.submit(encode_png_fast, original), pool.submit(encode_png_fast, composite)]
        entries = []
        for i, layer in enumerate(layers, start=1):
            if not isinstance(layer, OraLayer):  # (name, rgba) or (name, rgba, top, left)
                name, rgba, *at = layer
                top, left = at if at else (0, 0)
                layer = OraLayer(name=name, rgba=rgba, x=int(left), y=int(top))
            crop, x, y = _ora_crop(layer, h, w)
            entries.append((layer.name, f"data/layer{i:03d}.png", encode_png_fast(crop), x, y,
                            layer.opacity, layer.visible))
        thumb = _thumbnail_png(composite)
        entries.insert(0, (original_name, "data/layer000.png", big[0].result(), 0, 0, 1.0, True))
        merged = big[1].result()
    stack = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<image version="0.0.5" w="{w}" h="{h}" xres="72" yres="72">',
             '<stack>']
    for name, src, _, x, y, opacity, visible in reversed(entries):  # stack.xml lists the top layer first
        o8 = int(round(min(1.0, max(0.0, float(opacity))) * 255))
        stack.append(f'<layer name={quoteattr(name)} src="{src}" x="{x}" y="{y}" opacity="{o8 / 255:.6f}" '
                     f'visibility="{"visible" if visible else "hidden"}" composite-op="svg:src-over"/>')
    stack += ["</stack>", "</image>", ""]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), ORA_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", "\n".join(stack).encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
        for _, src, data, *_rest in entries:
            zf.writestr(src, data, compress_type=zipfile.ZIP_STORED)
        zf.writestr("mergedimage.png", merged, compress_type=zipfile.ZIP_STORED)
        zf.writestr("Thumbnails/thumbnail.png", thumb, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
