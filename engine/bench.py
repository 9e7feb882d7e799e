"""`zone bench`: one ZONE turn timed stage by stage, the fast engine against the naive reference composition.

The models are random-weight bundles from `engine.bundles.BUNDLE_SPECS` (the real architectures
for "sd15", CPU-sized ones for "small"); the naive composition is in `engine.naive`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from engine.api import EditParams
from engine.bundles import BUNDLE_SPECS, BundleSpec
from engine.errors import DeviceOutOfMemoryError
from engine.naive import INSTRUCTION, NaiveTurn
from engine.timing import StageTimer

# Rows of the per-stage table, in turn order; "attention" is aggregation plus eq. 4.
STAGES = ("text_encode", "vae_encode", "denoise", "attention", "vae_decode", "sam_encode",
          "mask_generation", "region_iou", "smooth", "composite")


@dataclass(frozen=True)
class BenchConfig:
    """The turn one benchmark configuration times.

    Attributes:
        name: registry key (also the `BUNDLE_SPECS` key of its models).
        size: side of the square test photo (the work size; no resize).
        steps: DPM-Solver++ steps.
        points_per_side: SAM's automatic-mask grid.
    """

    name: str
    size: int
    steps: int
    points_per_side: int

    @property
    def bundle(self) -> BundleSpec:
        return BUNDLE_SPECS[self.name]


CONFIGS: dict[str, BenchConfig] = {
    "sd15": BenchConfig("sd15", size=512, steps=20, points_per_side=32),
    "small": BenchConfig("small", size=128, steps=4, points_per_side=16),
}

def bench_image(size: int, seed: int = 0) -> np.ndarray:
    """A deterministic photo-like test image: smooth gradients and a few flat shapes, uint8 [size, size, 3]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    img = np.stack([0.3 + 0.4 * xx, 0.2 + 0.5 * yy, 0.5 + 0.3 * xx * yy], -1)  # [s, s, 3]
    for _ in range(5):
        cy, cx, r = rng.random(3) * [1, 1, 0.25] + [0, 0, 0.08]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        img[disc] = rng.random(3)
    return (img * 255).round().astype(np.uint8)



# ----------------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------------


def engine_stage_ms(timings: dict[str, float]) -> dict[str, float]:
    """Maps `EditResult.timings_ms` of the engine onto `STAGES` (plain engines report "segment" whole)."""
    t = dict(timings)
    out = {k: t.get(k, 0.0) for k in ("text_encode", "vae_encode", "denoise", "vae_decode", "smooth", "composite")}
    out["attention"] = t.get("localize", 0.0)
    if "segment.sam_encode" in t:
        out["sam_encode"] = t["segment.sam_encode"]
        out["mask_generation"] = t["segment.mask_generation"]
        out["region_iou"] = t["segment.region_iou"]
    else:
        out["sam_encode"], out["mask_generation"], out["region_iou"] = 0.0, t.get("segment", 0.0), 0.0
    return out


