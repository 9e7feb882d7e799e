"""FFT edge smoother (ZONE sec. 4.4, eq. 7-8): the final mask M*_f from I_sty, I_G and M_f.

    M_d   = dilate(M_f)                       3x3 square, `dilate_iterations` times
    I_L,d = gray(I_sty ⊙ M_d),  I_G,d = gray(I_G ⊙ M_d)      0 outside M_d (see "Grey" below)
    M_dm  = | f^-1( H(f(I_L,d)) - H(f(I_G,d)) ) |            H: ideal low-pass disc, radius D0
    M*_f  = fill( close( clip(M_dm, 0, 255) > threshold ) )

Grey (`gray`): "reference" (the default) computes what the authors' code computes. It reads the
photos as BGR arrays and then applies OpenCV's RGB2GRAY, so the weights land on swapped channels
and the result is rounded to uint8 with OpenCV's fixed-point arithmetic:
gray = (4899 B + 9617 G + 1868 R + 8192) >> 14, i.e. 0.299 B + 0.587 G + 0.114 R rounded (one
off from `np.rint` for 0.2% of colours). "luma" is ITU-R 601 luma on the right channels,
0.299 R + 0.587 G + 0.114 B, unrounded (what Zone used before).

Choices where the authors' code is silent or buggy (documented so results are reproducible):

* D0 is 200 at 512x512 and scales with the image: D0 * sqrt(h * w) / 512 (the reference keeps 200
  at every size, which lets more detail through on large images and less on small ones).
* The disc is centred on the shifted spectrum's zero frequency (h // 2, w // 2) and holds the
  frequencies with (y - h//2)^2 + (x - w//2)^2 <= D0^2.
* M_dm is clipped to [0, 255] (the reference's uint8 cast wraps around above 255) and compared as
  float (no truncation to integers) with `> threshold`.
* Closing = dilation then erosion with a k x k square, k = round(21 * s) made odd, s = long side
  / 512. Borders follow OpenCV's defaults: dilation sees outside pixels as 0, erosion as 1, so a
  mask touching the border is not eaten away by the closing.
* Filling fills every hole of every component (`binary_fill_holes`, 4-connected background),
  which is what drawing filled external contours does.

`smooth_edges_reference` is the plain numpy version, step by step; `EdgeSmoother` is the torch
version used by the engine (any device): it uses the linearity of the FFT (one transform of the
difference instead of two) and a pre-shifted disc instead of fftshift/ifftshift, and does the
morphology with separable max-pooling. Only the hole filling runs on the CPU (scipy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from engine.api import SMOOTHER_GRAYS as GRAY_MODES

REFERENCE_SIDE = 512
LUMA_601 = (0.299, 0.587, 0.114)
# OpenCV's RGB2GRAY for uint8: coefficients of its first, second, third channel in 1/2^14.
CV_GRAY_COEFFS, CV_GRAY_SHIFT = (4899, 9617, 1868), 14


# ----------------------------------------------------------------------------------------------
# Helpers (numpy / scipy)
# ----------------------------------------------------------------------------------------------


def scale_d0(d0: float, h: int, w: int) -> float:
    """Low-pass radius for an h x w image, given D0 at 512 x 512: D0 * sqrt(h * w) / 512."""
    return float(d0) * math.sqrt(h * w) / REFERENCE_SIDE


def scale_kernel(k: int, h: int, w: int) -> int:
    """Square kernel side for an h x w image, given `k` at 512 px (long side): odd, at least 1."""
    side = int(round(k * max(h, w) / REFERENCE_SIDE))
    if side % 2 == 0:
        side += 1
    return max(1, side)


def gray_reference_u8(rgb: np.ndarray) -> np.ndarray:
    """The authors' grey of an RGB uint8 image: OpenCV's RGB2GRAY applied to the BGR array.

    (4899 * B + 9617 * G + 1868 * R + 8192) >> 14, i.e. 0.299 B + 0.587 G + 0.114 R rounded:
    uint8 [h, w].
    """
    a = np.asarray(rgb).astype(np.int32)
    bgr = a[..., ::-1]  # the reference's cv2.cvtColor(np.array(pil), cv2.COLOR_BGR2RGB)
    acc = sum(bgr[..., c] * CV_GRAY_COEFFS[c] for c in range(3)) + (1 << (CV_GRAY_SHIFT - 1))
    return (acc >> CV_GRAY_SHIFT).astype(np.uint8)


def rgb_to_gray(rgb: np.ndarray, mode: str = "reference") -> np.ndarray:
    """Grey of an RGB image as float64 [h, w]: `gray_reference_u8` ("reference") or
    0.299 R + 0.587 G + 0.114 B unrounded ("luma")."""
    if mode == "reference":
        return gray_reference_u8(rgb).astype(np.float64)
    if mode != "luma":
        raise ValueError(f"gray must be one of {', '.join(GRAY_MODES)}, not {mode!r}")
    a = np.asarray(rgb, dtype=np.float64)
    return a[..., 0] * LUMA_601[0] + a[..., 1] * LUMA_601[1] + a[..., 2] * LUMA_601[2]


def lowpass_disc(h: int, w: int, d0: float) -> np.ndarray:
    """Ideal low-pass H of eq. 8 on a centred (fftshift-ed) spectrum: bool [h, w]."""
    yy, xx = np.ogrid[0:h, 0:w]
    return (yy - h // 2) ** 2 + (xx - w // 2) ** 2 <= float(d0) ** 2


def dilate_mask(mask: np.ndarray, iterations: int = 4, kernel: int = 3) -> np.ndarray:
    """Dilate by a `kernel` x `kernel` square, `iterations` times (outside counts as 0): bool.

    Repeated square dilations equal one dilation by a square of side iterations * (kernel - 1) + 1.
    """
    m = np.asarray(mask).astype(bool)
    if iterations <= 0 or kernel <= 1:
        return m.copy()
    side = iterations * (kernel - 1) + 1
    return ndimage.maximum_filter(m, size=side, mode="constant", cval=False)


def erode_mask(mask: np.ndarray, kernel: int) -> np.ndarray:
    """Erode by a `kernel` x `kernel` square (odd); outside counts as 1 (OpenCV's default): bool."""
    m = np.asarray(mask).astype(bool)
    if kernel <= 1:
        return m.copy()
    return ndimage.minimum_filter(m, size=kernel, mode="constant", cval=True)


def close_mask(mask: np.ndarray, kernel: int) -> np.ndarray:
    """Morphological closing by a `kernel` x `kernel` square (odd): dilate (outside 0), erode (outside 1)."""
    if kernel % 2 == 0:
        raise ValueError(f"closing kernel must be odd, got {kernel}")
    return erode_mask(dilate_mask(mask, iterations=1, kernel=kernel), kernel)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every hole of every component (background not 4-connected to the border): bool."""
    return ndimage.binary_fill_holes(np.asarray(mask).astype(bool))


@dataclass
class SmoothResult:
    """Output of the edge smoother.

    Attributes:
        mask: bool [h, w], M*_f (after the coverage fallback, for `EdgeSmoother`).
        dilated: bool [h, w], M_d.
        difference: float [h, w], M_dm clipped to [0, 255] (before thresholding).
        warnings: one-line notes about fallbacks.
    """

    mask: np.ndarray
    dilated: np.ndarray
    difference: np.ndarray
    warnings: list[str] = field(default_factory=list)


def smooth_edges_reference(styled: np.ndarray, original: np.ndarray, refined: np.ndarray, *,
                           dilate_iterations: int = 4, d0: float = 200.0, threshold: float = 30.0,
                           closing_kernel: int = 21, scale_with_size: bool = True,
                           gray: str = "reference") -> SmoothResult:
    """Eq. 7-8 in plain numpy, one step at a time (the test oracle for `EdgeSmoother`).

    Args:
        styled: uint8 [h, w, 3], I_sty.
        original: uint8 [h, w, 3], I_G at the same size.
        refined: bool [h, w], M_f.
        dilate_iterations: 3x3 dilations giving M_d.
        d0, closing_kernel: at 512 px; scaled to the image when `scale_with_size`.
        threshold: binarization threshold on the 0-255 scale.
        gray: "reference" or "luma" (see the module doc).

    Returns:
        SmoothResult without fallbacks (`warnings` empty).
    """
    h, w = np.asarray(refined).shape
    if scale_with_size:
        d0 = scale_d0(d0, h, w)
        closing_kernel = scale_kernel(closing_kernel, h, w)
    # 1. M_d and the two masked layers I_L,d, I_G,d (zero outside M_d), in gray.
    m_d = dilate_mask(refined, dilate_iterations)  # [h, w]
    sty_d = np.where(m_d[..., None], np.asarray(styled), 0)  # [h, w, 3]
    org_d = np.where(m_d[..., None], np.asarray(original), 0)  # [h, w, 3]
    g_l = rgb_to_gray(sty_d, gray)  # [h, w]
    g_g = rgb_to_gray(org_d, gray)  # [h, w]
    # 2. f: FFT, shifted so that the zero frequency sits at (h // 2, w // 2).
    f_l = np.fft.fftshift(np.fft.fft2(g_l))  # [h, w] complex
    f_g = np.fft.fftshift(np.fft.fft2(g_g))
    # 3. H: ideal low-pass disc; subtract the spectra.
    disc = lowpass_disc(h, w, d0)
    d_s = f_l * disc - f_g * disc
    # 4. f^-1 and magnitude: the difference map M_dm, clipped to [0, 255].
    m_dm = np.clip(np.abs(np.fft.ifft2(np.fft.ifftshift(d_s))), 0.0, 255.0)  # [h, w]
    # 5. g: binarize, close, fill.
    binary = m_dm > threshold
    closed = close_mask(binary, closing_kernel)
    return SmoothResult(fill_holes(closed), m_d, m_dm)


# ----------------------------------------------------------------------------------------------
# Torch implementation
# ----------------------------------------------------------------------------------------------


def _pool_dilate(x: torch.Tensor, side: int) -> torch.Tensor:
    """Dilate a float {0,1} map [B, 1, h, w] by a side x side square (odd); outside is 0."""
    if side <= 1:
        return x
    r = side // 2
    x = F.max_pool2d(x, kernel_size=(1, side), stride=1, padding=(0, r))  # max_pool pads with -inf
    return F.max_pool2d(x, kernel_size=(side, 1), stride=1, padding=(r, 0))


def _pool_erode(x: torch.Tensor, side: int) -> torch.Tensor:
    """Erode a float {0,1} map [B, 1, h, w] by a side x side square (odd); outside is 1."""
    return -_pool_dilate(-x, side)


class EdgeSmoother:
    """Torch edge smoother (eq. 7-8) with the engine's fallbacks.

    Args:
        d0: low-pass radius at 512 x 512.
        threshold: binarization threshold (0-255 scale).
        closing_kernel: closing square side at 512 px.
        dilate_iterations: 3x3 dilations of M_f giving M_d.
        scale_with_size: scale d0 and the closing kernel with the image (see module doc).
        max_fraction: if M*_f covers more than this fraction of the image, M_f is kept instead.
        device: where to compute ("cpu", "cuda", a torch.device); None: CPU.
        dtype: float64 (default; matches the numpy reference bit for bit in practice) or float32.
        gray: "reference" (the authors' grey, default) or "luma" (see the module doc).
    """

    def __init__(self, d0: float = 200.0, threshold: float = 30.0, closing_kernel: int = 21,
                 dilate_iterations: int = 4, scale_with_size: bool = True,
                 max_fraction: float = 0.95, device=None, dtype: torch.dtype = torch.float64,
                 gray: str = "reference") -> None:
        if dtype not in (torch.float32, torch.float64):
            raise ValueError("dtype must be torch.float32 or torch.float64")
        if gray not in GRAY_MODES:
            raise ValueError(f"gray must be one of {', '.join(GRAY_MODES)}, not {gray!r}")
        self.gray = gray
        self.d0, self.threshold = float(d0), float(threshold)
        self.closing_kernel, self.dilate_iterations = int(closing_kernel), int(dilate_iterations)
        self.scale_with_size, self.max_fraction = bool(scale_with_size), float(max_fraction)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self._disc_cache: dict[tuple[int, int, float], torch.Tensor] = {}

    @classmethod
    def from_params(cls, params, device=None, dtype: torch.dtype = torch.float64) -> "EdgeSmoother":
        """Build from an `engine.api.EditParams` (d0, fft_threshold, closing_kernel, dilate_iterations,
        smoother_gray)."""
        return cls(d0=params.d0, threshold=params.fft_threshold, closing_kernel=params.closing_kernel,
                   dilate_iterations=params.dilate_iterations, device=device, dtype=dtype,
                   gray=params.smoother_gray)

    def sizes_for(self, h: int, w: int) -> tuple[float, int]:
        """(D0, closing kernel side) used for an h x w image."""
        if self.scale_with_size:
            return scale_d0(self.d0, h, w), scale_kernel(self.closing_kernel, h, w)
        k = self.closing_kernel if self.closing_kernel % 2 else self.closing_kernel + 1
        return self.d0, k

    def _shifted_disc(self, h: int, w: int, d0: float) -> torch.Tensor:
        """ifftshift(H): the disc in unshifted FFT layout, so no shifts are needed: [h, w]."""
        key = (h, w, d0)
        disc = self._disc_cache.get(key)
        if disc is None:
            disc = torch.from_numpy(np.fft.ifftshift(lowpass_disc(h, w, d0)))
            disc = disc.to(device=self.device, dtype=self.dtype)
            self._disc_cache = {key: disc}  # one size at a time
        return disc

    def dilate(self, refined: np.ndarray) -> torch.Tensor:
        """M_d on the device: float {0,1} [h, w]."""
        m = torch.as_tensor(np.asarray(refined).astype(bool), device=self.device).to(self.dtype)
        side = 2 * max(self.dilate_iterations, 0) + 1
        return _pool_dilate(m[None, None], side)[0, 0]  # [h, w]

    @torch.no_grad()
    def difference_map(self, styled: np.ndarray, original: np.ndarray,
                       dilated: torch.Tensor) -> torch.Tensor:
        """M_dm of eq. 7 before g, clipped to [0, 255]: float [h, w] on the device."""
        h, w = dilated.shape
        d0, _ = self.sizes_for(h, w)
        np_dtype = np.float64 if self.dtype == torch.float64 else np.float32
        # 1. gray(I_L,d) - gray(I_G,d) = (gray(I_sty) - gray(I_G)) ⊙ M_d (gray(0) = 0, masking is per pixel).
        if self.gray == "reference":  # rounded per image, so the difference is taken after the grey
            g = gray_reference_u8(styled).astype(np.int16) - gray_reference_u8(original).astype(np.int16)
            diff = torch.from_numpy(g.astype(np_dtype)).to(self.device) * dilated  # [h, w]
        else:  # linear: one grey of the difference
            luma = torch.tensor(LUMA_601, device=self.device, dtype=self.dtype)  # [3]
            sty = torch.from_numpy(np.array(styled, dtype=np_dtype, order="C")).to(self.device)  # [h, w, 3]
            org = torch.from_numpy(np.array(original, dtype=np_dtype, order="C")).to(self.device)
            diff = ((sty - org) @ luma) * dilated  # [h, w]
        # 2. H(f(a)) - H(f(b)) = H(f(a - b)); H applied in unshifted layout.
        spec = torch.fft.fft2(diff) * self._shifted_disc(h, w, d0)  # [h, w] complex
        return torch.fft.ifft2(spec).abs().clamp_(0.0, 255.0)  # [h, w]

    @torch.no_grad()
    def smooth_raw(self, styled: np.ndarray, original: np.ndarray,
                   refined: np.ndarray) -> SmoothResult:
        """Eq. 7-8 without fallbacks (same output as `smooth_edges_reference`)."""
        h, w = np.asarray(refined).shape
        if np.asarray(styled).shape[:2] != (h, w) or np.asarray(original).shape[:2] != (h, w):
            raise ValueError(f"styled {np.asarray(styled).shape}, original {np.asarray(original).shape} "
                             f"and refined mask {(h, w)} must have the same size")
        _, k = self.sizes_for(h, w)
        # 1. M_d.
        m_d = self.dilate(refined)  # [h, w]
        # 2. M_dm.
        m_dm = self.difference_map(styled, original, m_d)  # [h, w]
        # 3. g: binarize, close (dilate outside 0, erode outside 1), fill (CPU).
        binary = (m_dm > self.threshold).to(self.dtype)[None, None]  # [1, 1, h, w]
        closed = _pool_erode(_pool_dilate(binary, k), k)[0, 0] > 0.5  # [h, w]
        mask = fill_holes(closed.cpu().numpy())
        return SmoothResult(mask, m_d.cpu().numpy() > 0.5, m_dm.cpu().numpy())

    def __call__(self, styled: np.ndarray, original: np.ndarray, refined: np.ndarray) -> SmoothResult:
        """M*_f with fallbacks: empty M_f gives an empty mask; over-large M*_f gives M_f back.

        Args:
            styled: uint8 [h, w, 3], I_sty.
            original: uint8 [h, w, 3], I_G at work size.
            refined: bool [h, w], M_f.
        """
        refined = np.asarray(refined).astype(bool)
        h, w = refined.shape
        if not refined.any():
            empty = np.zeros((h, w), bool)
            return SmoothResult(empty, empty.copy(), np.zeros((h, w)),
                                ["the refined mask is empty; the edge smoother did nothing"])
        result = self.smooth_raw(styled, original, refined)
        fraction = float(result.mask.mean())
        if fraction > self.max_fraction:
            result.warnings.append(
                f"the smoothed mask covered {fraction:.0%} of the image; kept the refined mask")
            result.mask = refined.copy()
        elif not result.mask.any():
            result.warnings.append("the edge smoother found no visible change around the mask")
        return result
