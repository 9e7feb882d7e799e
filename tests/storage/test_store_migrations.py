"""Schema migrations keep old databases working: a 0001 database opens, renders and numbers its versions."""

from __future__ import annotations

import sqlite3

import numpy as np
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from storage import db as dbmod
from storage.history import HistoryStore
from storehelp import commit_layer, make_image


def _database_at_0001(path) -> None:
    """Create an empty database at revision 0001 with Alembic itself."""
    engine = create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod.MIGRATIONS_DIR))
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()


def test_a_0001_database_gets_numbers_in_creation_order(tmp_path):
    path = tmp_path / "old.db"
    _database_at_0001(path)
    # A history written with the 0001 schema (no `number` column), in plain SQL.
    con = sqlite3.connect(path)
    rows = [  # id, parent, depth, created_at: a chain a-b-c and a sibling d of b, written out of id order
        ("f" * 32, None, 0, "2026-01-01 00:00:00"),
        ("c" * 32, "f" * 32, 1, "2026-01-01 00:00:01"),
        ("a" * 32, "c" * 32, 2, "2026-01-01 00:00:02"),
        ("b" * 32, "f" * 32, 1, "2026-01-01 00:00:03"),
    ]
    con.execute("INSERT INTO blobs VALUES ('0'||hex(randomblob(31)), 'original', 1, x'00', '2026-01-01')")
    sha = con.execute("SELECT sha256 FROM blobs").fetchone()[0]
    con.execute("INSERT INTO sessions VALUES ('s'||hex(randomblob(15)), 'old', NULL, 4, 4, ?, NULL, 'main',"
                " '2026-01-01')", (sha,))
    sid = con.execute("SELECT id FROM sessions").fetchone()[0]
    for vid, parent, depth, ts in rows:
        con.execute("INSERT INTO versions (id, session_id, parent_id, instruction, action, params, timings,"
                    " depth, created_at) VALUES (?, ?, ?, 'x', 'change', '{}', '{}', ?, ?)",
                    (vid, sid, parent, depth, ts))
    con.execute("UPDATE sessions SET head_version_id = ?", ("a" * 32,))
    con.execute("INSERT INTO branches VALUES (?, 'main', ?, '2026-01-01')", (sid, "a" * 32))
    con.commit()
    con.close()

    store = HistoryStore(path)
    numbers = {v.id[0]: v.number for v in store.tree(sid)}
    assert numbers == {"f": 0, "c": 1, "a": 2, "b": 3}
    assert store.resolve(sid, "v3").id == "b" * 32
    # Nothing else moved: HEAD and the branch survive the upgrade (a table rebuild would cascade them away).
    assert store.head(sid).id == "a" * 32 and store.get_session(sid).head_branch == "main"
    assert [(b.name, b.version_id) for b in store.branches(sid)] == [("main", "a" * 32)]
    store.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(dbmod.HEAD_REVISION,)]


def test_numbers_are_stable_and_name_versions(store):
    s = store.create_session(make_image(16, 16), name="n")
    v1 = commit_layer(store, s.id, seed=1)
    v2 = commit_layer(store, s.id, seed=2)
    store.undo(s.id)
    v3 = commit_layer(store, s.id, seed=3)  # a sibling of v2: numbers keep creation order
    assert [v.number for v in (store.resolve(s.id, "v0"), v1, v2, v3)] == [0, 1, 2, 3]
    assert store.resolve(s.id, "v2").id == v2.id and store.resolve(s.id, "V3~1").id == v1.id
    assert store.resolve(s.id, "HEAD").label == "v3"
    assert {v.number for v in store.tree(s.id)} == {0, 1, 2, 3}
    np.testing.assert_array_equal(store.render(s.id, "v2"), store.render(s.id, v2.id))


