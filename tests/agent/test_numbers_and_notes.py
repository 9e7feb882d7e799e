"""One number per version in the replies, engine notes in plain words, exports that never make
folders, HEAD moved by another process, and a shutdown that stops all writes."""

from __future__ import annotations

import threading

from agent import replies
from agent.exports import missing_folder
from agent.service import ServiceClosedError
from tests.agent.fakes import make_service


def test_go_to_version_uses_the_stored_number_not_the_depth(tmp_path):
    service, session, _ = make_service(tmp_path)
    sid = session.id
    service.handle(sid, "make his tie blue")                  # v1
    service.handle(sid, "give him a hat")                     # v2
    retry = service.handle(sid, "try again")                  # v3: a sibling of v2, at depth 2
    assert retry.number == 3 and "v3 (" in retry.reply and "version 2" not in retry.reply
    service.handle(sid, "undo")
    moved = service.handle(sid, "go to version 3")
    assert moved.head_id == retry.version_id and moved.number == 3 and "v3" in moved.reply
    missing = service.handle(sid, "go to version 7")
    assert missing.error and "v0 (the original) to v3" in missing.reply
    assert service.handle(sid, "checkout v2").number == 2


def test_engine_notes_are_translated_and_unknown_ones_get_a_plain_hint():
    assert replies.user_note("the smoothed mask covered 95% of the image; kept the refined mask") == \
        "the edit covered almost the whole photo, so I kept it to the region I found"
    assert replies.user_note("some new engine note about kernels") == replies.GENERIC_NOTE
    text = replies.edited([{"instruction": "add a hat", "version_id": "ab" * 16, "number": 4, "where": "in the centre",
                            "mask_fraction": 0.3, "warnings": ["the smoothed mask covered 95% of the image"]}])
    assert "v4 (abababab)" in text and "almost the whole photo" in text and "smoothed" not in text


def test_chat_export_refuses_a_missing_folder_like_the_dialog(tmp_path):
    service, session, _ = make_service(tmp_path)
    target = tmp_path / "nowhere" / "x.png"
    r = service.handle(session.id, f"save it as {target}")
    assert r.error and r.reply == missing_folder(target) + "."
    assert r.reply == f"No such folder: {target.parent}." and not target.parent.exists()


def test_a_head_moved_elsewhere_is_reported_and_nothing_runs(tmp_path):
    service, session, _ = make_service(tmp_path)
    sid = session.id
    first = service.handle(sid, "make his tie blue")
    service.store.undo(sid)  # as `zone undo` in another shell would
    before = len(service.messages(sid))
    r = service.handle(sid, "undo", expect_head=first.version_id)
    assert r.head_moved and r.head_id == session.head_version_id and "moved to v0" in r.reply
    assert len(service.messages(sid)) == before and service.head(sid).number == 0
    assert not service.handle(sid, "redo", expect_head=session.head_version_id).head_moved


def test_shutdown_waits_for_a_running_write_and_refuses_later_ones(tmp_path):
    service, session, _ = make_service(tmp_path)
    inner = service.store._store
    entered, release = threading.Event(), threading.Event()
    original = inner.add_message

    def slow_add(*args, **kwargs):
        entered.set()
        release.wait(5)
        return original(*args, **kwargs)

    inner.add_message = slow_add
    writer = threading.Thread(target=service.store.add_message, args=(session.id, "user", "hello"))
    writer.start()
    entered.wait(5)
    assert service.shutdown(timeout=0.05) is False  # still writing: it is not cut off half-way
    release.set()
    writer.join(5)
    inner.add_message = original
    assert [m.text for m in service.messages(session.id)] == ["hello"]
    try:
        service.store.add_message(session.id, "assistant", "late")
    except ServiceClosedError:
        pass
    else:
        raise AssertionError("a write after shutdown went through")
    assert len(service.messages(session.id)) == 1
