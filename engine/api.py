"""Plain data types of the engine's public interface (no torch import)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Literal, Optional

import numpy as np

from engine import limits

Action = Literal["add", "remove", "change"]
ACTIONS: tuple[str, ...] = ("add", "remove", "change")
WORK_SIZE_POLICIES: tuple[str, ...] = ("scale", "reference")  # see engine.worksize
SMOOTHER_GRAYS: tuple[str, ...] = ("reference", "luma")  # see engine.smoother

# Defaults from the authors' reference implementation (lsl001006/ZONE, inference.py).
BETA_REMOVE = 0.2
BETA_OTHER = 0.01


@dataclass(frozen=True)
class EditParams:
    """Everything that determines an edit, besides the image and the instruction.

    Args:
        action: the ZONE action; selects beta and which image SAM segments.
        seed: seed of the initial latent noise.
        steps: DPM-Solver++ denoising steps.
        image_scale: image guidance scale s_I of eq. 2.
        text_scale: instruction guidance scale s_T of eq. 2.
        beta: MagicBrush weight of eq. 5; None picks 0.2 for remove and 0.01 otherwise.
        work_size: long side, in pixels, of the image the models see (rounded to a multiple of 8);
            None uses the engine's default (512 for the real engine, 128 for the tiny one).
        points_per_side: SAM automatic-mask grid; None uses the engine's default.
        dilate_iterations: 3x3 dilations applied to the refined mask before smoothing.
        edge_alpha: opacity of the layer in the band where the smoothed and refined masks disagree.
        fft_threshold: binarization threshold of the smoother's difference image (0-255 scale).
        closing_kernel: side of the square closing kernel at 512 px (scaled with size).
        d0: ideal low-pass radius at 512x512 (scaled with size).
        min_region_px: connected regions smaller than this (at 512 px) are dropped from masks.
        work_size_policy: "scale" (long side to `work_size`, sides multiples of 8) or "reference"
            (the authors': only larger photos shrink, black padding to multiples of 32).
        smoother_gray: the FFT smoother's grey, "reference" (the authors' arithmetic) or "luma".
    """

    action: Action
    seed: int = 0
    steps: int = 20
    image_scale: float = 1.5
    text_scale: float = 7.5
    beta: Optional[float] = None
    work_size: Optional[int] = None
    points_per_side: Optional[int] = None
    dilate_iterations: int = 4
    edge_alpha: float = 0.6
    fft_threshold: float = 30.0
    closing_kernel: int = 21
    d0: float = 200.0
    min_region_px: int = 64
    work_size_policy: str = "scale"
    smoother_gray: str = "reference"

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        # the same validators as the CLI options (engine.limits): one set of bounds everywhere
        object.__setattr__(self, "steps", limits.check_steps(self.steps, "steps"))
        object.__setattr__(self, "seed", limits.check_seed(self.seed, "seed"))
        object.__setattr__(self, "image_scale", limits.check_scale(self.image_scale, "image_scale"))
        object.__setattr__(self, "text_scale", limits.check_scale(self.text_scale, "text_scale"))
        object.__setattr__(self, "work_size", limits.check_work_size(self.work_size, "work_size"))
        if self.work_size_policy not in WORK_SIZE_POLICIES:
            raise limits.LimitError(f"work_size_policy must be one of {', '.join(WORK_SIZE_POLICIES)}, "
                                    f"not {self.work_size_policy!r}")
        if self.smoother_gray not in SMOOTHER_GRAYS:
            raise limits.LimitError(f"smoother_gray must be one of {', '.join(SMOOTHER_GRAYS)}, not {self.smoother_gray!r}")

    @property
    def effective_beta(self) -> float:
        if self.beta is not None:
            return float(self.beta)
        return BETA_REMOVE if self.action == "remove" else BETA_OTHER

    def to_dict(self) -> dict:
        d = asdict(self)
        d["beta"] = self.effective_beta
        return d


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report: `stage` is load, encode, denoise, localize, segment or blend."""

    stage: str
    step: int = 0
    total: int = 0
    message: str = ""


ProgressFn = Callable[[ProgressEvent], None]
CancelFn = Callable[[], bool]


@dataclass
class EditResult:
    """The outcome of one edit, at the photo's full resolution.

    `layer` and `mask` cover the bounding box of the edit: they are crops whose top-left pixel
    is at `offset` = (top, left) in the photo (the whole photo when the offset is (0, 0) and
    their size is the composite's). `full_layer()` and `full_mask()` give full-size planes.
    """

    composite: np.ndarray  # [H, W, 3] uint8
    layer: np.ndarray  # [h, w, 4] uint8 at `offset`, alpha 0 outside the final mask
    mask: np.ndarray  # [h, w] bool at `offset`, alpha > 0
    canvas: np.ndarray  # [h', w', 3] uint8, I_sty at work resolution
    rough_mask: np.ndarray  # [h', w'] bool, M_b at work resolution
    mask_fraction: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    refined_mask: Optional[np.ndarray] = None  # [h, w] bool, M_f at work resolution (stored for reshapes)
    offset: tuple[int, int] = (0, 0)

    @property
    def full_size(self) -> tuple[int, int]:
        """The photo's (H, W)."""
        return int(self.composite.shape[0]), int(self.composite.shape[1])

    def full_layer(self) -> np.ndarray:
        """The layer as a full-size plane [H, W, 4] (zeros outside the crop)."""
        if self.layer.shape[:2] == self.full_size:
            return self.layer
        out = np.zeros(self.full_size + (4,), np.uint8)
        t, l = self.offset
        out[t:t + self.layer.shape[0], l:l + self.layer.shape[1]] = self.layer
        return out

    def full_mask(self) -> np.ndarray:
        """The mask as a full-size plane [H, W] bool."""
        if self.mask.shape == self.full_size:
            return self.mask
        out = np.zeros(self.full_size, bool)
        t, l = self.offset
        out[t:t + self.mask.shape[0], l:l + self.mask.shape[1]] = self.mask
        return out
