"""Wall-clock timing of named stages, counting GPU work (one timer for the engine and the benchmarks)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator, Optional

import torch


class StageTimer:
    """Accumulates milliseconds per named stage; on CUDA it synchronizes around each stage.

    Args:
        device: the device whose queued work a stage must include (a CPU device never syncs).

    Attributes:
        timings_ms: milliseconds per stage name, summed over repeated stages.
    """

    def __init__(self, device: Optional[torch.device | str] = None):
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.timings_ms: dict[str, float] = {}

    def sync(self) -> None:
        """Waits for the device's queued work (no-op on the CPU)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def add(self, name: str, ms: float) -> None:
        """Adds `ms` milliseconds to stage `name`."""
        self.timings_ms[name] = self.timings_ms.get(name, 0.0) + float(ms)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Times the block as stage `name` (added to earlier runs of the same stage)."""
        self.sync()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.sync()
            self.add(name, (time.perf_counter() - t0) * 1000.0)

    def wrap(self, name: str, fn):
        """`fn` timed as stage `name` on every call (e.g. a method of a library object)."""
        def timed(*args, **kwargs):
            with self.stage(name):
                return fn(*args, **kwargs)

        return timed
