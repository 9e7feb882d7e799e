"""Tests of ZoneService: dialogue over the real HistoryStore with the fake engine."""

from __future__ import annotations

import numpy as np
import pytest

from agent.service import ZoneService
from tests.agent.fakes import FakeEngine, make_service


@pytest.fixture
def svc(tmp_path):
    service, session, engine = make_service(tmp_path)
    yield service, session.id, engine
    service.close()


def _children(service, sid, parent_id):
    return [v for v in service.history(sid) if v.parent_id == parent_id]


def test_edit_commits_a_version_and_replies_with_it(svc):
    service, sid, engine = svc
    r = service.handle(sid, "make his tie blue")
    assert (r.intent, r.action, r.error) == ("edit", "change", None)
    head = service.store.head(sid)
    assert r.version_id == r.head_id == head.id and r.parent_id == head.parent_id
    assert head.instruction == "make his tie blue" and head.action == "change"
    assert head.params["seed"] == 0 and head.params["action"] == "change"
    assert r.version_id[:8] in r.reply and "in the centre" in r.reply
    # pixels outside the fake's rectangle are the original's, byte for byte
    mask = service.mask(sid)
    assert np.array_equal(service.render(sid)[~mask], service.original(sid)[~mask])


def test_instead_revises_the_last_edit_as_a_branch_from_its_parent(svc):
    service, sid, engine = svc
    blue = service.handle(sid, "make his tie blue")
    red = service.handle(sid, "actually, red")
    assert red.intent == "edit" and red.error is None
    assert red.parent_id == blue.parent_id  # a sibling, not a child
    version = service.store.head(sid)
    assert version.instruction == "make his tie red" and version.id == red.version_id
    branches = {b.name: b.version_id for b in service.store.branches(sid)}
    assert branches["main"] == blue.version_id  # the blue line keeps its name
    assert red.version_id in branches.values() and len(branches) == 2
    assert "new branch" in red.reply


def test_retry_makes_a_sibling_with_a_new_seed(svc):
    service, sid, engine = svc
    first = service.handle(sid, "give the dog a hat")
    second = service.handle(sid, "try again")
    third = service.handle(sid, "try again")
    assert second.intent == third.intent == "retry"
    assert first.parent_id == second.parent_id == third.parent_id
    siblings = _children(service, sid, first.parent_id)
    assert [v.instruction for v in siblings] == ["give the dog a hat"] * 3
    seeds = [v.params["seed"] for v in siblings]
    assert len(set(seeds)) == 3
    assert [c[2] for c in engine.calls] == seeds
    assert not np.array_equal(service.render(sid, first.version_id), service.render(sid, third.version_id))


def test_again_repeats_the_last_instruction_on_head(svc):
    service, sid, engine = svc
    first = service.handle(sid, "make the sky brighter")
    again = service.handle(sid, "do it again")
    assert again.parent_id == first.version_id
    assert service.store.head(sid).instruction == "make the sky brighter"
    assert service.store.head(sid).depth == 2


def test_undo_redo_branch_checkout_through_dialogue(svc):
    service, sid, engine = svc
    v1 = service.handle(sid, "make his tie blue").version_id
    v2 = service.handle(sid, "give him a hat").version_id
    assert service.handle(sid, "undo").head_id == v1
    assert service.handle(sid, "redo").head_id == v2
    r = service.handle(sid, "undo twice")
    assert r.intent == "undo" and service.store.head(sid).parent_id is None
    assert "'give him a hat', 'make his tie blue'" in r.reply
    nothing = service.handle(sid, "undo")
    assert nothing.error and "nothing to undo" in nothing.reply.lower()
    assert service.handle(sid, "go to version 2").head_id == v2  # forward again, by number
    assert service.handle(sid, "go to version 1").head_id == v1
    b = service.handle(sid, "branch here as experiment")
    assert b.intent == "branch" and b.error is None
    v3 = service.handle(sid, "remove the leash").version_id
    assert {b.name: b.version_id for b in service.store.branches(sid)} == {"main": v2, "experiment": v3}
    assert service.handle(sid, "switch to branch main").head_id == v2
    assert service.handle(sid, f"checkout {v3[:8]}").head_id == v3
    assert service.handle(sid, "go back to the start").head_id == service.store.log(sid)[0].id
    bad = service.handle(sid, "go to version 9")
    assert bad.error and "no version 9" in bad.reply
    assert len(service.history(sid)) == 4


def test_export_show_and_history(svc, tmp_path):
    service, sid, engine = svc
    service.handle(sid, "make his tie blue")
    r = service.handle(sid, "save it as final.png")
    assert r.intent == "export" and r.error is None
    assert (tmp_path / "exports" / "final.png").is_file()
    r = service.handle(sid, "export as ora")
    assert r.error is None and list((tmp_path / "exports").glob("*.ora"))
    r = service.handle(sid, "save it as final.gif")
    assert r.error and "gif" in r.reply and not (tmp_path / "exports" / "final.gif").exists()
    r = service.handle(sid, "show me the mask")
    assert (r.intent, r.view) == ("show", "mask")
    assert service.handle(sid, "history").reply.startswith("2 versions")
    for name in ("result", "original", "layer", "mask", "diff"):
        img = service.view(sid, name)
        assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert (service.view(sid, "mask") > 0).any()
    unchanged = service.view(sid, "diff", ref=service.store.log(sid)[0].id)
    assert (unchanged[..., 0] == unchanged[..., 1]).all()  # grey: nothing changed at the root
    changed = service.view(sid, "diff")
    assert np.array_equal(changed[..., 0] != changed[..., 1], service.mask(sid))


