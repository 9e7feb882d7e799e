"""`zone replay SCRIPT.yaml`: run a scripted conversation and write each turn's image."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.text import printable, short_id
from tui.commands import options

EPILOG = """script format (YAML):
  image: photo.jpg        # relative to the script's folder
  seed: 0                 # optional base seed; the same script and seed give identical images
  turns:
    - make his tie blue
    - undo
    - wear him a hat

Writes DIR/turn-01.png, turn-02.png, ...: the image after each turn. Exports a turn asks for
("save it as final.png") are written in DIR too; a turn asking to write elsewhere (an absolute
path, .., ~, a symlink leading out) is refused unless --allow-exports-anywhere. Existing files
are never replaced without --force.
Limits: a script of at most 1 MB and 1,000 turns, YAML aliases expanding it at most 10x.
A turn that fails is reported and the replay goes on; the exit status is 1 if any turn failed.

batches: several scripts or a folder of them (or --jobs/--ray/--resume) replay in parallel:
  zone replay scripts/ --jobs 2 --engine tiny        # 2 local workers, one engine each
  zone replay a.yaml b.yaml --ray auto --db postgresql+psycopg://host/zone
Images go to DIR/<script>/turn-NN.png (DIR: --out, default ./replay-batch); sessions to --db.
A script that fails, or whose worker dies, is retried once on another worker."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay a scripted conversation (YAML)", description=__doc__,
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", nargs="+", help="the YAML script(s), or folders of them")
    options.add_engine(p)
    options.add_db(p)
    p.add_argument("--out", default=None, metavar="DIR", help="where the images go (default: ./<script>-replay)")
    options.add_steps(p, per=" per edit")
    options.add_work_size(p)
    p.add_argument("--force", action="store_true", help="replace the turn images of an earlier replay in DIR")
    p.add_argument("--allow-exports-anywhere", action="store_true",
                   help="let the script's turns save files outside DIR (only for scripts you trust)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    from tui.commands.replay_batch import add_batch_arguments

    add_batch_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.replay import load_script, prepare_out_dir, run_replay
    from agent.service import ZoneService
    from tui.cli import UserError
    from tui.commands.replay_batch import apply_threads, is_batch, run_batch_command

    if is_batch(args):
        return run_batch_command(args)
    apply_threads(args.threads)
    args.script = args.script[0]
    script = load_script(args.script)
    if not script.image.is_file():
        raise UserError(f"the script's image {str(script.image)!r} does not exist")
    out = Path(args.out) if args.out else Path(f"{Path(args.script).stem}-replay")
    prepare_out_dir(script, out, force=args.force)  # before the database, the session or a model
    edit_params = options.edit_overrides(args)
    service = ZoneService(db_url=args.db, engine=args.engine, device=args.device, seed=script.seed,
                          edit_params=edit_params, export_dir=out,
                          confine_exports=not args.allow_exports_anywhere)

    def show(i: int, entry: dict) -> None:
        if args.json:
            return
        version = (f"v{entry['number']} " if entry.get("number") is not None else "") + short_id(entry["version"] or "-")
        mark = "!" if entry["error"] else " "
        print(printable(f"{mark}{i:02d} {entry['text'][:60]!r} -> {entry['intent']}"
                        f"{'/' + entry['action'] if entry['action'] else ''} {version}: {entry['reply']}"),
              flush=True)

    try:
        report = run_replay(script, out, service=service, on_turn=show, force=args.force)
    finally:
        service.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        session = short_id(report["session"]) if report["session"] else "(removed: no edit was made)"
        print(printable(f"session {session}: {len(report['turns'])} turns, {report['failed']} failed; "
                        f"final image {report['final']}"))
    if report["failed"]:
        print(f"zone: {report['failed']} turn(s) failed", file=sys.stderr)
        return 1
    return 0
