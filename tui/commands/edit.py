"""`zone edit IMAGE INSTRUCTION`: one instruction, one locally edited photo, its layer and its mask."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

from agent.edit_outputs import turn_pictures
from common.text import printable, short_id
from engine import limits
from tui.commands import options

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="edit one photo with one instruction", description=__doc__)
    p.add_argument("image", help="the photo to edit")
    p.add_argument("instruction", help='what to do, e.g. "make his tie blue"')
    p.add_argument("--out", "-o", help="the edited photo (default: <image>-edited.png here)")
    p.add_argument("--layer-out", help="also write the RGBA layer (PNG)")
    p.add_argument("--mask-out", help="also write the final mask (PNG, 0/255)")
    p.add_argument("--action", choices=("add", "remove", "change"),
                   help="one edit of the whole instruction with this ZONE action (default: the agent reads "
                        "the instruction as in chat; 'A and B' is two edits)")
    options.add_edit_params(p)
    options.add_max_pixels(p)
    p.add_argument("--force", action="store_true",
                   help="replace output files that exist (without it, an existing file is refused)")
    options.add_engine(p, offload=True)
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    options.add_db(p)
    p.add_argument("--no-history", action="store_true",
                   help="keep no session: the edit runs on an in-memory history that is dropped at exit")
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
    """Validate, then one edit-only turn of `ZoneService` in a new session; write the outputs."""
    t_start = time.perf_counter()
    # 1. Validate everything cheap before opening the database or loading any model.
    instruction = limits.check_instruction(args.instruction)
    # --steps, --seed, the scales, --work-size and --max-pixels were checked by engine.limits
    # while the command line was parsed; the outputs are checked here, before any model loads
    from common.safe_write import check_distinct

    out_arg = args.out or f"{Path(args.image).stem}-edited.png"
    check_distinct({"--out": out_arg, "--layer-out": args.layer_out, "--mask-out": args.mask_out})
    outputs = Outputs(out=_check_output(out_arg, "output", args.force),
                      layer=_check_output(args.layer_out, "--layer-out", args.force, (".png",)),
                      mask=_check_output(args.mask_out, "--mask-out", args.force, (".png",)))
    service = _service(args)
    try:
        return _edit(args, service, instruction, outputs, t_start)
    finally:
        service.close()


class Outputs(NamedTuple):
    """Where the edited photo, the layer and the mask go (checked; None: not asked for)."""

    out: Path
    layer: Path | None
    mask: Path | None


def _service(args: argparse.Namespace):
    """The ZoneService of this edit: the history database, or an in-memory one with --no-history."""
    from agent.service import ZoneService

    params = {"steps": args.steps, "image_scale": args.image_scale, "text_scale": args.text_scale,
              "work_size_policy": args.work_size_policy, "smoother_gray": args.smoother_gray}
    if args.work_size is not None:
        params["work_size"] = args.work_size
    return ZoneService(db_url=":memory:" if args.no_history else args.db, engine=args.engine,
                       device=args.device, offload=args.offload, seed=args.seed, edit_params=params)


def _edit(args: argparse.Namespace, service, instruction: str, outputs: Outputs, t_start: float) -> int:
    """Open the photo in a new session, run the turn, write the outputs and the summary."""
    from tui.cli import UserError

    t0 = time.perf_counter()
    session = service.open_image(args.image, max_pixels=args.max_pixels)
    read_ms = (time.perf_counter() - t0) * 1000
    engine = service.engine  # built, not loaded: torch is imported here, not before
    notice = service.engine_notice
    if notice:
        print(f"zone: note: {notice}", file=sys.stderr)
    progress = _StderrProgress(enabled=sys.stderr.isatty() or not args.json)
    try:
        result = service.edit(session.id, instruction, action=args.action, progress=progress)
    finally:
        progress.close()
    if not result.edits or result.error:
        kept = len(result.edits)
        if not kept:
            service.delete_session(session.id)  # nothing was made: leave nothing behind
        raise UserError(_failure(instruction, result, kept, session.id, args.no_history))

    t0 = time.perf_counter()
    turn = turn_pictures(service, session.id, result.edits)
    service.save(outputs.out, turn.composite, force=args.force)
    if outputs.layer:
        service.save(outputs.layer, turn.layer, force=args.force)
    if outputs.mask:
        service.save(outputs.mask, turn.mask.astype("uint8") * 255, force=args.force)
    write_ms = (time.perf_counter() - t0) * 1000
    warnings = [w for e in result.edits for w in e.get("warnings", [])]
    for w in warnings:
        print(f"zone: warning: {printable(w)}", file=sys.stderr)

    timings = {"read": round(read_ms, 3), "load": round(engine.load_ms, 3), **turn.timings_ms,
               "write": round(write_ms, 3)}
    timings["wall"] = round((time.perf_counter() - t_start) * 1000, 3)
    last = result.edits[-1]
    kept_id = None if args.no_history else session.id
    summary = {
        "image": str(args.image),
        "instruction": instruction,
        "action": last["action"],
        "action_source": "flag" if args.action else "understanding",
        "action_confidence": result.confidence,
        "edits": [{"instruction": e["instruction"], "action": e["action"], "seed": e["seed"],
                   "version": None if args.no_history else e["version_id"],
                   "mask_fraction": round(float(e["mask_fraction"]), 6)} for e in result.edits],
        "seed": last["seed"],
        "steps": args.steps,
        "engine": engine.name,
        "meaningful": engine.meaningful,
        "size": [int(session.width), int(session.height)],
        "mask_fraction": round(float(turn.mask.mean()), 6),
        "timings_ms": timings,
        "warnings": warnings,
        "out": str(outputs.out),
        "layer_out": str(outputs.layer) if outputs.layer else None,
        "mask_out": str(outputs.mask) if outputs.mask else None,
        "session": kept_id,
        "params": turn.params,
    }
    if notice:
        summary["note"] = notice
    if args.json:
        print(json.dumps(summary))
        return 0
    actions = ", ".join(e["action"] for e in result.edits)
    print(f"{printable(outputs.out)}  ({actions}, {turn.mask.mean():.1%} of the photo edited, "
          f"{timings['wall'] / 1000:.1f} s)")
    if kept_id:
        print(f"session {short_id(kept_id)}: continue with `zone chat --session {short_id(kept_id)}`")
    return 0


def _failure(instruction: str, result, kept: int, session_id: str, no_history: bool) -> str:
    """The one-line reason a `zone edit` made nothing (or not everything it was asked)."""
    if result.clarify == "not_an_edit":
        return (f"{instruction!r} does not read as an edit instruction (intent: {result.intent}); "
                "say what to change, or pass --action add|remove|change")
    reason = result.error or " ".join(result.reply.split())
    if kept and not no_history:
        reason += f"; the first {kept} edit(s) are kept in session {short_id(session_id)}"
    return reason
