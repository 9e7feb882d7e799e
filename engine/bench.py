"""`zone bench`: one ZONE turn timed stage by stage, the fast engine against the naive reference composition."""

from __future__ import annotations

import copy
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from engine.api import EditParams
from engine.errors import DeviceOutOfMemoryError
from engine.models import ModelBundle, build_tiny_tokenizer, default_scheduler_config, make_scheduler

INSTRUCTION = "make his tie blue"

# Rows of the per-stage table, in turn order; "attention" is aggregation plus eq. 4.
STAGES = ("text_encode", "vae_encode", "denoise", "attention", "vae_decode", "sam_encode",
          "mask_generation", "region_iou", "smooth", "composite")


# ----------------------------------------------------------------------------------------------
# Configurations: the real architectures with random weights, and a small one for the CPU
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """Architectures and turn size of one benchmark configuration.

    Attributes:
        name: registry key.
        size: side of the square test photo (the work size; no resize).
        steps: DPM-Solver++ steps.
        points_per_side: SAM's automatic-mask grid.
        unet, vae, text: keyword arguments of UNet2DConditionModel, AutoencoderKL, CLIPTextConfig.
        sam: "vit_h" (segment_anything's ViT-H) or "tiny:<img_size>" (`engine.refine.build_tiny_sam`).
    """

    name: str
    size: int
    steps: int
    points_per_side: int
    unet: dict
    vae: dict
    text: dict
    sam: str


SD15_UNET = dict(  # SD 1.5 / InstructPix2Pix UNet with 8 input channels
    sample_size=64, in_channels=8, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)
SD15_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512),
    layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=512, scaling_factor=0.18215,
)
SD15_TEXT = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
    num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
)

CONFIGS: dict[str, BenchConfig] = {
    "sd15": BenchConfig("sd15", size=512, steps=20, points_per_side=32, unet=SD15_UNET, vae=SD15_VAE,
                        text=SD15_TEXT, sam="vit_h"),
    "small": BenchConfig(
        "small", size=128, steps=4, points_per_side=16,
        unet={**SD15_UNET, "sample_size": 16, "layers_per_block": 1, "block_out_channels": (32, 64, 64, 64),
              "cross_attention_dim": 64},
        vae={**SD15_VAE, "block_out_channels": (32, 32, 64, 64), "layers_per_block": 1, "sample_size": 128},
        text={**SD15_TEXT, "vocab_size": 514, "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 2, "num_attention_heads": 4},
        sam="tiny:256",
    ),
}


def build_sam(spec: str, seed: int = 0):
    """SAM of `spec` ("vit_h" or "tiny:<img_size>") with random weights, eval mode."""
    if spec == "vit_h":
        from segment_anything import build_sam_vit_h

        torch.manual_seed(seed)
        return build_sam_vit_h(checkpoint=None).eval()
    if spec.startswith("tiny:"):
        from engine.refine import build_tiny_sam

        return build_tiny_sam(seed, img_size=int(spec.split(":", 1)[1]))
    raise ValueError(f"unknown SAM spec {spec!r}")


def build_bench_bundle(config: BenchConfig, device: torch.device, dtype: torch.dtype, seed: int = 0) -> ModelBundle:
    """The configuration's models with seeded random weights, on `device` (SAM in float32).

    Args:
        config: a `CONFIGS` entry.
        device: where the models run (they are created there directly).
        dtype: of the VAE, text encoder and UNets.
        seed: weights' seed (MagicBrush's UNet uses seed + 1).
    """
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_tiny_tokenizer()
    with torch.device(device):
        torch.manual_seed(seed)
        unet_ip2p = UNet2DConditionModel(**config.unet)
        torch.manual_seed(seed + 1)
        unet_mb = UNet2DConditionModel(**config.unet)
        torch.manual_seed(seed)
        vae = AutoencoderKL(**config.vae)
        text_encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **config.text))
        sam = build_sam(config.sam, seed)
    bundle = ModelBundle(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet_ip2p=unet_ip2p, unet_mb=unet_mb,
        scheduler_config=default_scheduler_config(), sam=sam,
        model_ids={"ip2p": f"random-{config.name}", "magicbrush": f"random-{config.name}", "sam": config.sam},
        sam_points_per_side=config.points_per_side, sam_points_per_batch=64,
    )
    return bundle.to(device, dtype).eval()


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
# Timing helpers
# ----------------------------------------------------------------------------------------------


