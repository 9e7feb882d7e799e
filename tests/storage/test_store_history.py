"""History operations: commit, undo, redo, undo all, branch, checkout, refs, log, tree, messages."""

from __future__ import annotations

import numpy as np
import pytest

from storehelp import as_stored, commit_layer, make_image, make_layer
from storage.errors import InvalidOperationError, NotFoundError
from storage.history import HistoryStore


def _session(store, seed: int = 0):
    return store.create_session(make_image(seed=seed), name="photo.jpg", source_path="/tmp/photo.jpg")


def test_create_session_has_root_on_main(store):
    s = _session(store)
    assert (s.width, s.height, s.head_branch) == (32, 24, "main")
    head = store.head(s.id)
    assert head.depth == 0 and head.parent_id is None and head.is_head and head.branches == ["main"]
    assert np.array_equal(store.original(s.id), make_image())
    assert store.layer(s.id) is None and store.mask(s.id) is None
    assert store.list_sessions()[0].id == s.id


def test_commit_records_everything(store):
    s = _session(store)
    layer = make_layer(seed=7)
    v = store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="add a hat", action="add",
                     params={"seed": np.int64(7), "beta": 0.01, "engine": "tiny"},
                     timings_ms={"denoise": np.float32(12.5)})
    assert v.parent_id == s.head_version_id and v.depth == 1 and v.is_head
    assert v.branches == ["main"] and v.instruction == "add a hat" and v.action == "add"
    assert v.params == {"seed": 7, "beta": 0.01, "engine": "tiny"} and v.timings_ms == {"denoise": 12.5}
    assert np.array_equal(store.layer(s.id, v.id), as_stored(layer))
    assert np.array_equal(store.mask(s.id, v.id), layer[..., 3] > 0)
    assert store.get_session(s.id).head_branch == "main"


def test_commit_rejects_wrong_shapes_and_changes_nothing(store):
    s = _session(store)
    with pytest.raises(InvalidOperationError):
        store.commit(s.id, layer=np.zeros((5, 5, 4), np.uint8), mask=np.zeros((5, 5), bool),
                     instruction="x", action="add")
    assert len(store.tree(s.id)) == 1


def test_undo_redo_exact_line(store):
    s = _session(store)
    v = [store.head(s.id)] + [commit_layer(store, s.id, i, f"e{i}") for i in range(1, 4)]
    assert store.undo(s.id).id == v[2].id
    assert store.undo(s.id).id == v[1].id
    assert store.redo(s.id).id == v[2].id
    assert store.redo(s.id).id == v[3].id
    assert store.get_session(s.id).head_branch == "main"
    with pytest.raises(InvalidOperationError, match="nothing to redo"):
        store.redo(s.id)
    assert len(store.tree(s.id)) == 4  # nothing deleted


def test_undo_at_root_is_an_error(store):
    s = _session(store)
    with pytest.raises(InvalidOperationError, match="nothing to undo"):
        store.undo(s.id)


def test_commit_after_undo_starts_branch_and_keeps_redo_line(store):
    s = _session(store)
    v1 = commit_layer(store, s.id, 1)
    v2 = commit_layer(store, s.id, 2)
    store.undo(s.id)
    alt = commit_layer(store, s.id, 3, "alternative")
    assert alt.parent_id == v1.id and alt.branches == ["branch-1"]
    assert {b.name: b.version_id for b in store.branches(s.id)} == {"main": v2.id, "branch-1": alt.id}
    # the undone line is still reachable, by branch and by redo from its fork point
    assert store.checkout(s.id, "main").id == v2.id
    store.checkout(s.id, v1.id)
    assert store.redo(s.id).id == alt.id  # the line last committed on
    store.checkout(s.id, v2.id)
    store.undo(s.id)
    assert store.redo(s.id).id == v2.id  # the line just undone


def test_commit_on_branch_tip_advances_it(store):
    s = _session(store)
    commit_layer(store, s.id, 1)
    v2 = commit_layer(store, s.id, 2)
    store.undo(s.id)
    store.redo(s.id)  # back on main's tip: HEAD re-attaches to main
    assert store.get_session(s.id).head_branch == "main"
    v3 = commit_layer(store, s.id, 3)
    assert v3.parent_id == v2.id and v3.branches == ["main"] and len(store.branches(s.id)) == 1


def test_undo_all_and_redo_back_along_line(store):
    s = _session(store)
    line = [store.head(s.id)] + [commit_layer(store, s.id, i) for i in range(1, 5)]
    store.undo(s.id)
    store.undo(s.id)
    commit_layer(store, s.id, 9)  # a side branch from line[2]
    store.checkout(s.id, line[4].id)
    root = store.undo_all(s.id)
    assert root.id == line[0].id and root.depth == 0
    assert [store.redo(s.id).id for _ in range(4)] == [v.id for v in line[1:]]