@pytest.mark.parametrize("text", ["", "   ", "asdf qwerty zxcv", "x" * 10_000, "make it " * 1250,
                                  "haz la corbata azul", "把领带变成蓝色", "the", "blah blah blah"])
def test_bad_input_gets_a_question_and_no_edit(svc, text):
    service, sid, engine = svc
    r = service.handle(sid, text)
    assert r.intent == "unknown" and r.error is None and r.edits == [] and r.clarify
    assert r.reply.endswith("?") or "?" in r.reply
    assert r.nodes_run == ["understand", "clarify"]
    assert engine.calls == [] and len(service.history(sid)) == 1


def test_engine_error_is_reported_and_nothing_is_committed(tmp_path):
    service, session, engine = make_service(tmp_path, FakeEngine(fail_on="leash"))
    sid = session.id
    r = service.handle(sid, "remove the leash")
    assert r.error and "fake engine refuses" in r.error and r.version_id is None
    assert r.reply.startswith("The edit failed") and "\n" not in r.reply
    assert len(service.history(sid)) == 1
    r = service.handle(sid, "give the dog a hat and remove the leash")
    assert r.error and len(r.edits) == 1  # the first edit of the turn is kept
    assert service.store.head(sid).instruction == "give the dog a hat"
    assert "1 earlier edit" in r.reply


def test_conversation_persists_across_a_restart(tmp_path):
    service, session, engine = make_service(tmp_path)
    blue = service.handle(session.id, "make his tie blue")
    service.close()
    again = ZoneService(db_url=f"sqlite:///{tmp_path / 'zone.db'}", engine_factory=FakeEngine)
    resumed = again.resume(session.id[:8])
    assert resumed.id == session.id and again.resume().id == session.id
    red = again.handle(session.id, "red instead")  # context comes from the database
    assert red.parent_id == blue.parent_id and again.store.head(session.id).instruction == "make his tie red"
    messages = again.messages(session.id)
    assert [(m.role, m.text) for m in messages] == [
        ("user", "make his tie blue"), ("assistant", blue.reply), ("user", "red instead"), ("assistant", red.reply)]
    assert messages[1].version_id == blue.version_id and messages[1].meta["intent"] == "edit"
    again.close()


def test_seeds_follow_the_base_seed(tmp_path):
    service, session, engine = make_service(tmp_path, seed=40)
    service.handle(session.id, "make his tie blue")
    service.handle(session.id, "give him a hat")
    assert [c[2] for c in engine.calls] == [40, 41]
    service.close()


@pytest.mark.slow
def test_tiny_engine_cancel_then_edit(tmp_path):
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'tiny.db'}", engine="tiny", device="cpu",
                          edit_params={"steps": 2, "work_size": 64})
    from tests.agent.fakes import make_photo

    sid = service.open_image(make_photo(tmp_path / "p.png")).id
    cancelled = service.handle(sid, "make his tie blue", cancel=lambda: True)
    assert cancelled.error and "cancel" in cancelled.error.lower() and cancelled.version_id is None
    assert cancelled.reply.startswith("Edit cancelled") and len(service.history(sid)) == 1
    events = []
    done = service.handle(sid, "make his tie blue", progress=events.append)
    assert done.error is None and done.version_id == service.store.head(sid).id
    assert {"denoise", "segment"} <= {e.stage for e in events}
    assert service.store.head(sid).params["engine"] == "tiny"
    mask = service.mask(sid)
    assert np.array_equal(service.render(sid)[~mask], service.original(sid)[~mask])
    service.close()


def test_an_internal_error_becomes_a_one_line_reply(tmp_path, monkeypatch):
    class Broken:
        def classify(self, text):
            raise RuntimeError("boom\nsecond line")

    monkeypatch.delenv("ZONE_DEBUG", raising=False)
    service, session, engine = make_service(tmp_path, classifier=Broken())
    r = service.handle(session.id, "make his tie blue")
    assert r.error and "RuntimeError" not in r.error and "\n" not in r.reply
    assert r.error_kind == "internal"  # no class names for users
    assert r.reply.startswith("Something went wrong") and len(service.history(session.id)) == 1
    assert [m.role for m in service.messages(session.id)] == ["user", "assistant"]
    service.close()


def test_export_with_a_long_explicit_path_and_service_export(tmp_path):
    svc, session, _ = make_service(tmp_path)
    target = tmp_path / "some" / "deeper-folder_1"
    target.mkdir(parents=True)
    r = svc.handle(session.id, f"save it as {target}/final.ora")
    assert r.intent == "export" and r.error is None, r.reply
    assert (target / "final.ora").is_file()
    written = svc.export(session.id, "HEAD", target / "again.png")
    assert written.is_file() and "Exported version" in svc.messages(session.id)[-1].text