@dataclass
class BenchResult:
    """Medians over the timed repeats, per path ("fast", "plain", "naive")."""

    config: str
    device: str
    dtype: str
    size: int
    steps: int
    points_per_side: int
    repeats: int
    stages_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    total_ms: dict[str, float] = field(default_factory=dict)
    warmup_ms: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: dict[str, Optional[float]] = field(default_factory=dict)
    mask_iou_vs_naive: dict[str, float] = field(default_factory=dict)
    ratio: Optional[float] = None  # naive total / fast total
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)

    def table(self) -> str:
        paths = list(self.total_ms)
        head = f"{'stage (ms, median)':22s}" + "".join(f"{p:>12s}" for p in paths)
        lines = [f"zone bench: config {self.config}, {self.size}x{self.size}, {self.steps} steps, "
                 f"SAM grid {self.points_per_side}, {self.device} {self.dtype}, median of {self.repeats}", head]
        for s in STAGES:
            lines.append(f"{s:22s}" + "".join(f"{self.stages_ms[p].get(s, 0.0):12.1f}" for p in paths))
        lines.append(f"{'total':22s}" + "".join(f"{self.total_ms[p]:12.1f}" for p in paths))
        lines.append(f"{'warm-up turn':22s}" + "".join(f"{self.warmup_ms[p]:12.1f}" for p in paths))
        mem = "".join(f"{v:12.0f}" if v is not None else f"{'n/a':>12s}" for v in self.peak_memory_mb.values())
        lines.append(f"{'peak memory (MB)':22s}" + mem)
        if self.ratio is not None:
            lines.append(f"naive / fast: {self.ratio:.2f}x")
        for p, v in self.mask_iou_vs_naive.items():
            lines.append(f"mask IoU {p} vs naive: {v:.4f}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def run_bench(config: str = "small", *, size: Optional[int] = None, steps: Optional[int] = None,
              device: str = "auto", dtype: Optional[str] = None, repeats: int = 3,
              paths: tuple[str, ...] = ("fast", "naive"), offload: bool = False, compile_unets: bool = False,
              points_per_side: Optional[int] = None, log: Callable[[str], None] | None = None) -> BenchResult:
    """Builds the configuration's random-weight models and times one turn per path, interleaved.

    Args:
        config: "sd15" (the real architectures) or "small" (CPU-sized).
        size, steps, points_per_side: override the configuration's turn.
        device: "auto", "cpu" or "cuda".
        dtype: of the fast and plain engines (None: float16 on CUDA, float32 on the CPU); the
            naive path is always float32, like the reference.
        repeats: timed turns per path after one warm-up turn each; medians are reported.
        paths: any of "fast" (ZoneEngine fast=True), "plain" (ZoneEngine fast=False), "naive".
        offload: the engines keep idle models on the CPU.
        compile_unets: `torch.compile` MagicBrush's UNet (its compile time lands in the warm-up turn).
        log: receives progress lines.
    """
    from engine.bundles import build_bundle
    from engine.pipeline import ZoneEngine
    from engine.registry import resolve_device, resolve_dtype

    say = log or (lambda line: None)
    if config not in CONFIGS:
        raise ValueError(f"unknown config {config!r}; use one of {', '.join(CONFIGS)}")
    cfg = CONFIGS[config]
    dev = resolve_device(device)
    dt = resolve_dtype(dev, dtype)
    size = int(size or cfg.size)
    if size % 32:
        raise ValueError("--size must be a multiple of 32")
    steps = int(steps or cfg.steps)
    pps = int(points_per_side or cfg.points_per_side)
    cuda = dev.type == "cuda"
    params = EditParams(action="change", seed=0, steps=steps, work_size=size, points_per_side=pps)
    image = bench_image(size)
    result = BenchResult(config, str(dev), str(dt).replace("torch.", ""), size, steps, pps, repeats)
    result.notes.append("random weights; SAM thresholds relaxed to 0 on every path (random SAM masks "
                        "would fail the defaults and skip the post-processing a real turn pays for)")

    try:
        say(f"building {config} models on {dev} ({result.dtype})")
        bundle = build_bundle(cfg.bundle, device=dev, dtype=dt)
        engines = {}
        for p in paths:
            if p in ("fast", "plain"):
                engines[p] = ZoneEngine(f"bench-{p}", lambda b=bundle: b, meaningful=False, fast=(p == "fast"),
                                        offload=offload, compile_unets=compile_unets and p == "fast",
                                        default_work_size=size, device=dev)
        naive = None
        if "naive" in paths:
            thresholds = ZoneEngine("t", lambda: bundle, meaningful=False).refiner_thresholds()
            naive = NaiveTurn(bundle, thresholds, dev)
            if cuda:
                naive.to(torch.device("cpu"))

        def one_turn(p: str) -> tuple[dict[str, float], float, np.ndarray, Optional[float]]:
            if cuda:  # only this path's models on the GPU, so that its peak is its own
                if p == "naive":
                    bundle.to("cpu")
                    naive.to(dev)
                else:
                    if naive is not None:
                        naive.to(torch.device("cpu"))
                    if not offload:  # with offload the engine's offloader places the models
                        bundle.to(dev)
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(dev)
            timer = StageTimer(dev)
            with timer.stage("turn"):
                if p == "naive":
                    stages, mask = naive.run(image, params, pps)
                else:
                    res = engines[p].edit(image, INSTRUCTION, params)
                    stages, mask = engine_stage_ms(res.timings_ms), res.full_mask()
            wall = timer.timings_ms["turn"]
            peak = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else None
            return stages, wall, mask, peak

        # 1. Warm-up (compilation, kernel selection, allocator), then interleaved timed repeats.
        masks = {}
        for p in paths:
            say(f"warm-up: {p}")
            _, wall, masks[p], _ = one_turn(p)
            result.warmup_ms[p] = round(wall, 1)
        runs: dict[str, list] = {p: [] for p in paths}
        for r in range(repeats):
            for p in paths:
                say(f"repeat {r + 1}/{repeats}: {p}")
                runs[p].append(one_turn(p))
    except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - needs a GPU
        torch.cuda.empty_cache()
        raise DeviceOutOfMemoryError("the GPU ran out of memory during the benchmark; try --offload, "
                                     "a smaller --size, --paths fast, or --config small") from exc

    # 2. Medians per stage and of the whole turn.
    for p in paths:
        result.stages_ms[p] = {s: round(statistics.median(run[0].get(s, 0.0) for run in runs[p]), 2) for s in STAGES}
        result.total_ms[p] = round(statistics.median(run[1] for run in runs[p]), 2)
        peaks = [run[3] for run in runs[p] if run[3] is not None]
        result.peak_memory_mb[p] = round(max(peaks), 1) if peaks else None
        if "naive" in paths and p != "naive":
            result.mask_iou_vs_naive[p] = round(_mask_iou(masks[p], masks["naive"]), 4)
    if "naive" in paths and "fast" in paths:
        result.ratio = round(result.total_ms["naive"] / result.total_ms["fast"], 3)
    if compile_unets and "fast" in paths:
        result.notes.append("torch.compile: compile time is in the fast warm-up turn "
                            f"({result.warmup_ms['fast'] - result.total_ms['fast']:.0f} ms over a timed turn)")
    if not cuda:
        result.notes.append("CPU run: peak GPU memory n/a")
    return result


