"""`zone eval DATASET`: MagicBrush's metrics (L1, L2, CLIP-I, DINO, CLIP-T) for Zone on a test set."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from engine import limits
from tui.commands import options

EPILOG = """DATASET is a folder in MagicBrush's test layout: edit_sessions.json, images/<id>/<id>-input.png,
<id>-output1.png, ..., and optionally local_descriptions.json (captions, for CLIP-T).
Every session runs as one dialogue (multi-turn: each turn on Zone's own output, scored on the
final turn) and turn by turn from the ground-truth inputs (single-turn: every turn scored).
L1/L2 need no weights; CLIP-I/CLIP-T (openai/clip-vit-base-patch32) and DINO (facebook/dino-vits16)
load from the Hugging Face cache, and are skipped with one notice when they are not there.
--out DIR keeps the images, also under MagicBrush's result names in DIR/magicbrush/."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score Zone on a MagicBrush-layout test set", description=__doc__,
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", help="the test set folder (with edit_sessions.json and images/)")
    options.add_engine(p)
    p.add_argument("--metrics-device", default="cpu", help="where CLIP and DINO run (default cpu)")
    options.add_db(p, help="keep the sessions in this history database (default: a temporary one)")
    p.add_argument("--out", default=None, metavar="DIR", help="keep the generated images here")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N sessions")
    p.add_argument("--seed", type=limits.arg_type(limits.check_seed, "--seed"), default=0,
                   help="base seed of every dialogue, 0..2^63-1 (default 0)")
    options.add_steps(p, per=" per edit")
    options.add_work_size(p)
    p.add_argument("--download-models", action="store_true",
                   help="fetch CLIP and DINO from the Hugging Face hub when they are not in its cache")
    p.add_argument("--json", action="store_true", help="print the scores as one JSON object")
    from tui.commands.replay_batch import add_batch_arguments

    add_batch_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.batch import make_tasks, run_batch
    from agent.batch_types import WorkerConfig
    from agent.evaluate import collect_pairs, load_dataset, plan_scripts, score, write_magicbrush_layout
    from storage.history import HistoryStore
    from tui.batch_progress import BatchProgressBar
    from tui.cli import UserError
    from tui.commands.replay_batch import check_positive, cpu_count, make_backend

    check_positive("--jobs", args.jobs)
    check_positive("--threads", args.threads)
    check_positive("--limit", args.limit)
    sessions = load_dataset(args.dataset)[: args.limit]
    edit_params = {k: v for k, v in (("steps", args.steps), ("work_size", args.work_size)) if v is not None}
    tasks = make_tasks(plan_scripts(sessions, seed=args.seed), args.engine, edit_params)
    scratch = Path(tempfile.mkdtemp(prefix="zone-eval-"))
    out_root = Path(args.out) if args.out else scratch / "out"
    if args.out and out_root.exists() and (not out_root.is_dir() or any(out_root.iterdir())) and not args.resume:
        raise UserError(f"--out {args.out!r} already exists and is not an empty folder")
    try:
        store = HistoryStore(args.db if args.db else f"sqlite:///{scratch / 'eval.db'}")
        try:
            from storage.transfer import completed_replays

            skip = {}
            if args.resume:
                known = completed_replays(store)
                skip = {t.key: known[t.key] for t in tasks if t.key in known}
            threads = args.threads or (1 if args.ray is not None else max(1, cpu_count() // max(1, args.jobs or 1)))
            direct = not store.url.startswith("sqlite")
            config = WorkerConfig(engine=args.engine, device=args.device, threads=threads, edit_params=edit_params,
                                  db_url=store.url if direct else None)
            bar = BatchProgressBar(sys.stderr)
            try:
                with contextlib.redirect_stdout(sys.stderr):  # stdout: the scores only
                    report = run_batch(tasks, make_backend(args, config, len(tasks) - len(skip)), store,
                                       out_root, skip=skip, on_progress=bar)
            finally:
                bar.close()
        finally:
            store.close()
        status = {o.key: o.status for o in report.outcomes}
        done = {t.out_name for t in tasks if status.get(t.key) in ("ok", "errors", "skipped")}
        single, multi, left_out = collect_pairs(sessions, out_root, done)
        clip = dino = None
        missing: list[str] = []
        if single.items or multi.items:
            from engine.metrics import load_scorers

            with contextlib.redirect_stdout(sys.stderr):
                clip, dino, missing = load_scorers(args.metrics_device, download=args.download_models)
        result = {
            "dataset": str(args.dataset), "engine": args.engine, "sessions": len(sessions),
            "turns": sum(len(s.turns) for s in sessions), "left_out": left_out,
            "single_turn": score(single, clip, dino), "multi_turn": score(multi, clip, dino),
            "missing_models": missing, "batch": report.to_dict(),
        }
        if args.out:
            write_magicbrush_layout(sessions, out_root, out_root / "magicbrush", done)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_scores(result, args.json)
    if missing:
        print(f"zone eval: CLIP-I, CLIP-T and DINO not computed: {', '.join(missing)} not in the Hugging Face "
              "cache (run once online with --download-models, or point HF_HOME at a cache that has them)", file=sys.stderr)
    if left_out:
        print(f"zone: {len(left_out)} session(s) left out because a script failed: {', '.join(left_out[:10])}",
              file=sys.stderr)
        return 1
    return 0


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_scores(result: dict, as_json: bool) -> None:
    """A small table of the two settings (stdout), or the whole result as JSON."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"MagicBrush-layout eval of {result['dataset']}: {result['sessions']} sessions, {result['turns']} turns, "
          f"engine {result['engine']}")
    print(f"{'setting':<26}{'pairs':>6}{'L1':>9}{'L2':>9}{'CLIP-I':>9}{'DINO':>9}{'CLIP-T':>9}")
    for label, key in (("single-turn (all turns)", "single_turn"), ("multi-turn (final turn)", "multi_turn")):
        s = result[key]
        print(f"{label:<26}{s['pairs']:>6}{_fmt(s['l1']):>9}{_fmt(s['l2']):>9}{_fmt(s['clip_i']):>9}"
              f"{_fmt(s['dino']):>9}{_fmt(s['clip_t']):>9}")
