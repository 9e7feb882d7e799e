"""Compositing: the fast path equals the plain formula and a per-pixel Python loop."""

from __future__ import annotations

import numpy as np

from storage.compose import compose_layer, compose_reference


def _loop(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    out = base.copy()
    for y in range(base.shape[0]):
        for x in range(base.shape[1]):
            a = int(layer[y, x, 3])
            for c in range(3):
                out[y, x, c] = (int(layer[y, x, c]) * a + int(base[y, x, c]) * (255 - a) + 127) // 255
    return out


def test_fast_matches_reference_and_loop():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    layer = rng.integers(0, 256, (13, 17, 4), dtype=np.uint8)
    layer[:3, :, 3] = 0
    layer[:, -2:, 3] = 255
    expected = _loop(base, layer)
    assert np.array_equal(compose_reference(base, layer), expected)
    assert np.array_equal(compose_layer(base, layer), expected)


def test_every_value_pair_exact():
    v = np.arange(256, dtype=np.uint8)
    base = np.repeat(v[:, None], 256, axis=1)[..., None].repeat(3, axis=2)
    layer = np.zeros((256, 256, 4), np.uint8)
    layer[..., :3] = 255 - v[None, :, None]
    layer[..., 3] = v[None, :]
    assert np.array_equal(compose_layer(base, layer), compose_reference(base, layer))


def test_alpha_extremes_and_base_untouched():
    rng = np.random.default_rng(4)
    base = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    keep = base.copy()
    layer = rng.integers(0, 256, (8, 9, 4), dtype=np.uint8)
    layer[..., 3] = 0
    assert np.array_equal(compose_layer(base, layer), base)
    layer[..., 3] = 255
    assert np.array_equal(compose_layer(base, layer), layer[..., :3])
    assert np.array_equal(base, keep)


def test_engine_compositing_agrees():
    """engine.compositing.composite_over and storage's compose_layer give identical bytes."""
    import pytest

    compositing = pytest.importorskip("engine.compositing")
    rng = np.random.default_rng(6)
    base = rng.integers(0, 256, (11, 12, 3), dtype=np.uint8)
    layer = rng.integers(0, 256, (11, 12, 4), dtype=np.uint8)
    layer[:2, :, 3] = 0
    layer[-2:, :, 3] = 255
    assert np.array_equal(np.asarray(compositing.composite_over(base, layer)), compose_layer(base, layer))
