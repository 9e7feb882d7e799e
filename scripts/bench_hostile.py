"""Figures for BENCHMARKS.md (issue 11): WAL race false errors (old immutable precheck vs now), ref parsing.

Run: .venv/bin/python scripts/bench_hostile.py [--opens 2000]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "storage"))

OLD_SUFFIX = re.compile(r"^(?P<base>.+?)(?P<ops>(?:~\d*|\^)*)$")


def old_precheck(path: Path) -> None:
    """The precheck storage/db.py had before: an immutable=1 read that ignores the WAL."""
    uri = path.resolve().as_uri() + "?immutable=1"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" in tables:
            con.execute("SELECT version_num FROM alembic_version").fetchone()
        con.execute("SELECT COUNT(*) FROM versions").fetchone()  # what a listing reads next


def wal_race(opens: int) -> dict:
    """Opens beside a committing writer: the old precheck and the new open, interleaved."""
    from storehelp import make_image, subprocess_env
    from tests.hostile.test_database_hostile import WRITER

    from storage.errors import StorageError
    from storage.history import HistoryStore

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "race.db"
        with HistoryStore(db) as store:
            sid = store.create_session(make_image(96, 128), name="race.jpg").id
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), sid], cwd=ROOT, env=subprocess_env(),
                                  stdout=subprocess.PIPE, text=True)
        old_err = new_err = 0
        t_old = t_new = 0.0
        try:
            writer.stdout.readline()
            for i in range(opens):
                t0 = time.perf_counter()
                try:
                    old_precheck(db)
                except sqlite3.DatabaseError:
                    old_err += 1
                t1 = time.perf_counter()
                try:
                    with HistoryStore(db, create=False, readonly=i % 2 == 0) as store:
                        store.list_sessions()
                except StorageError:
                    new_err += 1
                t2 = time.perf_counter()
                t_old += t1 - t0
                t_new += t2 - t1
        finally:
            writer.kill()
            writer.wait()
        with HistoryStore(db) as store:
            commits = len(store.tree(sid)) - 1
    return {"opens": opens, "commits_during": commits, "old_false_errors": old_err, "new_false_errors": new_err,
            "old_ms_per_open": round(1000 * t_old / opens, 2), "new_ms_per_open": round(1000 * t_new / opens, 2)}


def ref_timing() -> list[dict]:
    from storage.refs import split_ref

    rows = []
    for n in (1_000, 5_000, 9_999):
        ref = "~" * (n - 1) + "x"
        t0 = time.perf_counter()
        split_ref(ref)
        t1 = time.perf_counter()
        OLD_SUFFIX.match(ref)
        t2 = time.perf_counter()
        rows.append({"chars": n, "new_ms": round(1000 * (t1 - t0), 3), "old_ms": round(1000 * (t2 - t1), 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--opens", type=int, default=2000)
    args = ap.parse_args()
    print("wal race:", wal_race(args.opens))
    for row in ref_timing():
        print("ref parse:", row)


if __name__ == "__main__":
    main()
