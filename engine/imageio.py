"""Loading, saving and resizing photos as numpy arrays (no torch import).

Every photo enters Zone through `load_image`, which returns RGB `uint8 [H, W, 3]` in display
orientation, or raises `ZoneInputError` with a one-line message naming the file. Conversions:

* EXIF orientation is applied (`PIL.ImageOps.exif_transpose`), so the array is what a viewer shows.
* Transparency (RGBA, LA, PA, palette or RGB/L with a tRNS colour) is composited over WHITE: an
  editor must show something behind transparent pixels, white is what most viewers use, and the
  models need three opaque channels. The alpha channel is not kept.
* 16-bit grayscale (`I;16*`) keeps its top byte (`>> 8`). 32-bit integer `I` is used as-is when it
  already lies in [0, 255], scaled as 16-bit (`>> 8`) when it lies in [0, 65535], and stretched
  min-max otherwise. Float `F` is scaled by 255 when it lies in [0, 1], stretched min-max otherwise.
* CMYK, YCbCr, LAB, HSV, L and 1 are converted with Pillow's own converters.
* Multi-frame files (GIF, TIFF, WebP) contribute their first frame.

The pixel limit (`max_pixels`; default 64 MP, or `$ZONE_MAX_PIXELS`) is checked from the header,
before any pixel is decoded.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from common.safe_write import FORCE_HINT, write_with
from common.settings import settings
from engine.errors import ZoneInputError
from engine.limits import check_max_pixels, megapixels

DEFAULT_MAX_PIXELS = 64_000_000
EXIF_ORIENTATION = 0x0112
PNG_SAVE_LEVEL = 1  # zlib level of written PNGs: 3.6x faster than 6 at 12 MP, 18% larger (BENCHMARKS.md)
MAX_PIXELS_ENV = "ZONE_MAX_PIXELS"

PathLike = Union[str, os.PathLike]

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF",
                 ".tiff": "TIFF", ".bmp": "BMP"}
# Image.MAX_IMAGE_PIXELS is process-global; it is swapped only while holding this lock.
_PIL_LIMIT_LOCK = threading.Lock()


def max_pixels_from_env(default: int = DEFAULT_MAX_PIXELS) -> int:
    """Return the pixel limit: `$ZONE_MAX_PIXELS` when set (checked like --max-pixels), else `default`."""
    raw = settings().max_pixels
    if not raw:
        return default
    return check_max_pixels(raw, f"${MAX_PIXELS_ENV}")


def _megapixels(n: int) -> str:
    return megapixels(n)


def _check_path(path: Path) -> None:
    """Refuse missing files, directories and empty files before Pillow sees them."""
    name = str(path)
    if not path.exists():
        raise ZoneInputError(f"cannot open {name}: no such file")
    if path.is_dir():
        raise ZoneInputError(f"cannot open {name}: it is a directory, not an image file")
    if not path.is_file():
        raise ZoneInputError(f"cannot open {name}: not a regular file")
    if path.stat().st_size == 0:
        raise ZoneInputError(f"cannot open {name}: the file is empty (0 bytes)")


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image of any mode to RGB `uint8 [H, W, 3]` (see module doc)."""
    mode = im.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        # 1. Transparency: composite over white.
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint32)  # [H, W, 4]
        a = rgba[..., 3:4]
        out = (rgba[..., :3] * a + 255 * (255 - a) + 127) // 255
        return out.astype(np.uint8)
    if mode.startswith("I;16"):
        # 2. 16-bit grayscale: keep the top byte.
        g = (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "I":
        g = np.asarray(im).astype(np.int64)
        lo, hi = (int(g.min()), int(g.max())) if g.size else (0, 0)
        if lo >= 0 and hi <= 255:
            g8 = g.astype(np.uint8)
        elif lo >= 0 and hi <= 65535:
            g8 = (g >> 8).astype(np.uint8)
        else:
            g8 = np.round((g - lo) * (255.0 / max(hi - lo, 1))).astype(np.uint8)
        return np.repeat(g8[..., None], 3, axis=2)
    if mode == "F":
        f = np.asarray(im).astype(np.float64)
        f = np.nan_to_num(f, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = (float(f.min()), float(f.max())) if f.size else (0.0, 0.0)
        if lo >= 0.0 and hi <= 1.0:
            g8 = np.round(f * 255.0)
        else:
            g8 = np.round((f - lo) * (255.0 / (hi - lo if hi > lo else 1.0)))
        g8 = np.clip(g8, 0, 255).astype(np.uint8)
        return np.repeat(g8[..., None], 3, axis=2)
    # 3. Everything else (RGB, L, 1, P, CMYK, YCbCr, LAB, HSV, ...): Pillow's converters.
    if mode == "RGB":  # no converted copy: the caller copies once the decoded image is released
        return np.asarray(im)
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def load_image(path: PathLike, max_pixels: Optional[int] = None) -> np.ndarray:
    """Load a photo as RGB `uint8 [H, W, 3]` in display orientation.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (checked from the header, before
            decoding). None: `$ZONE_MAX_PIXELS`, else `DEFAULT_MAX_PIXELS` (64 MP).

    Raises:
        ZoneInputError: missing file, directory, empty file, not an image, unsupported format,
            corrupt or truncated data, zero-size image, or an image above `max_pixels`.
    """
    p = Path(path)
    name = str(p)
    limit = max_pixels_from_env() if max_pixels is None else check_max_pixels(max_pixels, "max_pixels")
    _check_path(p)
    with _PIL_LIMIT_LOCK:
        saved_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit  # Pillow errors at 2x this, at open, from the header
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                return _open_and_decode(p, name, limit)
        finally:
            Image.MAX_IMAGE_PIXELS = saved_limit


def _open_and_decode(p: Path, name: str, limit: int) -> np.ndarray:
    """Steps of `load_image` after the path checks: open lazily, check size, decode, convert."""
    # 1. Lazy open: reads the header only.
    try:
        im = Image.open(p)
    except Image.DecompressionBombError:
        raise ZoneInputError(
            f"{name} is too large: it exceeds the limit of {_megapixels(limit)} "
            f"(set {MAX_PIXELS_ENV} to raise it)") from None
    except UnidentifiedImageError:
        raise ZoneInputError(
            f"{name} is not an image Zone can read (unknown, unsupported or damaged format)") from None
    except PermissionError:
        raise ZoneInputError(f"cannot open {name}: permission denied") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ZoneInputError(f"{name} is corrupt or unreadable: {_one_line(exc)}") from None
    with im:
        # 2. Size check from the header, before decoding pixels.
        w, h = im.size
        if w <= 0 or h <= 0:
            raise ZoneInputError(f"{name} has no pixels ({w}x{h})")
        if w * h > limit:
            raise ZoneInputError(
                f"{name} is too large: {w}x{h} = {_megapixels(w * h)} exceeds the limit of "
                f"{_megapixels(limit)} (set {MAX_PIXELS_ENV} to raise it)")
        # 3. Decode (first frame), apply EXIF orientation, convert.
        try:
            im.seek(0)
            im.load()
            # exif_transpose copies even an upright image: only call it when the tag turns it.
            turned = im.getexif().get(EXIF_ORIENTATION, 1) not in (0, 1)
            oriented = ImageOps.exif_transpose(im) if turned else im
            rgb = _to_rgb_array(oriented if oriented is not None else im)
            del oriented
        except Image.DecompressionBombError:
            raise ZoneInputError(
                f"{name} is too large: it exceeds the limit of {_megapixels(limit)} "
                f"(set {MAX_PIXELS_ENV} to raise it)") from None
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
            raise ZoneInputError(f"{name} is corrupt or truncated: {_one_line(exc)}") from None
        except MemoryError:
            raise ZoneInputError(f"{name} is too large to decode in the available memory") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ZoneInputError(f"{name} decoded to an unusable array of shape {rgb.shape}")
    # A writable, contiguous copy (the decoded image is released by now: at most two copies at once).
    return rgb if rgb.flags.writeable and rgb.flags.c_contiguous else np.array(rgb, order="C")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def save_image(path: PathLike, array: np.ndarray, quality: int = 95, *, force: bool = False,
               hint: str = FORCE_HINT) -> Path:
    """Write an RGB `[H, W, 3]`, RGBA `[H, W, 4]` or gray `[H, W]` uint8 array; format by suffix.

    Written through `common.safe_write`: a temporary file in the same folder renamed into place
    (a failed write never leaves a half-written image), the umask's mode, and an existing file
    is only replaced with `force`.

    Args:
        path: target file; the suffix picks the format (.png, .jpg/.jpeg, .webp, .tif/.tiff, .bmp).
        array: uint8 pixels; bool masks are written as 0/255.
        quality: JPEG/WebP quality.
        force: replace an existing file.
        hint: what the refusal of an existing file tells the user.

    Raises:
        ZoneInputError: unknown suffix, or transparency for a format that cannot store it.
        common.safe_write.OutputError: the file exists (without `force`), or cannot be written.
    """
    p = Path(path)
    fmt = _SAVE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SAVE_FORMATS))
        raise ZoneInputError(f"cannot save {p}: unknown image type {p.suffix or '(none)'!r}; use {known}")
    arr = np.asarray(array)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype != np.uint8:
        raise ValueError(f"save_image expects uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 4 and fmt in ("JPEG", "BMP"):
        raise ZoneInputError(f"cannot save {p}: {fmt} cannot store transparency; use .png")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"save_image expects [H, W], [H, W, 3] or [H, W, 4], got {arr.shape}")
    im = Image.fromarray(np.ascontiguousarray(arr))
    kwargs = {"quality": int(quality)} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "PNG":
        kwargs["compress_level"] = PNG_SAVE_LEVEL
    return write_with(p, lambda fh: im.save(fh, format=fmt, **kwargs), force=force, hint=hint)


