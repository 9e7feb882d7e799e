"""Helpers shared by the storage tests: images, layers, commits, subprocess environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def make_image(h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    """A random [h, w, 3] uint8 image."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_layer(h: int = 24, w: int = 32, seed: int = 1) -> np.ndarray:
    """A random RGBA layer: a box of random colours and alphas (incl. 0 and 255), 0 elsewhere."""
    rng = np.random.default_rng(seed)
    layer = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    alpha = np.zeros((h, w), np.uint8)
    alpha[y0:y0 + h // 2, x0:x0 + w // 2] = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
    alpha[y0, x0], alpha[y0 + 1, x0] = 255, 0
    layer[..., 3] = alpha
    return layer


def commit_layer(store, session_id: str, seed: int, text: str = "edit", parent: str | None = None):
    """Commit a random layer; return its VersionInfo."""
    info = store.get_session(session_id)
    layer = make_layer(info.height, info.width, seed)
    return store.commit(session_id, layer=layer, mask=layer[..., 3] > 0, instruction=text,
                        action="change", params={"seed": seed}, timings_ms={"blend": 1.5}, parent=parent)


def subprocess_env() -> dict[str, str]:
    """Environment for `python` subprocesses that import the repository's packages."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env



def as_stored(layer: np.ndarray) -> np.ndarray:
    """A full-size layer as the store gives it back: zeros outside the box of alpha > 0 (the crop it keeps)."""
    from storage.crops import crop_layer

    return crop_layer(layer, layer[..., 3] > 0).full_planes(*layer.shape[:2])[0]
