"""Replayed scripts that use every layer operation in words, with references resolved from the history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agent.replay import load_script, run_replay
from agent.service import ZoneService
from tests.agent.fakes import FakeEngine, make_photo

TURNS = [
    "give him a hat",            # 1  edit  v1 (hat)
    "put snow on the ground",    # 2  edit  v2 (snow)
    "hide the hat",              # 3  hide v1
    "bring the hat back",        # 4  show v1
    "fade the snow to half",     # 5  opacity v2 0.5
    "full strength again",       # 6  opacity v2 1.0 (the layer talked about last)
    "make it 30% transparent",   # 7  opacity v2 0.7
    "move the hat left a bit",   # 8  move v1: 2% of 64 px -> 1 px
    "move it up 20 pixels",      # 9  move v1 (the layer talked about last)
    "make the hat bigger",       # 10 scale v1 x1.25
    "smaller",                   # 11 scale v1 x0.8
    "grow the edit",             # 12 reshape the hat (the layer talked about last)
    "shrink the edit",           # 13 reshape the hat
    "use the whole edit",        # 14 reshape the hat: whole
    "undo",                      # 15
    "drop the second edit",      # 16 hide v2
    "hide it",                   # 17 it = v2, already hidden: says so
    "make the hat red",          # 18 edit v3: now two edits name the hat
    "hide the hat",              # 19 ambiguous: asks
    "hide the first edit",       # 20 hide v1 by order
    "undo",                      # 21
    "redo",                      # 22
]


def _script(tmp_path: Path, turns) -> Path:
    make_photo(tmp_path / "photo.png")
    path = tmp_path / "layers.yaml"
    path.write_text("\n".join(["image: photo.png", "seed: 0", "turns:"] + [f"  - {json.dumps(t)}" for t in turns]) + "\n")
    return path


def _stack(store, sid, ref):
    return [(l.number, l.visible, l.opacity, l.dx, l.dy, l.scale) for l in store.layer_stack(sid, ref)]


def test_a_script_of_layer_operations_in_words(tmp_path):
    engine = FakeEngine()
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'zone.db'}", engine_factory=lambda: engine,
                          export_dir=tmp_path / "out")
    report = run_replay(load_script(_script(tmp_path, TURNS)), tmp_path / "out", service=service)
    turns, store, sid = report["turns"], service.store, report["session"]
    intents = [t["intent"] for t in turns]
    assert intents == ["edit", "edit"] + ["layer"] * 12 + ["undo", "layer", "layer", "edit", "layer", "layer",
                                                           "undo", "redo"]
    assert len(engine.calls) == 3  # only the three edits ran the engine
    v1, v2 = turns[0]["version"], turns[1]["version"]
    n1, n2 = store.resolve(sid, v1).number, store.resolve(sid, v2).number

    def at(i):
        return _stack(store, sid, turns[i - 1]["head"])

    assert at(3) == [(n1, False, 1.0, 0, 0, 1.0), (n2, True, 1.0, 0, 0, 1.0)]
    assert at(4) == [(n1, True, 1.0, 0, 0, 1.0), (n2, True, 1.0, 0, 0, 1.0)]
    assert at(5)[1][2] == 0.5 and at(6)[1][2] == 1.0 and at(7)[1][2] == 0.7
    assert at(8)[0][3:5] == (-1, 0) and at(9)[0][3:5] == (-1, -20)
    assert at(10)[0][5] == 1.25 and at(11)[0][5] == 1.0
    for i in (12, 13, 14):
        head = store.resolve(sid, turns[i - 1]["head"])
        assert head.op == "reshape" and head.op_args["target"] == v1, turns[i - 1]["reply"]
    assert [store.resolve(sid, turns[i - 1]["head"]).op_args["mode"] for i in (12, 13, 14)] == ["grow", "shrink", "whole"]
    assert turns[14]["head"] == turns[12]["head"]  # undo
    assert at(16)[1][1] is False
    assert turns[16]["error"] and "already hidden" in turns[16]["reply"] and turns[16]["head"] == turns[15]["head"]
    # Two edits name the hat now: the agent asks, and nothing changes.
    assert turns[18]["clarify"] == "which_layer" and turns[18]["head"] == turns[17]["head"]
    assert "give him a hat" in turns[18]["reply"] and "make the hat red" in turns[18]["reply"]
    assert at(20)[0][1] is False and at(20)[2][1] is True
    assert turns[20]["head"] == turns[18]["head"] and turns[21]["head"] == turns[19]["head"]
    # Each turn's image is the render of its HEAD; hidden-everything shows the original (minus v3).
    final = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(report["final"]).convert("RGB"))
    assert np.array_equal(final, store.render(sid))
    assert report["failed"] == 1  # turn 17: "hide it" when it is already hidden


def test_hide_it_means_the_last_edit(tmp_path):
    engine = FakeEngine()
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'zone.db'}", engine_factory=lambda: engine,
                          export_dir=tmp_path / "out")
    report = run_replay(load_script(_script(tmp_path, ["give him a hat", "make the tie blue", "hide it",
                                                        "bring it back", "hide the tie"])),
                        tmp_path / "out", service=service)
    turns, store, sid = report["turns"], service.store, report["session"]
    assert [t["error"] for t in turns] == [None] * 5
    hidden = store.resolve(sid, turns[2]["head"])
    assert hidden.op == "hide" and hidden.op_args["target"] == turns[1]["version"]
    assert np.array_equal(store.render(sid, hidden.id), store.render(sid, turns[0]["version"]))
    assert store.resolve(sid, turns[3]["head"]).op == "show"
    assert np.array_equal(store.render(sid, turns[3]["head"]), store.render(sid, turns[1]["version"]))
    assert store.resolve(sid, turns[4]["head"]).op_args["target"] == turns[1]["version"]
