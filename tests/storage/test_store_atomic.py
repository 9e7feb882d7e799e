"""Crash safety and concurrency, for real: SIGKILL mid-commit, and a reader beside a writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import textwrap
import time

import pytest

from storehelp import PYTHON, commit_layer, make_image, subprocess_env
from storage.history import HistoryStore

COMMITTER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from sqlalchemy import event
    from storage.history import HistoryStore

    url, sid, stage, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = HistoryStore(url)
    if stage == "before-commit":   # every row written, COMMIT not yet sent
        @event.listens_for(store._engine, "commit")
        def _pause(conn):
            print("READY", flush=True)
            time.sleep(120)
    elif stage == "mid-transaction":   # blobs and the version row written, branch not moved
        from sqlalchemy.orm import Session
        @event.listens_for(Session, "after_flush")
        def _pause(session, ctx):
            print("READY", flush=True)
            time.sleep(120)
    else:
        print("READY", flush=True)
    info = store.get_session(sid)
    rng = np.random.default_rng(0)
    for i in range(count):
        layer = rng.integers(0, 256, (info.height, info.width, 4), dtype=np.uint8)
        store.commit(sid, layer=layer, mask=layer[..., 3] > 0, instruction=f"killed {i}",
                     action="add", params={}, timings_ms={})
""")


def _state(url: str, sid: str) -> tuple:
    """Everything a user can see of the history, plus the row counts of every table."""
    from sqlalchemy import text

    with HistoryStore(url) as store:
        tree = [(v.id, v.parent_id, v.depth, tuple(v.branches), v.is_head) for v in store.tree(sid)]
        session = store.get_session(sid)
        with store._engine.connect() as conn:
            counts = tuple(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                           for t in ("blobs", "sessions", "versions", "branches", "messages"))
    return tree, session.head_version_id, session.head_branch, counts


def _check_sqlite(url: str) -> None:
    if not url.startswith("sqlite"):
        return
    con = sqlite3.connect(url.split(":///", 1)[1])
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()


@pytest.mark.parametrize("stage", ["mid-transaction", "before-commit"])
def test_sigkill_mid_commit_leaves_history_unchanged(db_url, stage):
    with HistoryStore(db_url) as store:
        s = store.create_session(make_image(64, 64), name="crash")
        commit_layer(store, s.id, 1)
    before = _state(db_url, s.id)
    proc = subprocess.Popen([PYTHON, "-c", COMMITTER, db_url, s.id, stage, "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())
    try:
        line = proc.stdout.readline()
        assert line.strip() == b"READY", proc.stderr.read().decode()
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    _check_sqlite(db_url)
    assert _state(db_url, s.id) == before
    with HistoryStore(db_url) as store:  # and the database still takes commits
        v = commit_layer(store, s.id, 2)
        assert store.head(s.id).id == v.id


def test_sigkill_at_random_moments_keeps_a_consistent_history(db_url):
    with HistoryStore(db_url) as store:
        s = store.create_session(make_image(96, 96), name="crash")
    for delay in (0.15, 0.35, 0.6):
        proc = subprocess.Popen([PYTHON, "-c", COMMITTER, db_url, s.id, "none", "1000"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=subprocess_env())
        assert proc.stdout.readline().strip() == b"READY"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _check_sqlite(db_url)
        with HistoryStore(db_url) as store:
            line = store.log(s.id)
            assert [v.depth for v in line] == list(range(len(line)))  # an unbroken line to HEAD
            assert store.branches(s.id)[0].version_id == line[-1].id
            for v in line[1:]:
                assert store.layer(s.id, v.id).shape == (96, 96, 4)  # every blob present and intact


READER = textwrap.dedent("""
    import sys, time
    from storage.history import HistoryStore
    url, sid, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = HistoryStore(url)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        store.list_sessions()
        tree = store.tree(sid)
        store.render(sid)
        store.log(sid)
        store.messages(sid)
        n += 1
    print(n, getattr(store, "cache_write_failures", 0), len(tree), flush=True)
""")


def test_reader_and_writer_at_once(db_url):
    with HistoryStore(db_url) as store:
        s = store.create_session(make_image(128, 128), name="busy")
    env = subprocess_env()
    reader = subprocess.Popen([PYTHON, "-c", READER, db_url, s.id, "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    writer = subprocess.Popen([PYTHON, "-c", COMMITTER, db_url, s.id, "none", "40"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    w_out, w_err = writer.communicate(timeout=120)
    r_out, r_err = reader.communicate(timeout=120)
    assert writer.returncode == 0, w_err.decode()[-2000:]
    assert reader.returncode == 0, r_err.decode()[-2000:]
    assert b"locked" not in w_err + r_err
    loops, cache_failures, _ = map(int, r_out.split())
    assert loops >= 5 and cache_failures == 0
    with HistoryStore(db_url) as store:
        assert store.head(s.id).depth == 40
