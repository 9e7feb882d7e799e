"""`zone bench --overhead`: the cost of a turn outside the models, against today's full-plane path.

A chat turn at full resolution does, besides running the models: read and resize the parent,
bring the edit to full resolution and composite it, commit it, draw the pane's picture, and
prepare the next turn's work image. This times those steps with a synthetic engine output (no
model runs) on a photo-like image, and in the same run the path Zone took before layer crops:

* baseline: decode the parent's full-size cached render (PNG) and resize it; full-plane layer
  (every stage at full size); commit full-size layer and mask PNGs; recompose from PNGs (original
  + layer) and write a full-size PNG render cache, as the TUI's render did; the pane's picture
  from the full-size render; the next turn's work image from the full-size cache PNG.
* overhead (now): the parent from memory (the previous turn's composite) and the work image
  from its preview; the layer computed in its bounding box; commit of the crop (zstd) with the
  preview; the pane's picture and the next work image from the preview.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

VIEW_SIDE = 768  # the pane's picture (tui.widgets.image_pane.DISPLAY_MAX_SIDE)
WORK_SIDE = 512  # the real engine's work size


@dataclass
class OverheadResult:
    """Median milliseconds per stage of both paths and their totals."""

    size: tuple[int, int]
    layer_frac: float
    repeats: int
    overhead: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    cold_read_ms: float = 0.0
    overhead_cpu: dict[str, float] = field(default_factory=dict)  # this process's CPU time per stage
    baseline_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def overhead_ms(self) -> float:
        return sum(self.overhead.values())

    @property
    def baseline_ms(self) -> float:
        return sum(self.baseline.values())

    @property
    def ratio(self) -> float:
        return self.baseline_ms / max(self.overhead_ms, 1e-9)

    @property
    def cpu_ratio(self) -> float:
        return sum(self.baseline_cpu.values()) / max(sum(self.overhead_cpu.values()), 1e-9)

    def to_dict(self) -> dict:
        return {"size": list(self.size), "layer_frac": self.layer_frac, "repeats": self.repeats,
                "overhead_ms": round(self.overhead_ms, 1), "baseline_ms": round(self.baseline_ms, 1),
                "ratio": round(self.ratio, 2), "cold_read_ms": round(self.cold_read_ms, 1),
                "overhead_cpu_ms": round(sum(self.overhead_cpu.values()), 1),
                "baseline_cpu_ms": round(sum(self.baseline_cpu.values()), 1), "cpu_ratio": round(self.cpu_ratio, 2),
                "stages_ms": {"overhead": {k: round(v, 1) for k, v in self.overhead.items()},
                              "baseline": {k: round(v, 1) for k, v in self.baseline.items()}}}

    def table(self) -> str:
        h, w = self.size
        lines = [f"outside the models, {h}x{w} ({h * w / 1e6:.1f} MP), edit covering {self.layer_frac:.0%}, "
                 f"median of {self.repeats}", f"{'stage':24s}{'now':>10s}{'before':>10s}"]
        for key in self.baseline:
            lines.append(f"{key:24s}{self.overhead.get(key, 0.0):10.1f}{self.baseline[key]:10.1f}")
        lines.append(f"{'total ms':24s}{self.overhead_ms:10.1f}{self.baseline_ms:10.1f}")
        lines.append(f"{'CPU ms (this process)':24s}{sum(self.overhead_cpu.values()):10.1f}"
                     f"{sum(self.baseline_cpu.values()):10.1f}")
        lines.append(f"ratio (before / now): {self.ratio:.1f}x wall, {self.cpu_ratio:.1f}x CPU; reading the parent "
                     f"in a new process: {self.cold_read_ms:.0f} ms")
        return "\n".join(lines)


def photo_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A [h, w, 3] image that compresses like a photo (smooth gradients and grain, 1000 px tiles)."""
    from storage.bench import photo_like as tile_like

    tile = tile_like(min(1000, max(h, w)), np.random.default_rng(seed))
    reps = (h // tile.shape[0] + 1, w // tile.shape[1] + 1, 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:h, :w])


def synthetic_edit(work: np.ndarray, layer_frac: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the engine hands to blending: I_sty, M_f and M*_f at work size, the edit a centred
    box of `layer_frac` of the area (the whole image at 1)."""
    h, w = work.shape[:2]
    side = float(np.sqrt(max(0.0, min(1.0, layer_frac))))
    bh, bw = max(1, round(h * side)), max(1, round(w * side))
    t, l = (h - bh) // 2, (w - bw) // 2
    refined = np.zeros((h, w), bool)
    refined[t:t + bh, l:l + bw] = True
    smoothed = np.zeros((h, w), bool)
    smoothed[max(0, t - 2):t + bh + 2, max(0, l - 2):l + bw + 2] = True
    canvas = work.copy()
    canvas[refined] = (canvas[refined].astype(np.uint16) * 3 // 4 + 60).astype(np.uint8)
    return canvas, refined, smoothed


def full_plane_layer(canvas: np.ndarray, alpha: np.ndarray, original: np.ndarray):
    """Today's path before crops: every stage at full size (the former `to_full_resolution`)."""
    from engine.compositing import composite_over
    from engine.imageio import resize_float, resize_mask, resize_rgb

    size = original.shape[:2]
    hard = resize_mask(alpha > 0, size, "bilinear")
    alpha_full = np.where(hard, resize_float(alpha, size, "bilinear"), 0.0)
    a_u8 = np.clip(np.rint(alpha_full * 255.0), 0, 255).astype(np.uint8)
    rgb = resize_rgb(canvas.astype(np.uint8), size, "lanczos")
    mask = a_u8 > 0
    layer = np.zeros(size + (4,), np.uint8)
    layer[..., :3] = np.where(mask[..., None], rgb, 0)
    layer[..., 3] = a_u8
    return layer, composite_over(original, layer), mask


def _timed(bucket: dict[str, list[tuple[float, float]]], key: str, fn: Callable[[], object]) -> object:
    """Run `fn`; append (wall ms, CPU ms of this process) to bucket[key]; return its result."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    bucket.setdefault(key, []).append(((time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0))
    return out


def run_overhead_bench(height: int, width: int, layer_frac: float = 0.1, repeats: int = 3,
                       log: Callable[[str], None] | None = None) -> OverheadResult:
    """Time both paths `repeats` times, interleaved, in one process and one database; medians.

    Args:
        height, width: the photo's size.
        layer_frac: the share of the photo the edit covers (0 < f <= 1).
        repeats: timed turns per path.
        log: receives progress lines.
    """
    from engine.compositing import LayerCompositor
    from engine.imageio import resize_rgb, work_size_hw
    from storage.blobs import decode_png, encode_png, get_blob, put_blob
    from storage.compose import compose_layer
    from storage.history import HistoryStore

    from agent.views import fit

    say = log or (lambda line: None)
    image = photo_like(height, width)
    wh = work_size_hw(height, width, WORK_SIDE)
    now: dict[str, list[tuple[float, float]]] = {}
    before: dict[str, list[tuple[float, float]]] = {}
    cold: list[float] = []
    compositor = LayerCompositor()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.path.join(tmp, "bench.db")
        store = HistoryStore(url)
        sid = store.create_session(image, name="overhead").id
        with store._write() as db:  # today's parent: a full-size PNG render cache entry
            parent_png_sha = put_blob(db, encode_png(image, level=1), "render")
        original_png = encode_png(image)
        for i in range(repeats):
            say(f"turn {i + 1}/{repeats}: now")
            parent_id = store.head(sid).id
            # -- now ---------------------------------------------------------------------------
            parent = _timed(now, "read_parent", lambda: store.render(sid, parent_id))
            work = _timed(now, "work_image", lambda: resize_rgb(store.preview(sid, parent_id), wh))
            canvas, refined, smoothed = synthetic_edit(work, layer_frac)

            def blend():
                alpha = compositor.alpha_at_work_size(refined, smoothed)
                return compositor.to_full_resolution_crop(canvas, alpha, parent)

            full = _timed(now, "composite_full_res", blend)
            version = _timed(now, "commit", lambda: store.commit(
                sid, layer=full.rgba, mask=full.mask, offset=(full.top, full.left), composite=full.composite,
                instruction=f"bench {i}", action="change", parent=parent_id))
            _timed(now, "view", lambda: fit(store.preview(sid, version.id), (VIEW_SIDE, VIEW_SIDE)))
            _timed(now, "next_work_image", lambda: resize_rgb(store.preview(sid, version.id), wh))
            fresh = HistoryStore(url)
            t0 = time.perf_counter()
            fresh.render(sid, version.id)
            cold.append((time.perf_counter() - t0) * 1000.0)
            fresh.close()
            # -- before ------------------------------------------------------------------------
            say(f"turn {i + 1}/{repeats}: before")

            def read_before():
                with store._read() as db:
                    return decode_png(get_blob(db, parent_png_sha, "render"), "RGB", "render")

            parent_b = _timed(before, "read_parent", read_before)
            work_b = _timed(before, "work_image", lambda: resize_rgb(parent_b, wh))
            canvas_b, refined_b, smoothed_b = synthetic_edit(work_b, layer_frac)

            def blend_before():
                alpha = compositor.alpha_at_work_size(refined_b, smoothed_b)
                return full_plane_layer(canvas_b, alpha, parent_b)

            layer_b, _, mask_b = _timed(before, "composite_full_res", blend_before)

            def commit_before():
                layer_png, mask_png = encode_png(layer_b), encode_png(mask_b)
                with store._write() as db:
                    return put_blob(db, layer_png, "layer"), put_blob(db, mask_png, "mask")

            layer_sha, _ = _timed(before, "commit", commit_before)

            def render_before():  # the TUI asked storage to render: PNGs again, then a cache write
                with store._read() as db:
                    base = decode_png(original_png, "RGB", "original")
                    layer = decode_png(get_blob(db, layer_sha, "layer"), "RGBA", "layer")
                out = compose_layer(base, layer)
                data = encode_png(out, level=1)
                with store._write() as db:
                    return out, put_blob(db, data, "render")

            render_b, cache_sha = _timed(before, "recompose_and_cache", render_before)
            _timed(before, "view", lambda: fit(render_b, (VIEW_SIDE, VIEW_SIDE)))

            def next_before():
                with store._read() as db:
                    return resize_rgb(decode_png(get_blob(db, cache_sha, "render"), "RGB", "render"), wh)

            _timed(before, "next_work_image", next_before)
        store.close()
    order = ["read_parent", "work_image", "composite_full_res", "commit", "recompose_and_cache", "view",
             "next_work_image"]
    now.setdefault("recompose_and_cache", [(0.0, 0.0)])  # nothing to do now: the engine's composite is the render

    def medians(bucket: dict, which: int) -> dict[str, float]:
        return {k: statistics.median(x[which] for x in bucket[k]) for k in order}

    return OverheadResult(size=(height, width), layer_frac=layer_frac, repeats=repeats,
                          overhead=medians(now, 0), baseline=medians(before, 0),
                          cold_read_ms=statistics.median(cold), overhead_cpu=medians(now, 1),
                          baseline_cpu=medians(before, 1))
