"""Offloading idle models to the CPU between stages, for GPUs with little memory."""

from __future__ import annotations

import torch

# Which bundle attributes each stage of a turn needs on the accelerator.
STAGE_MODELS: dict[str, tuple[str, ...]] = {
    "diffusion": ("text_encoder", "vae", "unet_ip2p", "unet_mb"),
    "segment": ("sam",),
}


def module_device(module) -> torch.device:
    """Device of a module's first parameter (CPU for a module without parameters)."""
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


class ModelOffloader:
    """Keeps only the models of the current stage on `device`; the others wait on the CPU.

    With SAM on the CPU during denoising and the UNets on the CPU during segmentation, the
    peak is the larger of the two groups instead of their sum (the real fp16 UNets are about
    1.7 GB each, SAM ViT-H about 2.5 GB in float32). Moving costs a host-device copy per stage,
    so it is off unless asked for (`ZoneEngine(offload=True)`, `zone bench --offload`).

    Args:
        bundle: the `ModelBundle` whose models move.
        device: the accelerator the active stage runs on.
        enabled: False makes `activate` a no-op (every model stays where it is).
    """

    def __init__(self, bundle, device: torch.device | str, enabled: bool = True):
        self.bundle = bundle
        self.device = torch.device(device)
        self.enabled = bool(enabled)
        self.moves = 0  # how many module moves happened (for tests and the bench)

    def _place(self, name: str, device: torch.device) -> None:
        module = getattr(self.bundle, name)
        if module_device(module) != device:
            module.to(device)
            self.moves += 1

    def activate(self, stage: str) -> None:
        """Moves `stage`'s models to the device and every other stage's models to the CPU."""
        if stage not in STAGE_MODELS:
            raise ValueError(f"unknown stage {stage!r}; use one of {sorted(STAGE_MODELS)}")
        if not self.enabled:
            return
        cpu = torch.device("cpu")
        # 1. Free memory first, then bring the stage's models in.
        for other, names in STAGE_MODELS.items():
            if other != stage:
                for name in names:
                    self._place(name, cpu)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        for name in STAGE_MODELS[stage]:
            self._place(name, self.device)
