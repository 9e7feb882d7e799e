"""The one in-memory pixel cache (storage/pixel_cache.py): least recently used out first, read-only views."""

from __future__ import annotations

import numpy as np
import pytest

from storage.pixel_cache import PixelCache


def test_budget_evicts_the_least_recently_used_and_keep_hands_out_read_only_views():
    cache = PixelCache(max_bytes=1000)
    a, b, c = (np.full(200, i, np.uint8) for i in range(3))
    cache.keep(("render", "a"), a)
    cache.keep(("render", "b"), b)
    assert cache.get(("render", "a")) is not None  # a is now more recent than b
    cache.keep(("render", "c"), c)
    cache.keep(("preview", "d"), np.zeros(200, np.uint8))
    cache.keep(("preview", "e"), np.zeros(201, np.uint8))  # over 1000 bytes: b, the oldest, goes
    assert cache.get(("render", "b")) is None and cache.get(("render", "a")) is not None
    view = cache.get(("render", "c"))
    with pytest.raises(ValueError):
        view[0] = 1  # handed out read-only
    c[0] = 1  # the caller's own array stays writable
    cache.put(("big",), np.zeros(501, np.uint8), 501)  # over half of the budget: not kept
    assert cache.get(("big",)) is None
    cache.clear()
    assert cache.get(("render", "a")) is None