def _database_at(path, revision: str) -> None:
    """Create an empty database at `revision` with Alembic itself."""
    engine = create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod.MIGRATIONS_DIR))
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_a_0002_database_renders_the_same_and_takes_layer_operations(tmp_path):
    import hashlib

    from layerref import box_layer, ref_compose
    from storage.blobs import encode_png

    path = tmp_path / "v2.db"
    _database_at(path, "0002")
    h, w = 20, 30
    original = make_image(h, w, seed=4)
    layers = [box_layer(h, w, (2, 3, 12, 18), seed=1), box_layer(h, w, (6, 10, 18, 28), seed=2, band=2)]
    con = sqlite3.connect(path)

    def blob(data: bytes, kind: str) -> str:
        sha = hashlib.sha256(data).hexdigest()
        con.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?, '2026-01-01')", (sha, kind, len(data), data))
        return sha

    sid, ids = "s" * 32, ["0" * 32, "1" * 32, "2" * 32]
    con.execute("INSERT INTO sessions VALUES (?, 'old', NULL, ?, ?, ?, NULL, 'main', '2026-01-01')",
                (sid, w, h, blob(encode_png(original), "original")))
    con.execute("INSERT INTO versions (id, session_id, parent_id, instruction, action, params, timings, depth,"
                " number, created_at) VALUES (?, ?, NULL, '', NULL, '{}', '{}', 0, 0, '2026-01-01 00:00:00')",
                (ids[0], sid))
    for k, layer in enumerate(layers, start=1):
        con.execute("INSERT INTO versions (id, session_id, parent_id, instruction, action, params, timings,"
                    " layer_blob, mask_blob, depth, number, created_at) VALUES (?, ?, ?, ?, 'add', '{}', '{}',"
                    " ?, ?, ?, ?, ?)",
                    (ids[k], sid, ids[k - 1], f"add thing {k}", blob(encode_png(layer), "layer"),
                     blob(encode_png(layer[..., 3] > 0), "mask"), k, k, f"2026-01-01 00:00:0{k}"))
    con.execute("UPDATE sessions SET head_version_id = ?", (ids[2],))
    con.execute("INSERT INTO branches VALUES (?, 'main', ?, '2026-01-01')", (sid, ids[2]))
    con.commit()
    con.close()

    store = HistoryStore(path)
    both = ref_compose(original, [(layers[0], 1.0), (layers[1], 1.0)])
    assert np.array_equal(store.render(sid), both)
    assert store.head(sid).id == ids[2] and store.get_session(sid).head_branch == "main"
    assert [(v.op, v.number) for v in store.log(sid)] == [(None, 0), (None, 1), (None, 2)]
    stack = store.layer_stack(sid)
    assert [l.instruction for l in stack] == ["add thing 1", "add thing 2"] and not any(l.reshapeable for l in stack)
    assert store.edit_sources(sid, ids[1]) is None
    store.layer_op(sid, "hide", ids[1], instruction="hide the first edit")
    store.layer_op(sid, "opacity", ids[2], args={"opacity": 0.5})
    assert np.array_equal(store.render(sid), ref_compose(original, [(layers[1], 0.5)]))
    store.undo_all(sid)
    assert np.array_equal(store.render(sid), original)
    store.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(dbmod.HEAD_REVISION,)]
    assert con.execute("SELECT count(*) FROM branches").fetchone() == (1,)


def test_a_0002_database_keeps_redo_through_the_head_moves_backfill(tmp_path):
    """0005 moves redo from versions.redo_child_id to the head_moves log: redo goes where it went."""
    path = tmp_path / "old.db"
    _database_at(path, "0002")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO blobs VALUES ('0'||hex(randomblob(31)), 'original', 1, x'00', '2026-01-01')")
    sha = con.execute("SELECT sha256 FROM blobs").fetchone()[0]
    con.execute("INSERT INTO sessions VALUES ('s'||hex(randomblob(15)), 'old', NULL, 4, 4, ?, NULL, 'main',"
                " '2026-01-01')", (sha,))
    sid = con.execute("SELECT id FROM sessions").fetchone()[0]
    # root r with children a (older) and b; b has child c. HEAD at r after an undo-all from c:
    # the 0002 program left r -> b -> c as the redo line (not the older sibling a).
    r, a, b, c = ("r" * 32, "a" * 32, "b" * 32, "c" * 32)
    for n, (vid, parent, depth, redo) in enumerate([(r, None, 0, b), (a, r, 1, None), (b, r, 1, c),
                                                    (c, b, 2, None)]):
        con.execute("INSERT INTO versions (id, session_id, parent_id, instruction, action, params, timings,"
                    " depth, created_at, number, redo_child_id) VALUES (?, ?, ?, 'x', 'change', '{}', '{}',"
                    " ?, ?, ?, NULL)", (vid, sid, parent, depth, f"2026-01-01 00:00:0{n}", n))
        con.execute("UPDATE versions SET redo_child_id = ? WHERE id = ?", (redo, vid))
    con.execute("UPDATE sessions SET head_version_id = ?", (r,))
    con.execute("INSERT INTO branches VALUES (?, 'main', ?, '2026-01-01')", (sid, c))
    con.commit()
    con.close()

    with HistoryStore(path) as store:
        assert store.head_moves(sid) == [("migrated", r, b), ("migrated", b, c)]
        assert store.redo(sid).id == b and store.redo(sid).id == c
        assert [(b_.name, b_.version_id) for b_ in store.branches(sid)] == [("main", c)]
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(dbmod.HEAD_REVISION,)]


def test_version_rows_never_change_after_they_are_written(store):
    """Commit, undo, undo-all, redo and checkout only append HEAD moves; every version row stays as written."""
    sid = store.create_session(make_image(), name="p").id
    first = commit_layer(store, sid, 1)
    commit_layer(store, sid, 2)

    def rows():
        with store._engine.connect() as conn:
            return conn.execute(text("SELECT * FROM versions ORDER BY id")).all()

    before = rows()
    store.undo(sid)
    store.undo_all(sid)
    store.redo(sid)
    store.checkout(sid, first.id)
    store.redo(sid)
    assert rows() == before
    kinds = [k for k, _, _ in store.head_moves(sid)]
    assert kinds == ["commit", "commit", "undo", "undo_all", "redo", "redo"]
