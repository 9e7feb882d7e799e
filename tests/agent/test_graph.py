"""Tests of the turn graph: which nodes run for each kind of utterance, and the understand rules."""

from __future__ import annotations

import pytest

from agent.classifier import InstructionClassifier
from agent.graph import GraphDeps, build_graph
from agent.state import TurnContext
from agent.understand import (
    LastEdit,
    check_input,
    last_object,
    parse_command,
    revise_instruction,
    split_compound,
    strip_revision,
    understand,
)
from tests.agent.fakes import FakeEngine, make_photo

EDIT_PATH = ["understand", "edit", "respond"]
HISTORY_PATH = ["understand", "history", "respond"]
CLARIFY_PATH = ["understand", "clarify"]


@pytest.fixture
def setup(tmp_path):
    from engine.imageio import load_image
    from storage.history import HistoryStore

    store = HistoryStore(f"sqlite:///{tmp_path / 'g.db'}")
    session = store.create_session(load_image(make_photo(tmp_path / "p.png")), name="p.png")
    engine = FakeEngine()
    deps = GraphDeps(store=store, classify=InstructionClassifier.load().classify, get_engine=lambda: engine,
                     export_dir=tmp_path)
    graph = build_graph(deps)

    def turn(text: str, **ctx) -> dict:
        return graph.invoke({"session_id": session.id, "text": text, "nodes_run": []}, context=TurnContext(**ctx))

    yield turn, store, session, engine
    store.close()


def test_graph_has_the_named_nodes_and_router():
    deps = GraphDeps(store=None, classify=lambda t: None, get_engine=lambda: None)
    compiled = build_graph(deps)
    g = compiled.get_graph()
    assert {"understand", "clarify", "edit", "history", "respond"} <= set(g.nodes)
    out_of_understand = [e for e in g.edges if e.source == "understand"]
    assert {e.target for e in out_of_understand} == {"clarify", "edit", "history", "layers", "respond"}
    assert all(e.conditional for e in out_of_understand)
    assert list(compiled.builder.branches["understand"]) == ["route_by_intent"]


@pytest.mark.parametrize("text, path", [
    ("make his tie blue", EDIT_PATH),
    ("help", ["understand", "respond"]),
    ("", CLARIFY_PATH),
    ("asdf qwerty zxcv", CLARIFY_PATH),
])
def test_nodes_run_per_utterance_kind(setup, text, path):
    turn, store, session, engine = setup
    state = turn(text)
    assert state["nodes_run"] == path
    assert state["reply"]


def test_history_commands_take_the_history_path(setup):
    turn, store, session, engine = setup
    assert turn("make his tie blue")["nodes_run"] == EDIT_PATH
    for text in ("undo", "redo", "history", "show the mask", "branch here as experiment", "go to version 0",
                 "save it as out.png"):
        state = turn(text)
        assert state["nodes_run"] == HISTORY_PATH, text
        assert state.get("error") is None, (text, state.get("error"))
    assert (store.head(session.id).depth, [b.name for b in store.branches(session.id)]) == (0, ["main", "experiment"])


def test_retry_and_revision_run_the_edit_node(setup):
    turn, store, session, engine = setup
    turn("make his tie blue")
    for text in ("try again", "red instead", "do it again"):
        assert turn(text)["nodes_run"] == EDIT_PATH, text
    assert [c[0] for c in engine.calls] == ["make his tie blue"] * 2 + ["make his tie red"] * 2


def test_retry_with_nothing_to_retry_clarifies(setup):
    turn, store, session, engine = setup
    state = turn("try again")
    assert state["nodes_run"] == CLARIFY_PATH
    assert engine.calls == [] and len(store.tree(session.id)) == 1


def test_compound_utterance_makes_two_edits_in_order(setup):
    turn, store, session, engine = setup
    state = turn("give the dog a hat and remove the leash")
    assert state["nodes_run"] == EDIT_PATH
    assert [(r["instruction"], r["action"]) for r in state["results"]] == [
        ("give the dog a hat", "add"), ("remove the leash", "remove")]
    first, second = state["results"]
    assert second["parent_id"] == first["version_id"]
    assert store.head(session.id).id == second["version_id"]


def test_compound_progress_says_which_edit_runs(setup):
    turn, store, session, engine = setup
    events = []
    turn("give the dog a hat and remove the leash", progress=events.append)
    starts = [(e.part, e.parts, e.message) for e in events if e.stage == "edit"]
    assert starts == [(1, 2, "give the dog a hat"), (2, 2, "remove the leash")]
    assert {e.part for e in events if e.stage == "denoise"} == {1, 2}


