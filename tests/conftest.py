"""Shared fixtures: tiny seeded models, synthetic photos, and the shared real photos when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    """Every test's default history database is its own file: `zone edit` keeps a session by
    default, and no test may write the user's XDG data folder (a test that passes --db or sets
    ZONE_DB itself wins)."""
    monkeypatch.setenv("ZONE_DB", str(tmp_path / "zone-default.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def synthetic_photo() -> np.ndarray:
    """A smooth, textured, non-square RGB image [96, 128, 3] (deterministic)."""
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    r = 128 + 100 * np.sin(xx / 9.0)
    g = 128 + 100 * np.cos(yy / 7.0)
    b = (xx + yy) % 256
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


@pytest.fixture
def shared_image_path():
    """Path of a real photo from ../shared, or skip (a user's fresh clone has no ../shared)."""

    def get(name: str) -> Path:
        p = SHARED_IMAGES / name
        if not p.is_file():
            pytest.skip(f"../shared/data/images/{name} is not available")
        return p

    return get
