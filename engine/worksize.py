"""How a photo becomes the image the models see, and back (no torch import).

Two policies (`EditParams.work_size_policy`):

* "scale" (ours, the default): the long side is scaled to the work size (512; up or down), the
  aspect is kept and each side is rounded to a multiple of 8. Nothing is padded. The 1/32
  cross-attention grid is ceil(h / 32) x ceil(w / 32): about 16 cells on the long side for every
  photo, large or small.
* "reference" (the authors' `check_image_size`): only a photo whose width or height exceeds the
  work size is resized, with the long side set to the work size and the other side
  `int(side * work_size / long_side)` (Pillow's default bicubic filter); then each side is padded
  with black to the next multiple of 32, the padding split as `pad // 2` before and the rest
  after. The attention grid is exactly H / 32 x W / 32, the black bands take whole cells, and a
  small photo keeps its small grid (300 x 200 px: 10 x 7 cells, instead of 16 x 11).

The authors write the padded image out; Zone crops the padding off (`WorkFrame.crop`) before the
layer is brought back to the photo's full resolution, so the output never has black bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.api import WORK_SIZE_POLICIES
from engine.imageio import resize_rgb, work_size_hw

REFERENCE_MULTIPLE = 32


@dataclass(frozen=True)
class WorkFrame:
    """Where the photo's content sits in the model input.

    Attributes:
        resized_hw: the photo's size at work resolution (the content).
        padded_hw: the model input's size (content plus black padding).
        offset: (top, left) of the content inside the model input.
        resample: Pillow filter of the resize.
    """

    resized_hw: tuple[int, int]
    padded_hw: tuple[int, int]
    offset: tuple[int, int] = (0, 0)
    resample: str = "lanczos"

    @property
    def padded(self) -> bool:
        return self.padded_hw != self.resized_hw

    def to_work(self, image: np.ndarray) -> np.ndarray:
        """The model input: `image` (uint8 [H, W, 3]) resized and padded with black."""
        img = np.asarray(image)
        content = img if img.shape[:2] == self.resized_hw else resize_rgb(img, self.resized_hw, self.resample)
        if not self.padded:
            return content
        out = np.zeros(self.padded_hw + img.shape[2:], dtype=img.dtype)
        top, left = self.offset
        out[top:top + self.resized_hw[0], left:left + self.resized_hw[1]] = content
        return out

    def crop(self, array: np.ndarray) -> np.ndarray:
        """The content of an array [padded_h, padded_w, ...] (an image or a mask), padding removed."""
        arr = np.asarray(array)
        if arr.shape[:2] != self.padded_hw:
            raise ValueError(f"expected an array of size {self.padded_hw}, got {arr.shape[:2]}")
        top, left = self.offset
        return arr[top:top + self.resized_hw[0], left:left + self.resized_hw[1]]


def reference_resized_hw(h: int, w: int, max_size: int) -> tuple[int, int]:
    """The authors' resize: only when a side exceeds `max_size`; long side to it, the other truncated."""
    if w <= max_size and h <= max_size:
        return h, w
    if w > h:
        return max(1, int(h * max_size / w)), max_size
    return max_size, max(1, int(w * max_size / h))


def plan_work_frame(h: int, w: int, work_size: int, policy: str = "scale") -> WorkFrame:
    """The `WorkFrame` of an h x w photo under `policy` ("scale" or "reference").

    Args:
        h, w: the photo's size.
        work_size: the long side the models see ("scale") or the largest side allowed ("reference").
        policy: one of `WORK_SIZE_POLICIES`.
    """
    if policy == "scale":
        hw = work_size_hw(h, w, long_side=work_size, multiple=8)
        return WorkFrame(hw, hw)
    if policy != "reference":
        raise ValueError(f"work_size_policy must be one of {', '.join(WORK_SIZE_POLICIES)}, not {policy!r}")
    rh, rw = reference_resized_hw(h, w, work_size)
    ph, pw = (math.ceil(x / REFERENCE_MULTIPLE) * REFERENCE_MULTIPLE for x in (rh, rw))
    return WorkFrame((rh, rw), (ph, pw), ((ph - rh) // 2, (pw - rw) // 2), resample="bicubic")