def save_png(path: PathLike, array: np.ndarray, *, force: bool = False) -> Path:
    """Write `array` as PNG (see `save_image`)."""
    return save_image(Path(path), array, force=force)


def work_size_hw(h: int, w: int, long_side: int = 512, multiple: int = 8) -> tuple[int, int]:
    """Return the work size `(h', w')`: long side `long_side`, aspect kept, sides multiples of `multiple`.

    Images smaller than `long_side` are scaled up too: the models are trained near 512 px.
    Each side is rounded to the nearest multiple (at least one multiple).
    """
    if h <= 0 or w <= 0:
        raise ValueError(f"image size must be positive, got {h}x{w}")
    if long_side < multiple or multiple <= 0:
        raise ValueError("long_side must be at least `multiple`, which must be positive")
    scale = long_side / max(h, w)

    def _round(x: float) -> int:
        return max(multiple, int(round(x * scale / multiple)) * multiple)

    return _round(h), _round(w)


def _check_size(size_hw: tuple[int, int]) -> tuple[int, int]:
    h, w = (int(size_hw[0]), int(size_hw[1]))
    if h <= 0 or w <= 0:
        raise ValueError(f"target size must be positive, got {h}x{w}")
    return h, w


def resize_rgb(array: np.ndarray, size_hw: tuple[int, int], resample: str = "lanczos",
               box: Optional[tuple[float, float, float, float]] = None) -> np.ndarray:
    """Resize RGB(A) `uint8 [H, W, C]` to `size_hw` = (h, w) with Pillow (values clipped to uint8).

    Args:
        box: (left, top, right, bottom) in source pixels: resize only that region (Pillow's `box`;
            the filter still reads source pixels outside it, so a box of the full-image mapping
            gives that part of the full resize).
    """
    h, w = _check_size(size_hw)
    arr = np.ascontiguousarray(np.asarray(array, dtype=np.uint8))
    if arr.shape[:2] == (h, w) and box is None:
        return arr.copy()
    return np.asarray(Image.fromarray(arr).resize((w, h), _RESAMPLE[resample], box=box), dtype=np.uint8)