def test_progress_and_cancel_reach_the_engine(setup):
    turn, store, session, engine = setup
    events = []
    state = turn("make his tie blue", progress=events.append)
    assert events[0].stage == "edit" and events[0].message == "make his tie blue"
    assert [e.step for e in events if e.stage != "edit"] == [1, 2, 3] and state.get("error") is None
    assert {(e.part, e.parts) for e in events} == {(1, 1)}
    state = turn("remove the leash", cancel=lambda: True)
    assert state["error"] == "edit cancelled" and state["results"] == []
    assert "cancelled" in state["reply"] and len(store.tree(session.id)) == 2


# ----------------------------------------------------------- understand rules (pure functions)

def test_split_compound_only_before_edit_verbs():
    assert split_compound("give the dog a hat and remove the leash") == ["give the dog a hat", "remove the leash"]
    assert split_compound("make the photo black and white") == ["make the photo black and white"]
    assert split_compound("add salt and pepper to the fries") == ["add salt and pepper to the fries"]
    assert split_compound("add a hat, then make it red; remove the leash") == [
        "add a hat", "make it red", "remove the leash"]


@pytest.mark.parametrize("last, fragment, expected", [
    ("make his tie blue", "red", "make his tie red"),
    ("make his tie blue", "dark green", "make his tie dark green"),
    ("make his tie blue", "his shirt", "make his shirt blue"),
    ("give the dog a hat", "a crown", "give the dog a crown"),
    ("give the dog a hat", "crown", "give the dog a crown"),
    ("give the dog a hat", "the cat", "give the cat a hat"),
    ("remove the leash", "collar", "remove the collar"),
    ("turn the sky into a sunset", "a storm", "turn the sky into a storm"),
    ("add a hat", "red", "add a red hat"),
    ("add a hat", "umbrella", "add an umbrella"),
])
def test_revise_instruction_replaces_the_slot(last, fragment, expected):
    assert revise_instruction(last, fragment) == expected


def test_strip_revision_markers():
    assert strip_revision("actually, red") == ("red", None)
    assert strip_revision("red instead of blue") == ("red", "blue")
    assert strip_revision("no, make it green instead") == ("make it green", None)
    assert revise_instruction("make his tie blue and his hat blue", "red", "his hat blue") == \
        "make his tie blue and red"


def test_references_resolve_to_the_last_object():
    classify = InstructionClassifier.load().classify
    last = LastEdit("v2", "v1", "give the dog a hat", "add", 1)
    assert last_object("make his tie blue", "change") == "his tie"
    plan = understand("make it bigger", last, classify)
    assert [e["instruction"] for e in plan["edits"]] == ["make the hat bigger"]
    plan = understand("a crown instead", last, classify)
    assert plan["edits"] == [{"instruction": "give the dog a crown", "action": "add", "kind": "revise",
                              "parent": "v1", "seed": None}]
    plan = understand("add a scarf and make it red", last, classify)
    assert [e["instruction"] for e in plan["edits"]] == ["add a scarf", "make the scarf red"]
    assert understand("make it bigger", None, classify)["clarify"] == "unresolved_reference"
    tie = LastEdit("v2", "v1", "make his tie blue", "change", 0)
    assert understand("try again", tie, classify)["edits"][0]["kind"] == "retry"
    plan = understand("try again with red", tie, classify)
    assert [(e["instruction"], e["kind"], e["parent"]) for e in plan["edits"]] == [("make his tie red", "revise", "v1")]
    assert understand("do it again", tie, classify)["edits"][0] == {
        "instruction": "make his tie blue", "action": "change", "kind": "repeat", "parent": None, "seed": None}
    assert understand("revert", tie, classify)["command"] == {"intent": "undo", "count": 1}


@pytest.mark.parametrize("intent, text, expected", [
    ("undo", "undo twice", {"intent": "undo", "count": 2}),
    ("checkout", "go to version 3", {"intent": "checkout", "version_number": 3}),
    ("checkout", "switch to branch foo", {"intent": "checkout", "ref": "foo"}),
    ("checkout", "checkout abc123", {"intent": "checkout", "ref": "abc123"}),
    ("checkout", "go back to the start", {"intent": "undo_all"}),
    ("checkout", "go to the second version", {"intent": "checkout", "version_number": 2}),
    ("branch", "branch here as experiment", {"intent": "branch", "name": "experiment"}),
    ("export", "save it as final.png", {"intent": "export", "path": "final.png", "fmt": "png"}),
    ("export", "export as ora", {"intent": "export", "fmt": "ora"}),
    ("show", "show me the original", {"intent": "show", "view": "original"}),
    ("show", "show the difference", {"intent": "show", "view": "diff"}),
])
def test_command_arguments(intent, text, expected):
    assert parse_command(intent, text) == expected


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("   \n", "empty"), ("?!", "empty"), ("make it " * 1250, "too_long"),
    ("把领带变成蓝色", "not_english"), ("сделай галстук синим", "not_english"),
    ("haz la corbata azul", "unsupported"), ("make his tie blue", None),
])
def test_check_input(text, reason):
    assert check_input(text) == reason
