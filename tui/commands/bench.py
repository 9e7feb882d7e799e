"""`zone bench`: time one ZONE turn stage by stage, the fast engine against the naive reference composition."""

from __future__ import annotations

import argparse
import json
import sys

PATHS = ("fast", "plain", "naive")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="time one turn with random-weight models (no downloads)", description=__doc__)
    p.add_argument("--config", choices=("auto", "sd15", "small"), default="auto",
                   help="sd15: the real architectures (two SD1.5 UNets, VAE, CLIP, SAM ViT-H); "
                        "small: CPU-sized; auto: sd15 on CUDA, small on the CPU")
    p.add_argument("--size", type=int, default=None, help="side of the square test photo (default: 512, small 128)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: 20, small 4)")
    p.add_argument("--points-per-side", type=int, default=None, help="SAM grid (default: 32, small 16)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--dtype", default=None, help="float16, bfloat16 or float32 (default: float16 on CUDA)")
    p.add_argument("--repeats", type=int, default=3, help="timed turns per path after a warm-up (median)")
    p.add_argument("--paths", default="fast,naive", help=f"comma-separated, of {', '.join(PATHS)}")
    p.add_argument("--offload", action="store_true", help="keep idle models on the CPU (smaller GPUs)")
    p.add_argument("--compile", action="store_true", help="torch.compile MagicBrush's UNet (time in the warm-up)")
    p.add_argument("--segment-only", action="store_true",
                   help="time only SAM refinement (stock generator against the fast one) at the real "
                        "resolutions with a narrow SAM: --size photo, 1024 SAM input, --points-per-side grid")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui.cli import UserError

    paths = tuple(x.strip() for x in args.paths.split(",") if x.strip())
    bad = [x for x in paths if x not in PATHS]
    if bad or not paths:
        raise UserError(f"unknown --paths {','.join(bad) or '(none)'}; use a comma-separated list of {', '.join(PATHS)}")
    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")
    if args.size is not None and (args.size < 64 or args.size % 32):
        raise UserError("--size must be a multiple of 32, at least 64")
    if args.steps is not None and args.steps < 1:
        raise UserError("--steps must be at least 1")

    from engine.bench import run_bench
    from engine.registry import resolve_device

    device = resolve_device(args.device)
    if args.segment_only:
        from engine.bench import run_segment_bench

        seg = run_segment_bench(size=args.size or 512, points_per_side=args.points_per_side or 32,
                                device=str(device), repeats=args.repeats)
        if args.json:
            print(json.dumps(seg))
        else:
            print(f"SAM refinement, {seg['size']}x{seg['size']} photo, SAM input {seg['sam_img_size']}, grid "
                  f"{seg['points_per_side']}, {seg['device']}, median of {seg['repeats']}")
            for k, v in seg["median_ms"].items():
                print(f"{k:8s}{v:12.1f} ms  ({seg['num_segments'][k]} segments)")
            print(f"stock / fast: {seg['ratio']:.2f}x; chosen-mask IoU {seg['mask_iou']:.4f}")
        return 0
    config = args.config if args.config != "auto" else ("sd15" if device.type == "cuda" else "small")
    log = None if args.json else (lambda line: print(f"... {line}", file=sys.stderr, flush=True))
    result = run_bench(config, size=args.size, steps=args.steps, device=str(device), dtype=args.dtype,
                       repeats=args.repeats, paths=paths, offload=args.offload, compile_unets=args.compile,
                       points_per_side=args.points_per_side, log=log)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(result.table())
    return 0
