"""Engine builders behind a registry: `build_engine("real" | "tiny", device=...)`."""

from __future__ import annotations

from typing import Callable, Optional

import torch

from engine.errors import ZoneInputError
from engine.limits import TINY_WORK_SIZE
from engine.pipeline import ZoneEngine

TINY_NOTICE = "tiny engine: random-weight models for tests and dry runs; its edits are meaningless"


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when available; 'cuda' without a GPU is a one-line error."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ZoneInputError("--device cuda was asked for, but no CUDA GPU is available; use --device cpu")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise ZoneInputError(f"unknown device {device!r}; use auto, cpu or cuda")
    return torch.device(device)


def resolve_dtype(device: torch.device, dtype: Optional[str | torch.dtype]) -> torch.dtype:
    """Half precision on CUDA, float32 on the CPU, unless given."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "", "auto"):
        return torch.float16 if device.type == "cuda" else torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in table:
        raise ZoneInputError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16")
    return table[dtype]


def build_real_engine(device: str = "auto", dtype=None, offload: bool = False) -> ZoneEngine:
    """InstructPix2Pix + MagicBrush + SAM (ViT-B, L or H) from local weights (see `engine.weights`).

    Args:
        device: "auto", "cpu" or "cuda".
        dtype: None picks float16 on CUDA and float32 on the CPU.
        offload: keep idle models on the CPU during a turn (for GPUs with little memory).
    """
    dev = resolve_device(device)
    dt = resolve_dtype(dev, dtype)

    from engine.weights import resolve_weights

    def load():
        from engine.models import load_real_bundle

        return load_real_bundle(resolve_weights(), dev, dt)

    return ZoneEngine("real", load, meaningful=True, preflight=resolve_weights, offload=offload, device=str(dev))


def build_tiny_engine(device: str = "auto", dtype=None, offload: bool = False, seed: int = 0) -> ZoneEngine:
    """Seeded random-weight models with the real architectures' shapes; edits are meaningless."""
    dev = resolve_device(device)
    dt = resolve_dtype(dev, dtype) if dev.type == "cuda" else torch.float32

    def load():
        from engine.bundles import build_bundle

        return build_bundle("tiny", seed).to(dev, dt)

    return ZoneEngine("tiny", load, meaningful=False, default_work_size=TINY_WORK_SIZE, offload=offload, device=str(dev))


ENGINE_BUILDERS: dict[str, Callable[..., ZoneEngine]] = {
    "real": build_real_engine,
    "tiny": build_tiny_engine,
}


def build_engine(name: str = "real", device: str = "auto", dtype=None, offload: bool = False) -> ZoneEngine:
    """Builds (without loading) the engine registered under `name`."""
    if name not in ENGINE_BUILDERS:
        raise ZoneInputError(f"unknown engine {name!r}; use one of: {', '.join(ENGINE_BUILDERS)}")
    return ENGINE_BUILDERS[name](device=device, dtype=dtype, offload=offload)
