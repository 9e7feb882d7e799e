"""The history commands of `zone`: output, JSON, effects, bad input, and no torch import."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap

import numpy as np
import pytest
from PIL import Image

from storehelp import PYTHON, commit_layer, make_image, subprocess_env
from storage.history import HistoryStore
from tui.cli import main


@pytest.fixture
def populated(tmp_path):
    """A database with one session: root, e1, e2 on main, and e3 on branch-1 from e1."""
    path = tmp_path / "z.db"
    with HistoryStore(path) as store:
        s = store.create_session(make_image(24, 32), name="cat.jpg")
        e1 = commit_layer(store, s.id, 1, "add a hat")
        e2 = commit_layer(store, s.id, 2, "make it night")
        store.undo(s.id)
        e3 = commit_layer(store, s.id, 3, "add snow")
    return path, s, (e1, e2, e3)


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_sessions(capsys, populated, tmp_path):
    path, s, _ = populated
    rc, out, _ = _run(capsys, "sessions", "--db", path)
    header, row = out.splitlines()
    assert header.split() == ["SESSION", "CREATED", "SIZE", "EDITS", "HEAD", "NAME"]
    assert rc == 0 and row.startswith(s.id[:8]) and row.split()[4] == "3" and row.endswith("cat.jpg")
    rc, out, _ = _run(capsys, "sessions", "--json", "--db", path)
    assert json.loads(out)[0]["versions"] == 4
    rc, out, _ = _run(capsys, "sessions", "--db", tmp_path / "none.db")
    assert rc == 0 and "no sessions" in out and not (tmp_path / "none.db").exists()


def test_history_text_and_json(capsys, populated):
    path, s, (e1, e2, e3) = populated
    rc, out, _ = _run(capsys, "history", s.id[:6], "--db", path)
    assert rc == 0
    assert out.splitlines()[1:] == [
        f"* v0 {s.head_version_id[:8]} original",
        f"└─ * v1 {e1.id[:8]} change: add a hat",
        f"   ├─ * v2 (main) {e2.id[:8]} change: make it night",
        f"   └─ @ v3 (HEAD -> branch-1) {e3.id[:8]} change: add snow",
    ]
    rc, out, _ = _run(capsys, "history", s.id, "--json", "--db", path)
    data = json.loads(out)
    assert data["head"] == e3.id and data["head_branch"] == "branch-1"
    assert data["branches"] == {"main": e2.id, "branch-1": e3.id}
    by_id = {v["id"]: v for v in data["versions"]}
    assert len(by_id) == 4
    v = by_id[e3.id]
    assert (v["parent"], v["instruction"], v["action"], v["branches"], v["head"], v["number"]) == (
        e1.id, "add snow", "change", ["branch-1"], True, 3)
    assert sorted(v["number"] for v in data["versions"]) == [0, 1, 2, 3]
    assert sum(v["head"] for v in data["versions"]) == 1


def test_undo_redo_checkout_branch(capsys, populated):
    path, s, (e1, e2, e3) = populated
    rc, out, _ = _run(capsys, "undo", s.id[:6], "--db", path)
    assert rc == 0 and f"HEAD is now at v1 {e1.id[:8]}" in out
    rc, out, _ = _run(capsys, "redo", s.id[:6], "--db", path)
    assert rc == 0 and e3.id[:8] in out
    rc, out, _ = _run(capsys, "checkout", s.id[:6], "main", "--db", path)
    assert rc == 0 and f"v2 {e2.id[:8]} (HEAD -> main)" in out
    rc, out, _ = _run(capsys, "checkout", s.id[:6], "v3", "--db", path)  # the number the tree shows
    assert rc == 0 and f"HEAD is now at v3 {e3.id[:8]} (HEAD -> branch-1)" in out
    rc, out, _ = _run(capsys, "checkout", s.id[:6], "main", "--db", path)
    rc, out, _ = _run(capsys, "branch", s.id[:6], "dusk", "--at", e1.id[:6], "--db", path)
    assert rc == 0 and f"branch dusk at {e1.id[:8]}" in out
    rc, out, _ = _run(capsys, "undo", s.id[:6], "--all", "--db", path)
    assert rc == 0 and "original" in out
    with HistoryStore(path) as store:
        assert store.head(s.id).depth == 0
        assert store.resolve(s.id, "dusk").id == e1.id


def test_export_png_jpg_ora_and_mask(capsys, populated, tmp_path):
    path, s, (e1, _, _) = populated
    for name in ("out.png", "out.jpg", "out.ora"):
        rc, out, err = _run(capsys, "export", s.id[:6], "--version", e1.id[:6], "--out", tmp_path / name, "--db", path)
        assert rc == 0 and "wrote" in out, err
    with HistoryStore(path) as store, Image.open(tmp_path / "out.png") as img:
        assert np.array_equal(np.asarray(img), store.render(s.id, e1.id))
    rc, _, _ = _run(capsys, "export", s.id[:6], "--mask", "--out", tmp_path / "mask.png", "--db", path)
    assert rc == 0 and (tmp_path / "mask.png").stat().st_size > 0


def _files(path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.name.startswith(path.name)}


@pytest.mark.parametrize("argv, message", [
    (["history", "ffff0000"], "no session matches"),
    (["undo", "nosuchsession"], "no session matches"),
    (["checkout", "{sid}", "deadbeef"], "no version or branch"),
    (["export", "{sid}", "--version", "nope", "--out", "{tmp}/x.png"], "no version or branch"),
    (["export", "{sid}", "--out", "{tmp}/missing/x.png"], "cannot write"),
    (["export", "{sid}", "--out", "{tmp}/x.bmp"], "use one of"),
    (["branch", "{sid}", "main"], "already exists"),
    (["redo", "{sid}"], "nothing to redo"),
])
def test_bad_input_is_one_line_and_changes_nothing(capsys, populated, tmp_path, argv, message):
    path, s, _ = populated
    before = _files(path)
    argv = [a.format(sid=s.id[:8], tmp=tmp_path) for a in argv]
    rc, out, err = _run(capsys, *argv, "--db", path)
    assert rc == 1 and err.startswith("zone: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _files(path) == before
    assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob(".x.*"))


def test_not_a_database_and_newer_schema(capsys, tmp_path, populated):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    rc, _, err = _run(capsys, "history", "abcd", "--db", junk)
    assert rc == 1 and "not a Zone database" in err and err.count("\n") == 1
    assert junk.read_bytes() == b"not a database at all" * 100
    path, s, _ = populated
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    before = _files(path)
    rc, _, err = _run(capsys, "undo", s.id, "--db", path)
    assert rc == 1 and "newer than this Zone" in err and err.count("\n") == 1
    assert _files(path) == before


def test_zone_db_env_and_no_torch(populated):
    path, s, _ = populated
    script = textwrap.dedent(f"""
        import sys
        from tui.cli import main
        rc = main(["history", "{s.id[:6]}", "--json"])
        assert rc == 0, rc
        rc = main(["sessions"])
        heavy = sorted(m for m in ("torch", "diffusers", "transformers", "textual") if m in sys.modules)
        print("HEAVY", heavy)
    """)
    env = subprocess_env()
    env["ZONE_DB"] = str(path)
    r = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stdout and s.id in r.stdout


def test_a_closed_pipe_ends_quietly_with_status_0(populated):
    """`zone history S | head` ends like `git log | head`: no error, status 0."""
    path, s, _ = populated
    proc = subprocess.Popen([PYTHON, "-m", "tui.cli", "history", s.id, "--db", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and err == ""


def test_history_cuts_long_instructions_never_the_labels(populated):
    from tui.commands.history import _tree_lines

    path, s, _ = populated
    with HistoryStore(path) as store:
        lines = _tree_lines(store.tree(s.id), "branch-1", width=40)
    assert all(len(line) <= 40 for line in lines)
    assert lines[3].startswith("   └─ @ v3 (HEAD -> branch-1) ") and lines[3].endswith("…")
