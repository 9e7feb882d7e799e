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
    p.add_argument("--size", default=None, metavar="N|HxW",
                   help="side of the square test photo (default: 512, small 128); with --overhead HxW, e.g. 3000x4000")
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
    p.add_argument("--overhead", action="store_true",
                   help="instead, time everything a turn does outside the models (synthetic engine output) "
                        "against the full-plane path Zone took before, in the same run")
    p.add_argument("--layer-frac", type=float, default=0.1, metavar="F",
                   help="with --overhead: the share of the photo the edit covers (default 0.1; 1 = whole image)")
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
    if args.overhead:
        return _run_overhead(args)
    if args.size is not None:
        try:
            args.size = int(args.size)
        except ValueError:
            raise UserError(f"--size must be a number of pixels, not {args.size!r} (HxW goes with --overhead)") from None
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


def parse_hw(text: str | None) -> tuple[int, int]:
    """`HxW` (or `N` for a square) as (height, width); UserError when malformed or out of range."""
    from tui.cli import UserError

    raw = (text or "3000x4000").lower().replace(" ", "")
    try:
        parts = [int(v) for v in raw.split("x")]
    except ValueError:
        raise UserError(f"--size must be HxW, e.g. 3000x4000, not {text!r}") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 16 or parts[0] * parts[1] > 100_000_000:
        raise UserError(f"--size must be HxW with sides of at least 16 px and at most 100 MP, not {text!r}")
    return parts[0], parts[1]


def _run_overhead(args: argparse.Namespace) -> int:
    """`zone bench --overhead`: no torch model runs; see agent.overhead_bench."""
    from tui.cli import UserError

    h, w = parse_hw(args.size)
    if not 0.0 < args.layer_frac <= 1.0:
        raise UserError("--layer-frac must be in (0, 1]")
    from agent.overhead_bench import run_overhead_bench

    log = None if args.json else (lambda line: print(f"... {line}", file=sys.stderr, flush=True))
    result = run_overhead_bench(h, w, layer_frac=args.layer_frac, repeats=args.repeats, log=log)
    print(json.dumps(result.to_dict()) if args.json else result.table())
    return 0
