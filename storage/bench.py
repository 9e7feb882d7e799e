"""Storage benchmark: HEAD moves at depth 10 vs 1000 and cached renders at depth 1 vs 200.

Run: `python -m storage.bench [--size 512] [--deep 1000] [--repeat 200]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Callable

import numpy as np

from storage.history import HistoryStore


def photo_like(size: int, rng: np.random.Generator) -> np.ndarray:
    """Return a [size, size, 3] image that compresses like a photo: smooth gradients plus grain."""
    ramp = np.linspace(0.0, 1.0, size)
    r = np.add.outer(ramp, ramp) * 120
    g = np.add.outer(ramp, 1 - ramp) * 110
    b = np.outer(np.sin(ramp * 6) + 1.2, np.ones(size)) * 90
    grain = rng.normal(0.0, 4.0, (size, size, 3))
    return np.clip(np.stack([r, g, b], axis=-1) + grain, 0, 255).astype(np.uint8)


def build_line(store: HistoryStore, depth: int, size: int, seed: int = 0) -> tuple[str, list[str]]:
    """Create a session with `depth` commits in a line; return (session id, version ids root..tip).

    Each layer is an opaque-ish square of random colour at a random place (a local edit).
    """
    rng = np.random.default_rng(seed)
    image = photo_like(size, rng)
    session = store.create_session(image, name=f"bench-{depth}")
    ids = [session.head_version_id]
    side = max(2, size // 8)
    for i in range(depth):
        layer = np.zeros((size, size, 4), np.uint8)
        y, x = rng.integers(0, size - side, 2)
        layer[y:y + side, x:x + side, :3] = rng.integers(0, 256, 3, dtype=np.uint8)
        layer[y:y + side, x:x + side, 3] = rng.integers(1, 256)
        v = store.commit(session.id, layer=layer, mask=layer[..., 3] > 0, instruction=f"edit {i}",
                         action="change", params={"seed": i}, timings_ms={})
        ids.append(v.id)
    return session.id, ids


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of `fn` in milliseconds over `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def _timed(bucket: list[float], fn: Callable[[], object]) -> None:
    """Run `fn` and append its wall time in ms to `bucket`."""
    t0 = time.perf_counter()
    fn()
    bucket.append((time.perf_counter() - t0) * 1000.0)


def measure_moves(store: HistoryStore, lines: dict[str, tuple[str, list[str]]],
                  repeat: int, stat=statistics.median) -> dict[str, dict[str, float]]:
    """ms of undo, redo, checkout (by id prefix) and branch at the tip of each line (median by default).

    The lines are measured interleaved (one operation on each in turn), so that drift in the
    machine's speed (disk flushes, other processes) affects every depth alike.
    """
    times = {k: {op: [] for op in ("undo", "redo", "checkout", "branch")} for k in lines}
    for sid, ids in lines.values():
        store.checkout(sid, ids[-1])
    for i in range(repeat):
        for key, (sid, ids) in lines.items():
            t = times[key]
            _timed(t["undo"], lambda: store.undo(sid))
            _timed(t["redo"], lambda: store.redo(sid))
            _timed(t["checkout"], lambda: store.checkout(sid, ids[-2][:10]))
            _timed(t["checkout"], lambda: store.checkout(sid, ids[-1][:10]))
            _timed(t["branch"], lambda: store.branch(sid, f"b{i}", at=ids[-1]))
    return {k: {op: stat(v) for op, v in t.items()} for k, t in times.items()}


def run(size: int, shallow: int, deep: int, render_depth: int, repeat: int, url: str | None) -> dict:
    """Run every measurement in one process against one database; return the numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(url or os.path.join(tmp, "bench.db"))
        t0 = time.perf_counter()
        lines = {f"depth_{shallow}": build_line(store, shallow, 64, seed=1),
                 f"depth_{deep}": build_line(store, deep, 64, seed=2)}
        build_s = time.perf_counter() - t0
        moves = measure_moves(store, lines, repeat)
        s_r, ids_r = build_line(store, render_depth, size, seed=3)
        uncached = median_ms(lambda: store.render(s_r, ids_r[-1]), 1)  # composes every layer
        store.render(s_r, ids_r[1])
        r1, rdeep = [], []
        for _ in range(max(5, repeat // 10)):
            _timed(r1, lambda: store.render(s_r, ids_r[1]))
            _timed(rdeep, lambda: store.render(s_r, ids_r[-1]))
        store.close()
    small, big = moves[f"depth_{shallow}"], moves[f"depth_{deep}"]
    return {
        "build_s": round(build_s, 2), "commits": shallow + deep, "repeat": repeat,
        "moves_ms": moves,
        "moves_ratio": {op: big[op] / small[op] for op in small},
        "render_ms": {f"uncached_depth_{render_depth}": uncached,
                      "cached_depth_1": statistics.median(r1),
                      f"cached_depth_{render_depth}": statistics.median(rdeep)},
        "render_ratio": statistics.median(rdeep) / statistics.median(r1), "render_size": size,
    }


def measure_full_resolution(height: int, width: int, url: str | None) -> dict[str, float]:
    """Seconds (wall and this process's CPU) for one session at full resolution: create, commit,
    render, export, undo; then exports from a store with nothing in memory (a new `zone export`)."""
    rng = np.random.default_rng(0)
    tile = photo_like(1000, rng)
    image = np.tile(tile, (height // 1000 + 1, width // 1000 + 1, 1))[:height, :width]
    layer = np.zeros((height, width, 4), np.uint8)
    y, x, side = height // 3, width // 3, min(height, width) // 3
    layer[y:y + side, x:x + side] = (200, 120, 40, 180)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(url or os.path.join(tmp, "full.db"))
        t0 = time.perf_counter()
        sid = store.create_session(image, name="full").id
        out["create_session_s"] = round(time.perf_counter() - t0, 3)
        steps: list[tuple[str, Callable[[], object]]] = [
            ("commit", lambda: store.commit(sid, layer=layer, mask=layer[..., 3] > 0,
                                            instruction="bench", action="change")),
            ("render_first", lambda: store.render(sid)),
            ("render_cached", lambda: store.render(sid)),
            ("export_png", lambda: store.export(sid, "HEAD", os.path.join(tmp, "a.png"))),
            ("export_ora", lambda: store.export(sid, "HEAD", os.path.join(tmp, "a.ora"))),
            ("undo", lambda: store.undo(sid)),
        ]
        for name, fn in steps:
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            out[f"{name}_s"] = round(time.perf_counter() - t0, 3)
            out[f"{name}_cpu_s"] = round(time.process_time() - c0, 3)  # all threads of this process
        fresh = HistoryStore(url or os.path.join(tmp, "full.db"))  # a new process: nothing in memory
        edited = fresh.tree(sid)[-1].id
        for name, fn in [("export_png_cold", lambda: fresh.export(sid, edited, os.path.join(tmp, "b.png"))),
                         ("export_ora_cold", lambda: fresh.export(sid, edited, os.path.join(tmp, "b.ora")))]:
            fresh.pixels.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            out[f"{name}_s"] = round(time.perf_counter() - t0, 3)
            out[f"{name}_cpu_s"] = round(time.process_time() - c0, 3)
        fresh.close()
        store.close()
        path = os.path.join(tmp, "full.db")
        if url is None and os.path.exists(path):
            out["db_mb"] = round(os.path.getsize(path) / 1e6, 1)
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: prints the numbers as JSON."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=512, help="side of the rendered image in pixels")
    p.add_argument("--shallow", type=int, default=10)
    p.add_argument("--deep", type=int, default=1000)
    p.add_argument("--render-depth", type=int, default=200)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    p.add_argument("--fullres", metavar="HxW", default=None,
                   help="instead, time one full-resolution session, e.g. 3000x4000")
    a = p.parse_args(argv)
    if a.fullres:
        h, w = (int(v) for v in a.fullres.lower().split("x"))
        print(json.dumps(measure_full_resolution(h, w, a.db), indent=2))
        return
    print(json.dumps(run(a.size, a.shallow, a.deep, a.render_depth, a.repeat, a.db), indent=2))


if __name__ == "__main__":
    main()