def run_segment_bench(*, size: int = 512, sam_img_size: int = 1024, points_per_side: int = 32,
                      device: str = "auto", repeats: int = 3, seed: int = 0) -> dict:
    """Refinement only, at the real resolutions: stock `MaskRefiner` against `FastMaskRefiner`.

    A narrow random SAM (`build_tiny_sam`) with the real input size (1024, so the decoder's grid
    is 256 x 256) on a `size` x `size` photo with the real point grid: what the stock generator
    pays for post-processing every mask at full resolution is all there, the ViT-H encoder is not.
    Thresholds are relaxed to 0 on both (random weights). Runs interleaved; medians in ms.
    """
    from engine.fastsam import FastMaskRefiner
    from engine.bundles import build_tiny_sam
    from engine.refine import MaskRefiner
    from engine.registry import resolve_device

    dev = resolve_device(device)
    sam = build_tiny_sam(seed, img_size=sam_img_size).to(dev)
    image = bench_image(size, seed)
    rough = np.zeros((size, size), bool)
    rough[size // 4: size // 2, size // 3: 2 * size // 3] = True
    kw = dict(points_per_side=points_per_side, pred_iou_thresh=0.0, stability_score_thresh=0.0)
    refiners = {"stock": MaskRefiner(sam, **kw), "fast": FastMaskRefiner(sam, **kw)}
    times: dict[str, list[float]] = {k: [] for k in refiners}
    results = {}
    for r in range(repeats + 1):  # the first round warms up
        for name, ref in refiners.items():
            timer = StageTimer(dev)
            with timer.stage(name):
                results[name] = ref.refine(rough, image)
            if r:
                times[name].append(timer.timings_ms[name])
    med = {k: round(statistics.median(v), 1) for k, v in times.items()}
    return {"device": str(dev), "size": size, "sam_img_size": sam_img_size, "points_per_side": points_per_side,
            "repeats": repeats, "median_ms": med, "ratio": round(med["stock"] / med["fast"], 2),
            "num_segments": {k: v.num_segments for k, v in results.items()},
            "mask_iou": round(_mask_iou(results["stock"].mask, results["fast"].mask), 4)}
