"""Relative follow-ups ("a bit more", "the other way") replayed end to end: sibling, same parent, scaled s_T."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.control import MAX_TEXT_SCALE, MIN_TEXT_SCALE, STEP, Relative, read_relative
from agent.replay import load_script, run_replay
from agent.service import ZoneService
from tests.agent.fakes import FakeEngine, make_photo


def replay(tmp_path: Path, turns: list[str]) -> tuple[dict, dict, FakeEngine]:
    """Run `turns` on a fake engine; returns (report, {version id: VersionInfo}, engine)."""
    make_photo(tmp_path / "photo.png")
    lines = ["image: photo.png", "seed: 3", "turns:"] + [f"  - {json.dumps(t)}" for t in turns]
    (tmp_path / "s.yaml").write_text("\n".join(lines) + "\n")
    engine = FakeEngine()
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'z.db'}", engine_factory=lambda: engine, seed=3)
    report = run_replay(load_script(tmp_path / "s.yaml"), tmp_path / "out", service=service)
    return report, {v.id: v for v in service.store.tree(report["session"])}, engine


def test_more_reruns_the_last_edit_as_a_sibling_with_stronger_guidance(tmp_path):
    report, tree, engine = replay(tmp_path, ["make the sky brighter", "a bit more"])
    first, more = report["turns"]
    assert more["intent"] == "edit" and more["error"] is None
    assert more["parent"] == first["parent"]  # same parent: a sibling, not a child
    v1, v2 = tree[first["version"]], tree[more["version"]]
    assert v2.instruction == v1.instruction == "make the sky brighter"
    assert v1.params["text_scale"] == 7.5 and v2.params["text_scale"] == pytest.approx(7.5 * STEP)
    assert v2.params["seed"] == v1.params["seed"]  # only the guidance changed
    assert "Re-ran 'make the sky brighter' stronger (text guidance 9.8)" in more["reply"]
    assert "sibling" in more["reply"]


def test_less_by_percent_and_the_other_way(tmp_path):
    turns = ["make the sky brighter", "increase it by 40 more", "a bit less", "now the other way"]
    report, tree, _ = replay(tmp_path, turns)
    scales = [tree[t["version"]].params["text_scale"] for t in report["turns"]]
    assert scales[0] == 7.5
    assert scales[1] == pytest.approx(7.5 * 1.4)
    assert scales[2] == pytest.approx(round(7.5 * 1.4 / STEP, 2))
    assert scales[3] == pytest.approx(round(scales[2] / STEP, 2))  # above the base: the other way is weaker
    parents = {t["parent"] for t in report["turns"]}
    assert len(parents) == 1  # every re-run hangs off the first edit's parent
    assert "weaker (text guidance" in report["turns"][2]["reply"]


def test_a_follow_up_before_any_edit_asks(tmp_path):
    report, tree, engine = replay(tmp_path, ["a bit more"])
    assert report["turns"][0]["clarify"] == "nothing_to_adjust" and engine.calls == []
    assert len(tree) == 1


@pytest.mark.parametrize("text, direction, steps, percent", [
    ("more", "stronger", 1, None), ("a bit more", "stronger", 1, None), ("much more", "stronger", 2, None),
    ("a bit less", "weaker", 1, None), ("less please", "weaker", 1, None), ("tone it down", "weaker", 1, None),
    ("again but stronger", "stronger", 1, None), ("do it again but weaker", "weaker", 1, None),
    ("increase by 40 more", "stronger", 1, 40.0), ("increase it by 40%", "stronger", 1, 40.0),
    ("change it again by 30", "stronger", 1, 30.0), ("repeat that but by -20", "weaker", 1, 20.0),
    ("decrease it by 25 percent", "weaker", 1, 25.0), ("the other way", "other", 1, None),
    ("now the other way round", "other", 1, None), ("too much", "weaker", 1, None),
])
def test_relative_phrasings(text, direction, steps, percent):
    assert read_relative(text, "make the sky brighter") == Relative(direction, steps, percent)


@pytest.mark.parametrize("text", ["more colour", "add one more bag", "make it brighter", "50", "less red on the car",
                                  "add even more sprinkles"])
def test_edits_that_mention_more_are_not_follow_ups(text):
    assert read_relative(text, "make the sky brighter") is None


def test_comparatives_follow_the_last_edit_only_when_they_match_it():
    assert read_relative("even brighter", "make the sky brighter") == Relative("stronger")
    assert read_relative("even darker", "make the sky brighter") == Relative("weaker")
    assert read_relative("even brighter", None) is None
    assert read_relative("even bigger", "make the sky brighter") is None


def test_the_scale_rule_and_its_clamp():
    assert Relative("stronger").scale(7.5, 7.5) == pytest.approx(9.75)
    assert Relative("weaker", 2).scale(7.5, 7.5) == pytest.approx(round(7.5 / STEP ** 2, 2))
    assert Relative("stronger", 1, 50.0).scale(10.0, 7.5) == pytest.approx(15.0)
    assert Relative("weaker", 1, 50.0).scale(10.0, 7.5) == pytest.approx(5.0)
    assert Relative("other").scale(5.0, 7.5) == pytest.approx(6.5)  # below the base: the other way is stronger
    assert Relative("stronger", 9).scale(15.0, 7.5) == MAX_TEXT_SCALE
    assert Relative("weaker", 9).scale(3.0, 7.5) == MIN_TEXT_SCALE
