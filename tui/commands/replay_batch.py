"""`zone replay A.yaml B.yaml ... | DIR [--jobs N] [--ray [ADDRESS]]`: many scripts, many workers.

Not a subcommand of its own: `tui.commands.replay` hands batches here. Heavy imports stay inside
functions (the driver never imports torch; the workers do).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

from common.text import short_id

SCRIPT_SUFFIXES = (".yaml", ".yml")


def add_batch_arguments(p: argparse.ArgumentParser) -> None:
    """The batch options of `zone replay`."""
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="run N scripts at once in N local worker processes, each with its own engine")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on a Ray cluster (auto, ray://host:10001); no ADDRESS starts a local Ray "
                        '(needs pip install "zone-editor[ray]")')
    p.add_argument("--threads", type=int, default=None, metavar="T",
                   help="torch threads per worker (default: the cores shared by --jobs; 1 per Ray actor)")
    p.add_argument("--resume", action="store_true",
                   help="skip scripts whose session in --db is already complete")


def is_batch(args: argparse.Namespace) -> bool:
    """True when the command line asks for the batch path (several scripts, a folder, or a batch flag)."""
    scripts = args.script if isinstance(args.script, list) else [args.script]
    return (len(scripts) > 1 or any(Path(s).is_dir() for s in scripts) or args.jobs is not None
            or args.ray is not None or args.resume)


def apply_threads(threads: Optional[int]) -> None:
    """`--threads` for the single-script path: torch reads OMP_NUM_THREADS when it is first imported."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)


def collect_scripts(paths: list[str]) -> list[Path]:
    """Expand folders into their *.yaml / *.yml files (sorted); keep files as given."""
    from tui.cli import UserError

    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SCRIPT_SUFFIXES)
            if not found:
                raise UserError(f"folder {raw!r} holds no .yaml replay scripts")
            out.extend(found)
        else:
            out.append(p)
    return out


def cpu_count() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_out(paths: list[str]) -> Path:
    """`./<folder>-replay` for one folder, else `./replay-batch`."""
    if len(paths) == 1 and Path(paths[0]).is_dir():
        return Path(f"{Path(paths[0]).resolve().name}-replay")
    return Path("replay-batch")


def check_positive(name: str, value: Optional[int]) -> None:
    from tui.cli import UserError

    if value is not None and value < 1:
        raise UserError(f"{name} must be at least 1, not {value}")


def make_backend(args: argparse.Namespace, config: Any, n_tasks: int) -> Any:
    """A LocalBackend for --jobs, a RayBackend for --ray."""
    if args.ray is not None:
        from agent.batch_ray import RayBackend

        return RayBackend(config, address=args.ray or None, jobs=args.jobs, max_workers=n_tasks)
    from agent.batch_local import LocalBackend

    return LocalBackend(config, jobs=min(args.jobs or 1, max(1, n_tasks)))


def prepare(args: argparse.Namespace, scripts: list[Any], out_root: Path, skip: dict[str, str],
            tasks: list[Any]) -> None:
    """Refuse to overwrite a folder that already holds files, unless the batch is resumed."""
    from tui.cli import UserError

    if out_root.exists() and not out_root.is_dir():
        raise UserError(f"--out {str(out_root)!r} is not a folder")
    if args.resume or getattr(args, "force", False):
        return
    for t in tasks:
        folder = out_root / t.out_name
        if t.key not in skip and folder.is_dir() and any(folder.iterdir()):
            raise UserError(f"{str(folder)!r} already holds files; choose another --out, --resume the batch, "
                            "or --force to replace them")


def load_all(paths: list[Path]) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """Parse every script; return the good ones and (position, path, one-line error) for the rest."""
    from agent.replay import load_script
    from engine.errors import ZoneError

    good, bad = [], []
    for i, p in enumerate(paths):
        try:
            s = load_script(p)
        except ZoneError as exc:
            bad.append((i, str(p), str(exc)))
            continue
        if not s.image.is_file():
            bad.append((i, str(p), f"the script's image {str(s.image)!r} does not exist"))
            continue
        good.append((i, s))
    return good, bad


def run_batch_command(args: argparse.Namespace) -> int:
    """The batch path of `zone replay`."""
    from agent.batch import make_tasks, run_batch
    from agent.batch_types import Outcome, WorkerConfig
    from storage.history import HistoryStore
    from storage.transfer import completed_replays

    from tui.cli import UserError

    check_positive("--jobs", args.jobs)
    check_positive("--threads", args.threads)
    if getattr(args, "allow_exports_anywhere", False):
        raise UserError("--allow-exports-anywhere is for one trusted script, not a batch; "
                        "a batch's exports stay in each script's folder")
    paths = collect_scripts(args.script if isinstance(args.script, list) else [args.script])
    good, bad = load_all(paths)
    edit_params = {k: v for k, v in (("steps", args.steps), ("work_size", args.work_size)) if v is not None}
    tasks = make_tasks([s for _, s in good], args.engine, edit_params, indexes=[i for i, _ in good])
    out_root = Path(args.out) if args.out else default_out(args.script)
    store = HistoryStore(args.db)
    try:
        skip = completed_replays(store) if args.resume else {}
        skip = {t.key: skip[t.key] for t in tasks if t.key in skip}
        prepare(args, good, out_root, skip, tasks)
        threads = args.threads
        if threads is None:
            threads = 1 if args.ray is not None else max(1, cpu_count() // max(1, args.jobs or 1))
        direct = not store.url.startswith("sqlite")
        config = WorkerConfig(engine=args.engine, device=args.device, threads=threads, edit_params=edit_params,
                              db_url=store.url if direct else None)
        from tui.batch_progress import BatchProgressBar

        bar = BatchProgressBar(sys.stderr)
        todo = sum(1 for t in tasks if t.key not in skip)
        backend = make_backend(args, config, todo)
        try:
            # anything a library prints meanwhile (Ray reports dead workers on stdout) goes to
            # stderr, so stdout carries only the summary (--json stays parseable)
            with contextlib.redirect_stdout(sys.stderr):
                report = run_batch(tasks, backend, store, out_root, skip=skip, on_progress=bar)
        finally:
            bar.close()
    finally:
        store.close()
    report.outcomes.extend(Outcome(script=p, status="failed", key="", index=i, error=msg) for i, p, msg in bad)
    report.outcomes.sort(key=lambda o: o.index)
    print_report(report, args.json)
    return 1 if report.failed else 0


def print_report(report: Any, as_json: bool) -> None:
    """Every script with its status (stdout), then one line of totals."""
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        return
    for o in report.outcomes:
        session = short_id(o.session or "-")
        detail = f"{o.turns} turns" + (f", {o.failed_turns} failed" if o.failed_turns else "")
        if o.attempts > 1:
            detail += f", {o.attempts} attempts"
        line = f"{o.status:<8} {o.script}  {detail}  session {session}"
        if o.final:
            line += f"  final {o.final}"
        if o.error and o.status != "ok":
            line += f"  ({o.error})"
        print(line)
    d = report.to_dict()
    print(f"{len(report.outcomes)} scripts on {d['workers']} {report.backend} worker(s): {d['ok']} ok, "
          f"{d['errors']} with failed turns, {d['failed']} failed, {d['skipped']} skipped; "
          f"{d['turns']} turns in {d['seconds']:.1f} s ({d['turns_per_min']:.1f} turns/min)")
    if report.failed:
        print(f"zone: {report.failed} script(s) did not replay cleanly", file=sys.stderr)