class Stopwatch:
    """Accumulates wall-clock milliseconds per stage, synchronizing CUDA around each stage."""

    def __init__(self, device: torch.device):
        self.device = device
        self.ms: dict[str, float] = {}

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.sync()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.sync()
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000.0


# ----------------------------------------------------------------------------------------------
# The naive composition (the reference code's structure)
# ----------------------------------------------------------------------------------------------


class NaiveAttentionStore:
    """Keeps every attention map of at most 32^2 queries, per step and per place (the reference's store)."""

    MAX_QUERIES = 32 ** 2

    def __init__(self):
        self.step_store: dict[str, list[torch.Tensor]] = self._empty()
        self.steps: list[dict[str, list[torch.Tensor]]] = []

    @staticmethod
    def _empty() -> dict[str, list[torch.Tensor]]:
        return {f"{p}_{k}": [] for p in ("down", "mid", "up") for k in ("cross", "self")}

    def __call__(self, probs: torch.Tensor, is_cross: bool, place: str) -> None:
        if probs.shape[1] <= self.MAX_QUERIES:
            self.step_store[f"{place}_{'cross' if is_cross else 'self'}"].append(probs[probs.shape[0] // 3:])

    def end_step(self) -> None:
        self.steps.append(self.step_store)
        self.step_store = self._empty()

    def aggregate_cross(self, hw: tuple[int, int]) -> torch.Tensor:
        """Mean cross-attention at `hw` over steps, down/up layers, null-text branches and heads: [h, w, T]."""
        n = hw[0] * hw[1]
        maps = [m for step in self.steps for key in ("down_cross", "up_cross") for m in step[key] if m.shape[1] == n]
        stacked = torch.stack([m.float() for m in maps])  # [steps * layers, b * heads, N, T]
        return stacked.mean(dim=(0, 1)).reshape(hw[0], hw[1], -1)


class StoringAttnProcessor:
    """diffusers' plain `AttnProcessor` (explicit softmax, no fused kernel) that hands every map to a store."""

    def __init__(self, store: NaiveAttentionStore, place: str):
        self.store = store
        self.place = place

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        is_cross = encoder_hidden_states is not None
        residual = hidden_states
        ndim = hidden_states.ndim
        if ndim == 4:
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)  # [B, N, C]
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        if is_cross and attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)
        q = attn.head_to_batch_dim(attn.to_q(hidden_states))  # [B * heads, N, d]
        k = attn.head_to_batch_dim(attn.to_k(context))  # [B * heads, T, d]
        v = attn.head_to_batch_dim(attn.to_v(context))
        probs = attn.get_attention_scores(q, k, None)  # [B * heads, N, T]
        self.store(probs, is_cross, self.place)
        out = attn.batch_to_head_dim(torch.bmm(probs, v))
        out = attn.to_out[1](attn.to_out[0](out))
        if ndim == 4:
            out = out.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def register_naive_store(unet, store: NaiveAttentionStore) -> None:
    """Replaces every attention processor of `unet` with a storing plain processor."""
    procs = {}
    for name in unet.attn_processors:
        place = "down" if name.startswith("down") else "up" if name.startswith("up") else "mid"
        procs[name] = StoringAttnProcessor(store, place)
    unet.set_attn_processor(procs)


