"""Instruction-guided localization (ZONE eq. 4): the rough mask M_b from averaged cross-attention."""

from __future__ import annotations

import numpy as np
from PIL import Image

# The reference binarizes 2 * diff > 108 and inverts, i.e. keeps pixels with diff <= 54, where
# diff is the saturating difference of the max-normalized uint8 maps of the first and last token.
REFERENCE_DIFF_THRESHOLD = 54


def normalize_map_to_uint8(m: np.ndarray) -> np.ndarray:
    """255 * m / max(m), truncated to uint8 (as the reference's `astype(np.uint8)`); all-zero stays zero."""
    peak = float(m.max())
    if not np.isfinite(peak) or peak <= 0:
        return np.zeros(m.shape, dtype=np.uint8)
    return np.clip(255.0 * m / peak, 0, 255).astype(np.uint8)


def attention_difference_u8(attention: np.ndarray, last_token_index: int) -> np.ndarray:
    """First-token map minus last-token map, each max-normalized to uint8, saturating at 0.

    Args:
        attention: mean cross-attention, [h, w, T].
        last_token_index: position of the instruction's end-of-text token.

    Returns:
        uint8 [h, w] difference at attention resolution.
    """
    attention = np.asarray(attention, dtype=np.float32)
    last = int(min(max(last_token_index, 1), attention.shape[-1] - 1))
    first_u8 = normalize_map_to_uint8(attention[..., 0]).astype(np.int16)
    last_u8 = normalize_map_to_uint8(attention[..., last]).astype(np.int16)
    return np.clip(first_u8 - last_u8, 0, 255).astype(np.uint8)


def rough_mask_from_attention(
    attention: np.ndarray,
    last_token_index: int,
    out_hw: tuple[int, int],
    threshold: int = REFERENCE_DIFF_THRESHOLD,
) -> np.ndarray:
    """Eq. 4: M_b = 1 where (M_A^1 - M_A^L) is small; the first token attends to the unedited region.

    Args:
        attention: mean cross-attention, [h32, w32, T] (numpy or torch on the CPU).
        last_token_index: position of the instruction's end-of-text token.
        out_hw: (h, w) of the work-resolution image.
        threshold: keep pixels whose upsampled uint8 difference is at most this.

    Returns:
        bool [h, w] rough edit mask.
    """
    if hasattr(attention, "numpy"):
        attention = attention.float().numpy()
    diff = attention_difference_u8(attention, last_token_index)  # [h32, w32]
    h, w = out_hw
    up = np.asarray(Image.fromarray(diff).resize((w, h), resample=Image.Resampling.BICUBIC))  # [h, w]
    return up <= threshold