def test_typed_commands_are_routed_without_parsing_the_text(svc, tmp_path):
    service, sid, engine = svc
    first = service.handle(sid, "make his tie blue")
    r = service.handle(sid, "branch here as feature/x", command={"intent": "branch", "name": "feature/x"})
    assert r.error is None and r.nodes_run == ["understand", "history", "respond"]
    assert "feature/x" in {b.name for b in service.store.branches(sid)}
    # the text is only what the conversation shows: a typed undo never reads it
    r = service.handle(sid, "Ctrl+Z", command={"intent": "undo", "count": 1})
    assert r.intent == "undo" and service.store.head(sid).id == first.parent_id
    r = service.handle(sid, "checkout", command={"intent": "checkout", "ref": first.version_id})
    assert service.store.head(sid).id == first.version_id
    out = tmp_path / "exports" / "v1.png"
    r = service.handle(sid, "export", command={"intent": "export", "ref": first.parent_id, "path": str(out),
                                               "fmt": "png"})
    assert r.error is None and out.is_file() and str(out) in r.reply and "the original" in r.reply
    said = [m.text for m in service.messages(sid) if m.role == "user"]
    assert said[-4:] == ["branch here as feature/x", "Ctrl+Z", "checkout", "export"]


def test_a_malformed_typed_command_is_one_line_and_changes_nothing(svc):
    service, sid, engine = svc
    head = service.store.head(sid).id
    r = service.handle(sid, "branch", command={"intent": "branch"})
    assert r.error and "\n" not in r.reply and "name" in r.error
    r = service.handle(sid, "x", command={"intent": "launch"})
    assert r.error and service.store.head(sid).id == head


def test_a_branch_name_with_a_slash_survives_the_parser(svc):
    service, sid, engine = svc
    service.handle(sid, "make his tie blue")
    r = service.handle(sid, "branch here as feature/x")
    assert r.error is None and "feature/x" in {b.name for b in service.store.branches(sid)}
    r = service.handle(sid, "switch to branch feature/x.")
    assert r.error is None and r.command == {"intent": "checkout", "ref": "feature/x"}


@pytest.mark.parametrize("raised,kind,reply", [
    ("cancelled", "cancelled", "Edit cancelled; nothing was committed."),
    ("weights", "weights", "The edit failed: no weights here; nothing else changed."),
    ("oom", "out_of_memory", "The edit failed: out of memory; try a smaller image or --device cpu;"),
    ("gpu", "out_of_memory", "The edit failed: the GPU ran out of memory;"),
    ("input", "input", "The edit failed: cannot edit 'make his tie blue'"),
    ("bug", "internal", "The edit failed: an internal error stopped it"),
])
def test_a_failed_edit_carries_its_kind_classified_where_it_was_caught(tmp_path, raised, kind, reply):
    """TurnResult.error_kind comes from the exception's class, never from the message's words."""
    from engine.errors import DeviceOutOfMemoryError, EditCancelled, WeightsMissingError, ZoneInputError

    class Failing(FakeEngine):
        def edit(self, image, instruction, params, progress=None, cancel=None):
            # a cancellation whose message says nothing of cancelling is still one
            raise {"cancelled": EditCancelled("stopped at step 3"), "weights": WeightsMissingError("no weights here"),
                   "oom": MemoryError(), "gpu": DeviceOutOfMemoryError("the GPU ran out of memory"), "input": ZoneInputError(f"cannot edit {instruction!r}"),
                   "bug": KeyError("x")}[raised]

    service, session, _ = make_service(tmp_path, engine=Failing())
    r = service.handle(session.id, "make his tie blue")
    assert r.error_kind == kind and r.reply.startswith(reply), r.reply
    assert service.messages(session.id)[-1].meta["error_kind"] == kind
    assert len(service.history(session.id)) == 1
    service.close()


def test_a_typed_layer_command_hides_and_fades_without_reading_words(svc):
    service, sid, engine = svc
    service.handle(sid, "give him a hat")
    service.handle(sid, "make the tie blue")
    # The shown text says nothing the parser could read: only the typed command decides.
    r = service.handle(sid, "key", command={"intent": "layer", "op": "hide", "ref": "v1"})
    assert r.error is None and [l.visible for l in service.store.layer_stack(sid)] == [False, True]
    r = service.handle(sid, "key", command={"intent": "layer", "op": "opacity", "ref": "v2", "opacity": 0.4})
    assert r.error is None and [l.opacity for l in service.store.layer_stack(sid)][1] == 0.4
    head = service.store.head(sid).id
    for bad in ({"intent": "layer", "op": "explode", "ref": "v1"}, {"intent": "layer", "op": "hide"},
                {"intent": "layer", "op": "opacity", "ref": "v1", "opacity": 2.0}):
        r = service.handle(sid, "key", command=bad)
        assert r.error and r.error_kind == "input" and "\n" not in r.reply
    assert service.store.head(sid).id == head