class NaiveTurn:
    """The reference code's turn: two float32 InstructPix2Pix pipelines stepped together, a full
    attention store, SAM's stock automatic mask generator, a Python Region-IoU loop and the numpy
    FFT smoother.

    Each pipeline has its own VAE and text encoder (copies of the bundle's, as two checkpoints
    would give) and encodes the prompt and the image itself. IP2P's UNet runs the store's plain
    processors on every attention layer; MagicBrush's keeps diffusers' default (SDPA).

    Args:
        bundle: the models (copied to float32; the bundle itself is left as it is).
        sam_thresholds: keyword arguments for `SamAutomaticMaskGenerator` (the engine's).
        device: where the naive models live while they run.
    """

    def __init__(self, bundle: ModelBundle, sam_thresholds: dict, device: torch.device):
        from diffusers import StableDiffusionInstructPix2PixPipeline

        self.device = device
        self.pipes = []
        for unet in (bundle.unet_ip2p, bundle.unet_mb):
            pipe = StableDiffusionInstructPix2PixPipeline(
                vae=copy.deepcopy(bundle.vae).float(), text_encoder=copy.deepcopy(bundle.text_encoder).float(),
                tokenizer=bundle.tokenizer, unet=copy.deepcopy(unet).float(),
                scheduler=make_scheduler(bundle.scheduler_config), safety_checker=None,
                feature_extractor=None, requires_safety_checker=False)
            pipe.set_progress_bar_config(disable=True)
            self.pipes.append(pipe)
        self.sam = copy.deepcopy(bundle.sam).float()
        self.sam_thresholds = dict(sam_thresholds)

    def to(self, device: torch.device) -> "NaiveTurn":
        for pipe in self.pipes:
            pipe.to(device)
        self.sam.to(device)
        return self

    @torch.no_grad()
    def run(self, image: np.ndarray, params: EditParams, points_per_side: int) -> tuple[dict[str, float], np.ndarray]:
        """One turn; returns per-stage milliseconds and the final full-resolution mask."""
        from segment_anything import SamAutomaticMaskGenerator

        from engine.compositing import LayerCompositor
        from engine.localize import rough_mask_from_attention
        from engine.refine import filter_small_regions, region_iou_reference, scale_region_px
        from engine.smoother import smooth_edges_reference

        dev = self.device
        sw = Stopwatch(dev)
        ip2p, mb = self.pipes
        h, w = image.shape[:2]
        store = NaiveAttentionStore()
        originals = dict(ip2p.unet.attn_processors)  # MagicBrush keeps diffusers' default (SDPA)
        register_naive_store(ip2p.unet, store)
        # 1. Each pipeline encodes the prompt ([text, null, null]) and the image itself.
        with sw.stage("text_encode"):
            embs = [p._encode_prompt(INSTRUCTION, dev, 1, True) for p in self.pipes]
        from PIL import Image

        with sw.stage("vae_encode"):
            img_lats = []
            for p in self.pipes:
                x = p.image_processor.preprocess(Image.fromarray(image))
                img_lats.append(p.prepare_image_latents(x, 1, 1, torch.float32, dev, True))
        # 2. Both chains stepped together, every attention map stored.
        with sw.stage("denoise"):
            for p in self.pipes:
                p.scheduler = make_scheduler(dict(p.scheduler.config))
                p.scheduler.set_timesteps(params.steps, device=dev)
            gen = torch.Generator(device="cpu").manual_seed(params.seed)
            z = torch.randn((1, 4, h // 8, w // 8), generator=gen).to(dev) * ip2p.scheduler.init_noise_sigma
            lat = [z.clone(), z.clone()]
            beta = params.effective_beta
            for t in ip2p.scheduler.timesteps:
                new = []
                for p, z_i, emb, il in zip(self.pipes, lat, embs, img_lats):
                    x = p.scheduler.scale_model_input(torch.cat([z_i] * 3), t)
                    noise = p.unet(torch.cat([x, il], 1), t, encoder_hidden_states=emb, return_dict=False)[0]
                    nt, ni, nu = noise.chunk(3)
                    guided = nu + params.text_scale * (nt - ni) + params.image_scale * (ni - nu)
                    new.append(p.scheduler.step(guided, t, z_i, return_dict=False)[0])
                lat = [(new[0] + beta * new[1]) / (1 + beta), new[1]]
                store.end_step()
        last = len(ip2p.tokenizer(INSTRUCTION).input_ids) - 1
        with sw.stage("attention"):
            hw32 = (-(-h // 32), -(-w // 32))
            attention = store.aggregate_cross(hw32).cpu()
            rough = rough_mask_from_attention(attention, last, (h, w))
        with sw.stage("vae_decode"):
            dec = ip2p.vae.decode(lat[0] / ip2p.vae.config.scaling_factor, return_dict=False)[0]
            canvas = ip2p.image_processor.postprocess(dec, output_type="np")[0]
            canvas = (canvas * 255).round().astype(np.uint8)
        # 3. SAM's stock automatic mask generator, timed encoder / the rest.
        generator = SamAutomaticMaskGenerator(self.sam, points_per_side=points_per_side, **self.sam_thresholds)
        set_image = generator.predictor.set_image
        enc_ms = [0.0]

        def timed_set_image(*a, **k):
            sw.sync()
            t0 = time.perf_counter()
            set_image(*a, **k)
            sw.sync()
            enc_ms[0] += (time.perf_counter() - t0) * 1000.0

        generator.predictor.set_image = timed_set_image
        target = image if params.action == "remove" else canvas
        with sw.stage("mask_generation"):
            records = generator.generate(target)
        sw.ms["sam_encode"] = enc_ms[0]
        sw.ms["mask_generation"] -= enc_ms[0]
        # 4. Region-IoU one segment at a time.
        with sw.stage("region_iou"):
            min_px = scale_region_px(params.min_region_px, h, w)
            rough_f = filter_small_regions(rough, min_px)
            segs = [r["segmentation"] for r in records]
            scores = region_iou_reference(segs, rough_f)
            refined = filter_small_regions(segs[int(np.argmax(scores))], min_px) if segs and max(scores) > 0 else rough_f
        with sw.stage("smooth"):
            smoothed = smooth_edges_reference(canvas, image, refined, dilate_iterations=params.dilate_iterations,
                                              d0=params.d0, threshold=params.fft_threshold,
                                              closing_kernel=params.closing_kernel)
        with sw.stage("composite"):
            comp = LayerCompositor(edge_alpha=params.edge_alpha)
            alpha = comp.alpha_at_work_size(refined, smoothed.mask, params)
            _, _, mask = comp.to_full_resolution(canvas, alpha, image)
        ip2p.unet.set_attn_processor(originals)
        return sw.ms, mask


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
        bundle = build_bench_bundle(cfg, dev, dt)
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
                torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
            if p == "naive":
                stages, mask = naive.run(image, params, pps)
            else:
                res = engines[p].edit(image, INSTRUCTION, params)
                stages, mask = engine_stage_ms(res.timings_ms), res.mask
            if cuda:
                torch.cuda.synchronize(dev)
            wall = (time.perf_counter() - t0) * 1000.0
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
    from engine.refine import MaskRefiner, build_tiny_sam
    from engine.registry import resolve_device

    dev = resolve_device(device)
    sam = build_tiny_sam(seed, img_size=sam_img_size).to(dev)
    image = bench_image(size, seed)
    rough = np.zeros((size, size), bool)
    rough[size // 4: size // 2, size // 3: 2 * size // 3] = True
    kw = dict(points_per_side=points_per_side, pred_iou_thresh=0.0, stability_score_thresh=0.0)
    refiners = {"stock": MaskRefiner(sam, **kw), "fast": FastMaskRefiner(sam, **kw)}
    sync = Stopwatch(dev).sync
    times: dict[str, list[float]] = {k: [] for k in refiners}
    results = {}
    for r in range(repeats + 1):  # the first round warms up
        for name, ref in refiners.items():
            sync()
            t0 = time.perf_counter()
            results[name] = ref.refine(rough, image)
            sync()
            if r:
                times[name].append((time.perf_counter() - t0) * 1000.0)
    med = {k: round(statistics.median(v), 1) for k, v in times.items()}
    return {"device": str(dev), "size": size, "sam_img_size": sam_img_size, "points_per_side": points_per_side,
            "repeats": repeats, "median_ms": med, "ratio": round(med["stock"] / med["fast"], 2),
            "num_segments": {k: v.num_segments for k, v in results.items()},
            "mask_iou": round(_mask_iou(results["stock"].mask, results["fast"].mask), 4)}