def resize_float(array: np.ndarray, size_hw: tuple[int, int], resample: str = "bilinear",
                 box: Optional[tuple[float, float, float, float]] = None) -> np.ndarray:
    """Resize a float `[H, W]` map (e.g. an alpha map) to `size_hw` (Pillow mode F); float32 out.

    Args:
        box: as in `resize_rgb`: only that source region.
    """
    h, w = _check_size(size_hw)
    arr = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
    if arr.ndim != 2:
        raise ValueError(f"resize_float expects [H, W], got {arr.shape}")
    if arr.shape == (h, w) and box is None:
        return arr.copy()
    return np.asarray(Image.fromarray(arr, mode="F").resize((w, h), _RESAMPLE[resample], box=box),
                      dtype=np.float32)


def resize_mask(mask: np.ndarray, size_hw: tuple[int, int], method: str = "bilinear") -> np.ndarray:
    """Resize a bool mask `[H, W]` to `size_hw`.

    Args:
        method: "nearest" (blocky, exact labels) or "bilinear" (the bilinear-upsampled 0/1 map
            thresholded at > 0.5: smoother outlines).
    """
    m = np.asarray(mask, dtype=bool)
    if method == "nearest":
        h, w = _check_size(size_hw)
        if m.shape == (h, w):
            return m.copy()
        im = Image.fromarray(m.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)
        return np.asarray(im) > 127
    if method == "bilinear":
        return resize_float(m.astype(np.float32), size_hw, "bilinear") > 0.5
    raise ValueError(f"method must be 'nearest' or 'bilinear', not {method!r}")
