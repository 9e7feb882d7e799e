"""Cost of cross-attention capture: the fused loop with capture vs the same loop without, interleaved."""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from engine.bundles import build_bundle
from engine.sampler import FusedSampler

# name: (bundle spec of engine.bundles.BUNDLE_SPECS, work size)
CONFIGS = {
    "tiny": ("tiny", 128),  # the tiny engine's models at the tiny engine's work size
    "mid": ("mid", 256),  # a mid-size SD-shaped UNet (4 levels, 2 layers per block, 768-d text)
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: CPU time is then a stable measure)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    spec, size = CONFIGS[args.config]
    bundle = build_bundle(spec, with_sam=False)
    photo = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    samplers = {"capture": FusedSampler(bundle, capture="null_text"), "plain": FusedSampler(bundle, capture=None)}
    ctx, last = samplers["plain"].encode_prompt("make his tie blue")
    lat = samplers["plain"].encode_image(photo)

    def once(kind: str) -> tuple[float, float]:
        w0, c0 = time.perf_counter(), time.process_time()
        samplers[kind].sample(ctx, lat, steps=args.steps, image_scale=1.5, text_scale=7.5, beta=0.01, seed=0, last_token_index=last)
        return time.perf_counter() - w0, time.process_time() - c0

    once("capture"), once("plain")  # warm-up
    wall = {"capture": [], "plain": []}
    cpu = {"capture": [], "plain": []}
    for k in range(args.repeats):  # interleaved, alternating order, so drift hits both alike
        order = ("capture", "plain") if k % 2 == 0 else ("plain", "capture")
        for kind in order:
            w, c = once(kind)
            wall[kind].append(w)
            cpu[kind].append(c)
    mw = {k: statistics.median(v) for k, v in wall.items()}
    mc = {k: statistics.median(v) for k, v in cpu.items()}
    print(json.dumps({
        "config": args.config, "size": size, "steps": args.steps, "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "median_cpu_s": {k: round(v, 4) for k, v in mc.items()},
        "median_wall_s": {k: round(v, 4) for k, v in mw.items()},
        "ratio_cpu_capture_over_plain": round(mc["capture"] / mc["plain"], 4),
        "ratio_wall_capture_over_plain": round(mw["capture"] / mw["plain"], 4),
    }))


if __name__ == "__main__":
    main()
