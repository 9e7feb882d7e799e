"""A process-local, size-bounded cache of decoded pixels, so a layer operation recomposes in memory.

Blobs are content-addressed and immutable, so a decoded blob keyed by its SHA-256 never goes
stale; a version's render is a pure function of its (immutable) path, so it may be kept by version
id (the engine's composite of a new version seeds it: `HistoryStore.commit(composite=)`). Previews
are kept by version id too. Arrays are stored read-only and handed out as they are; callers that
draw on one copy it first. The one pixel cache of a HistoryStore (`HistoryStore.pixels`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

# 512 MiB: a 64 MP photo's original and its newest render (183 MiB each) fit together, so the
# engine's composite still seeds the render there (storage/rendering.py; BENCHMARKS.md, issue 13).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


class PixelCache:
    """An LRU of numpy arrays (or objects with an `nbytes`) bounded by their total size.

    Args:
        max_bytes: the budget; an item larger than half of it is not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int) -> None:
        if nbytes > self.max_bytes // 2:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes and self._items:
                _, (_, size) = self._items.popitem(last=False)
                self._bytes -= size

    def keep(self, key: Hashable, array: Any) -> Any:
        """Store a read-only view of `array` under `key` and return that view.

        The caller must not change `array` afterwards (the view shares its memory).
        """
        import numpy as np

        value = np.asarray(array).view()
        value.setflags(write=False)
        self.put(key, value, value.nbytes)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], Any], nbytes: Callable[[Any], int]) -> Any:
        """The cached value of `key`, or `make()` (then cached)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value, nbytes(value))
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