def test_branch_at_head_attaches_and_at_ref_does_not(store):
    s = _session(store)
    v1 = commit_layer(store, s.id, 1)
    v2 = commit_layer(store, s.id, 2)
    b = store.branch(s.id, "sky")
    assert b.version_id == v2.id and store.get_session(s.id).head_branch == "sky"
    v3 = commit_layer(store, s.id, 3)
    assert v3.branches == ["sky"]
    assert store.resolve(s.id, "main").id == v2.id
    old = store.branch(s.id, "old", at=v1.id[:6])
    assert old.version_id == v1.id and store.get_session(s.id).head_branch == "sky"
    with pytest.raises(InvalidOperationError, match="already exists"):
        store.branch(s.id, "old")
    for bad in ("", "HEAD", "a b", "x..y", "-x"):
        with pytest.raises(InvalidOperationError):
            store.branch(s.id, bad)


def test_checkout_branch_and_version(store):
    s = _session(store)
    v1 = commit_layer(store, s.id, 1)
    commit_layer(store, s.id, 2)
    assert store.checkout(s.id, v1.id[:5]).id == v1.id
    assert store.get_session(s.id).head_branch is None  # detached: no branch points at v1
    assert store.checkout(s.id, "main").is_head
    assert store.get_session(s.id).head_branch == "main"
    with pytest.raises(NotFoundError):
        store.checkout(s.id, "nope")
    assert store.head(s.id).branches == ["main"]


def test_refs_prefix_tilde_and_errors(store):
    s = _session(store)
    vs = [commit_layer(store, s.id, i) for i in range(1, 4)]
    assert store.resolve(s.id, "HEAD~2").id == vs[0].id
    assert store.resolve(s.id, "HEAD^^").id == vs[0].id
    assert store.resolve(s.id, "main~1").id == vs[1].id
    assert store.resolve(s.id, vs[2].id[:4].upper()).id == vs[2].id
    with pytest.raises(NotFoundError, match="past the original"):
        store.resolve(s.id, "HEAD~9")
    with pytest.raises(NotFoundError):
        store.resolve(s.id, "abc")  # too short to be a prefix, not a branch
    other = _session(store, seed=1)
    with pytest.raises(NotFoundError):
        store.resolve(other.id, vs[0].id)  # versions of another session are not visible


def test_session_lookup_by_prefix_and_name(store):
    s = _session(store)
    assert store.get_session(s.id[:6]).id == s.id
    assert store.get_session("photo.jpg").id == s.id
    _session(store, seed=2)
    with pytest.raises(InvalidOperationError, match="several sessions"):
        store.get_session("photo.jpg")
    with pytest.raises(NotFoundError):
        store.get_session("0000zzzz")


def test_log_and_tree(store):
    s = _session(store)
    v1 = commit_layer(store, s.id, 1, "one")
    v2 = commit_layer(store, s.id, 2, "two")
    store.undo(s.id)
    v3 = commit_layer(store, s.id, 3, "three")
    assert [v.id for v in store.log(s.id)] == [s.head_version_id, v1.id, v3.id]
    assert [v.id for v in store.log(s.id, "main")] == [s.head_version_id, v1.id, v2.id]
    tree = store.tree(s.id)
    assert [v.depth for v in tree] == [0, 1, 2, 2] and {v.id for v in tree} >= {v2.id, v3.id}
    assert [v.id for v in tree if v.is_head] == [v3.id]


def test_messages_with_versions(store):
    s = _session(store)
    store.add_message(s.id, "user", "add a hat")
    v = commit_layer(store, s.id, 1)
    m = store.add_message(s.id, "assistant", "done", version_id=v.id[:6], meta={"intent": "edit"})
    msgs = store.messages(s.id)
    assert [(x.role, x.text, x.version_id) for x in msgs] == [("user", "add a hat", None),
                                                              ("assistant", "done", v.id)]
    assert msgs[1].meta == {"intent": "edit"} and m.id == msgs[1].id


def test_persists_across_reopen(db_url):
    a = HistoryStore(db_url)
    s = _session(a)
    v = commit_layer(a, s.id, 1)
    a.undo(s.id)
    a.close()
    b = HistoryStore(db_url)
    assert b.head(s.id).id == s.head_version_id
    assert b.redo(s.id).id == v.id
    b.close()


def test_delete_session_removes_only_its_blobs(store):
    from sqlalchemy import func, select

    from storage.models import Blob

    keep = _session(store, seed=5)
    commit_layer(store, keep.id, 1)
    with store._read() as db:
        before = db.execute(select(func.count()).select_from(Blob)).scalar()
    gone = _session(store, seed=6)
    commit_layer(store, gone.id, 1)  # same layer as keep's: shared blob must survive
    commit_layer(store, gone.id, 2)
    store.render(gone.id)
    store.delete_session(gone.id)
    with store._read() as db:
        after = db.execute(select(func.count()).select_from(Blob)).scalar()
    assert after == before
    assert [x.id for x in store.list_sessions()] == [keep.id]
    assert np.array_equal(store.layer(keep.id), as_stored(make_layer(seed=1)))
    with pytest.raises(NotFoundError):
        store.head(gone.id)
