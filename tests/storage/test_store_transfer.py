"""Moving a session between databases (a batch worker's scratch store -> the history DB)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from storage.errors import InvalidOperationError
from storage.history import HistoryStore
from storage.transfer import completed_replays, dump_session, load_session, mark_complete
from tests.storage.storehelp import commit_layer, make_image


def _history(store: HistoryStore):
    """A session with a branchy tree, undo/redo pointers, a named branch and messages."""
    s = store.create_session(make_image(), name="photo.png", source_path="/tmp/photo.png")
    v1 = commit_layer(store, s.id, 1, "make it blue")
    v2 = commit_layer(store, s.id, 2, "add a hat")
    store.undo(s.id)
    v3 = commit_layer(store, s.id, 3, "add a crown")  # a sibling of v2 on a new branch
    store.branch(s.id, "crowns")
    store.checkout(s.id, v2.id)
    store.add_message(s.id, "user", "add a hat", version_id=v1.id)
    store.add_message(s.id, "assistant", "Added a hat.", version_id=v2.id, meta={"intent": "edit", "n": 2})
    return s, (v1, v2, v3)


def _snapshot(store: HistoryStore, sid: str):
    info = store.get_session(sid)
    tree = [(v.id, v.parent_id, v.instruction, v.params, v.depth, v.number, sorted(v.branches), v.is_head)
            for v in store.tree(sid)]
    msgs = [(m.role, m.text, m.version_id, m.meta) for m in store.messages(sid)]
    renders = {v.id: store.render(sid, v.id).tobytes() for v in store.tree(sid)}
    return info.name, info.head_branch, info.head_version_id, tree, sorted(map(tuple, map(vars, store.branches(sid)))), msgs, renders


def test_a_bundle_recreates_the_session_with_the_same_ids(tmp_path):
    src, dst = HistoryStore(f"sqlite:///{tmp_path / 'a.db'}"), HistoryStore(f"sqlite:///{tmp_path / 'b.db'}")
    s, (v1, v2, v3) = _history(src)
    bundle = pickle.loads(pickle.dumps(dump_session(src, s.id)))  # it crosses a process boundary
    assert bundle.nbytes() > 0
    info = load_session(dst, bundle, marker={"key": "k1", "script": "a.yaml", "turns": 3})
    assert info.id == s.id and info.head_version_id == v2.id
    before, after = _snapshot(src, s.id), _snapshot(dst, s.id)
    assert before[:5] == after[:5] and before[6] == after[6]
    assert after[5][:-1] == before[5]  # the same messages, plus the completion marker at the end
    assert after[5][-1][0] == "system" and after[5][-1][3]["replay"]["key"] == "k1"
    # redo pointers came along: undo then redo on the copy lands where it does on the original
    assert dst.undo(s.id).id == v1.id and dst.redo(s.id).id == v2.id
    assert np.array_equal(dst.layer(s.id, v3.id), src.layer(s.id, v3.id))
    from sqlalchemy import select

    from storage.models import Blob, VersionRow

    with dst._read() as db:  # every stored preview's blob came along (none dangles)
        shas = [sha for sha in db.execute(select(VersionRow.preview_blob)).scalars() if sha]
        assert len(shas) == 4 and all(db.get(Blob, sha) is not None for sha in shas)
    fresh = HistoryStore(dst.url)  # nothing in memory: the stored crops and previews came along
    assert np.array_equal(fresh.layer_crop(s.id, v3.id).rgba, src.layer_crop(s.id, v3.id).rgba)
    assert np.array_equal(fresh.preview(s.id, v2.id), src.preview(s.id, v2.id))
    fresh.close()
    assert completed_replays(dst) == {"k1": s.id} and completed_replays(src) == {}
    with pytest.raises(InvalidOperationError):
        load_session(dst, bundle)  # never twice
    src.close(), dst.close()


def test_mark_complete_marks_a_session_written_in_place(tmp_path):
    store = HistoryStore(f"sqlite:///{tmp_path / 'a.db'}")
    s, _ = _history(store)
    mark_complete(store, s.id, {"key": "abc", "script": "x.yaml", "turns": 2})
    assert completed_replays(store) == {"abc": s.id}
    with pytest.raises(InvalidOperationError):
        mark_complete(store, "f" * 32, {"key": "zzz"})
    store.close()


def test_edit_sources_travel_with_the_session(tmp_path):
    """What a later reshape needs of each edit (I_sty, M_b, M_f) comes along with the versions."""
    from sqlalchemy import func, select

    from agent.service import ZoneService
    from storage.models import EditSourceRow
    from tests.agent.fakes import FakeEngine, make_photo

    src = HistoryStore(f"sqlite:///{tmp_path / 'a.db'}")
    service = ZoneService(store=src, engine_factory=FakeEngine, export_dir=tmp_path)
    s = service.open_image(make_photo(tmp_path / "photo.png"))
    service.handle(s.id, "make his tie blue")
    service.handle(s.id, "give him a hat")
    dst = HistoryStore(f"sqlite:///{tmp_path / 'b.db'}")
    load_session(dst, dump_session(src, s.id))

    def rows(store):
        with store._read() as db:
            return sorted((r.version_id, r.canvas_blob, r.rough_blob, r.refined_blob, str(r.mask_params))
                          for r in db.execute(select(EditSourceRow)).scalars())

    assert len(rows(src)) == 2 and rows(dst) == rows(src)
    with dst._read() as db:
        from storage.blobs import get_blob

        for _, canvas, rough, refined, _ in rows(dst):
            for sha in (canvas, rough, refined):
                if sha:
                    assert get_blob(db, sha)  # present and intact
    assert np.array_equal(dst.render(s.id), src.render(s.id))
    src.close(), dst.close()


def test_redo_survives_the_transfer(tmp_path):
    """Redo is derived from the HEAD-move log, so the log travels: an undone line redoes on the copy."""
    src, dst = HistoryStore(f"sqlite:///{tmp_path / 'a.db'}"), HistoryStore(f"sqlite:///{tmp_path / 'b.db'}")
    s = src.create_session(make_image(), name="photo.png")
    v1 = commit_layer(src, s.id, 1, "make it blue")
    v2 = commit_layer(src, s.id, 2, "add a hat")
    src.undo(s.id), src.undo(s.id)  # HEAD at the original; redo would walk v1 then v2
    load_session(dst, pickle.loads(pickle.dumps(dump_session(src, s.id))))
    assert dst.head_moves(s.id) == src.head_moves(s.id)
    assert dst.redo(s.id).id == v1.id and dst.redo(s.id).id == v2.id
    src.close(), dst.close()
