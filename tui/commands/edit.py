"""`zone edit IMAGE INSTRUCTION`: one instruction, one locally edited photo, its layer and its mask."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common.text import printable
from engine import limits
from engine.limits import arg_type

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="edit one photo with one instruction", description=__doc__)
    p.add_argument("image", help="the photo to edit")
    p.add_argument("instruction", help='what to do, e.g. "make his tie blue"')
    p.add_argument("--out", "-o", help="the edited photo (default: <image>-edited.png here)")
    p.add_argument("--layer-out", help="also write the RGBA layer (PNG)")
    p.add_argument("--mask-out", help="also write the final mask (PNG, 0/255)")
    p.add_argument("--action", choices=("add", "remove", "change"), help="ZONE action (default: the classifier decides)")
    p.add_argument("--seed", type=arg_type(limits.check_seed, "--seed"), default=0,
                   help=f"{limits.SEED_HELP} (default 0)")
    p.add_argument("--steps", type=arg_type(limits.check_steps, "--steps"), default=20,
                   help=f"{limits.STEPS_HELP} (default 20)")
    p.add_argument("--image-scale", type=arg_type(limits.check_scale, "--image-scale"), default=1.5,
                   help=f"{limits.IMAGE_SCALE_HELP} (default 1.5)")
    p.add_argument("--text-scale", type=arg_type(limits.check_scale, "--text-scale"), default=7.5,
                   help=f"{limits.TEXT_SCALE_HELP} (default 7.5)")
    p.add_argument("--work-size", type=arg_type(limits.check_work_size, "--work-size"), default=None,
                   help=f"{limits.WORK_SIZE_HELP} (default: 512, tiny engine 128)")
    p.add_argument("--work-size-policy", choices=("scale", "reference"), default="scale",
                   help="scale: long side to --work-size (default); reference: the authors' (shrink only photos larger than --work-size, pad with black to multiples of 32)")
    p.add_argument("--smoother-gray", choices=("reference", "luma"), default="reference",
                   help="the edge smoother's grey: the authors' (default) or ITU-R 601 luma")
    p.add_argument("--max-pixels", type=arg_type(limits.check_max_pixels, "--max-pixels"), default=None,
                   help=f"{limits.MAX_PIXELS_HELP} (default: $ZONE_MAX_PIXELS or 64 MP)")
    p.add_argument("--force", action="store_true",
                   help="replace output files that exist (without it, an existing file is refused)")
    p.add_argument("--engine", choices=("real", "tiny"), default="real", help="tiny: random weights, for dry runs")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--offload", action="store_true", help="keep idle models on the CPU (GPUs with little memory)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    p.set_defaults(func=run)


def _check_output(path: str | None, what: str, force: bool, suffixes=OUTPUT_SUFFIXES) -> Path | None:
    """Check an output before any work: its type, and (common.safe_write) that it may be written."""
    from common.safe_write import check_output
    from tui.cli import UserError

    if path is None:
        return None
    p = Path(path).expanduser()
    if p.suffix.lower() not in suffixes:
        raise UserError(f"{what} {path!r} must end in one of {', '.join(suffixes)}")
    check_output(p, force=force)
    return p


def decide_action(instruction: str, action: str | None) -> tuple[str, float | None, str]:
    """The explicit --action, else the local classifier's; returns (action, confidence, source)."""
    from tui.cli import UserError

    if action:
        return action, None, "flag"
    try:
        from agent.classifier import InstructionClassifier
    except ImportError as exc:
        raise UserError("the instruction classifier is not available; pass --action add|remove|change") from exc
    result = InstructionClassifier.load().classify(instruction)
    if result.action is None:
        raise UserError(
            f"{instruction!r} does not read as an edit instruction (intent: {result.intent}); "
            "say what to change, or pass --action add|remove|change"
        )
    return result.action, float(result.confidence), "classifier"


class _StderrProgress:
    """A tqdm bar for denoising plus one line per stage, on stderr."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __call__(self, event) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if event.stage == "denoise":
            if self.bar is None:
                self.bar = tqdm(total=event.total, desc="denoising", unit="step", file=sys.stderr, leave=False)
            self.bar.update(event.step - self.bar.n)
            return
        self.close()
        if event.step == 0 or event.stage == "load":
            print(f"zone: {event.message}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    # 1. Validate everything cheap before loading any model.
    instruction = limits.check_instruction(args.instruction)
    # --steps, --seed, the scales, --work-size and --max-pixels were checked by engine.limits
    # while the command line was parsed; the outputs are checked here, before any model loads
    from common.safe_write import check_distinct

    out_arg = args.out or f"{Path(args.image).stem}-edited.png"
    check_distinct({"--out": out_arg, "--layer-out": args.layer_out, "--mask-out": args.mask_out})
    out = _check_output(out_arg, "output", args.force)
    layer_out = _check_output(args.layer_out, "--layer-out", args.force, (".png",))
    mask_out = _check_output(args.mask_out, "--mask-out", args.force, (".png",))

    from engine.api import EditParams
    from engine.imageio import load_image, save_image

    t0 = time.perf_counter()
    image = load_image(args.image, max_pixels=args.max_pixels)
    read_ms = (time.perf_counter() - t0) * 1000
    action, confidence, source = decide_action(instruction, args.action)

    # 2. The engine (torch is imported here, not before).
    from engine.registry import TINY_NOTICE, build_engine

    engine = build_engine(args.engine, device=args.device, offload=args.offload)
    if not engine.meaningful:
        print(f"zone: note: {TINY_NOTICE}", file=sys.stderr)
    params = EditParams(
        action=action,
        seed=args.seed,
        steps=args.steps,
        image_scale=args.image_scale,
        text_scale=args.text_scale,
        work_size=args.work_size,
        work_size_policy=args.work_size_policy,
        smoother_gray=args.smoother_gray,
    )
    progress = _StderrProgress(enabled=sys.stderr.isatty() or not args.json)
    try:
        result = engine.edit(image, instruction, params, progress=progress)
    finally:
        progress.close()

    # 3. Outputs.
    t0 = time.perf_counter()
    save_image(out, result.composite, force=args.force)
    if layer_out:
        save_image(layer_out, result.full_layer(), force=args.force)
    if mask_out:
        save_image(mask_out, (result.full_mask().astype("uint8") * 255), force=args.force)
    write_ms = (time.perf_counter() - t0) * 1000
    for w in result.warnings:
        print(f"zone: warning: {printable(w)}", file=sys.stderr)

    timings = {"read": round(read_ms, 3), "load": round(engine.load_ms, 3), **result.timings_ms, "write": round(write_ms, 3)}
    timings["wall"] = round((time.perf_counter() - t_start) * 1000, 3)
    summary = {
        "image": str(args.image),
        "instruction": instruction,
        "action": action,
        "action_source": source,
        "action_confidence": confidence,
        "seed": args.seed,
        "steps": args.steps,
        "engine": engine.name,
        "meaningful": engine.meaningful,
        "size": [int(image.shape[1]), int(image.shape[0])],
        "mask_fraction": round(result.mask_fraction, 6),
        "timings_ms": timings,
        "warnings": result.warnings,
        "out": str(out),
        "layer_out": str(layer_out) if layer_out else None,
        "mask_out": str(mask_out) if mask_out else None,
        "params": result.params,
    }
    if not engine.meaningful:
        summary["note"] = TINY_NOTICE
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{printable(out)}  ({action}, {result.mask_fraction:.1%} of the photo edited, "
              f"{timings['wall'] / 1000:.1f} s)")
    return 0
