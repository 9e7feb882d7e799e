"""Tests of scripted replay: intents, versions and the history tree after multi-turn scripts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.replay import load_script, run_replay
from agent.service import ZoneService
from engine.errors import ZoneInputError
from tests.agent.fakes import FakeEngine, make_photo

TURNS = [
    "make his tie blue",        # 1 edit        -> v1 (main)
    "give him a hat",           # 2 edit        -> v2 (main)
    "undo",                     # 3 undo        -> v1
    "redo",                     # 4 redo        -> v2
    "try again",                # 5 retry       -> v3, sibling of v2 (new branch)
    "branch here as hats",      # 6 branch      -> at v3
    "a crown instead",          # 7 revise      -> v4, child of v1, another new branch
    "switch to branch main",    # 8 checkout    -> v2
    "go to version 0",          # 9 checkout    -> the original
    "remove the leash",         # 10 edit       -> v5, child of the original
]


def _script(tmp_path: Path, turns, seed=0, name="script.yaml") -> Path:
    make_photo(tmp_path / "photo.png")
    lines = ["image: photo.png", f"seed: {seed}", "turns:"] + [f"  - {json.dumps(t)}" for t in turns]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _replay(tmp_path, script_path, out="out", engine=None, db="zone.db", seed=None):
    script = load_script(script_path)
    service = ZoneService(db_url=f"sqlite:///{tmp_path / db}", engine_factory=lambda: engine or FakeEngine(),
                          seed=script.seed if seed is None else seed, export_dir=tmp_path / out)
    return run_replay(script, tmp_path / out, service=service), service.store.tree


def test_multi_turn_script_intents_versions_and_tree(tmp_path):
    report, tree_of = _replay(tmp_path, _script(tmp_path, TURNS))
    turns = report["turns"]
    assert [t["intent"] for t in turns] == [
        "edit", "edit", "undo", "redo", "retry", "branch", "edit", "checkout", "checkout", "edit"]
    assert report["failed"] == 0 and all(t["error"] is None for t in turns)
    v1, v2 = turns[0]["version"], turns[1]["version"]
    root = turns[0]["parent"]
    assert turns[1]["parent"] == v1
    assert turns[2]["head"] == v1 and turns[3]["head"] == v2
    v3 = turns[4]["version"]
    assert turns[4]["parent"] == v1 and v3 != v2  # retry: sibling of v2
    assert turns[5]["head"] == v3
    v4 = turns[6]["version"]
    assert turns[6]["parent"] == v1 and turns[6]["action"] == "add"
    assert turns[7]["head"] == v2 and turns[8]["head"] == root
    v5 = turns[9]["version"]
    assert turns[9]["parent"] == root
    tree = {v.id: v for v in tree_of(report["session"])}
    assert set(tree) == {root, v1, v2, v3, v4, v5}
    # one number per version: the stored one, in the report, the replies and the tree alike
    assert [t["number"] for t in turns] == [1, 2, 1, 2, 3, 3, 4, 2, 0, 5]
    assert [tree[v].number for v in (root, v1, v2, v3, v4, v5)] == [0, 1, 2, 3, 4, 5]
    assert f"v3 ({v3[:8]})" in turns[4]["reply"] and "sibling" in turns[4]["reply"]
    assert f"v4 ({v4[:8]})" in turns[6]["reply"] and f"is v5 ({v5[:8]})" in turns[9]["reply"]
    assert "now at v1" in turns[2]["reply"] and "v0" in turns[8]["reply"]
    assert tree[v4].instruction == "give him a crown"
    assert tree[v3].instruction == tree[v2].instruction == "give him a hat"
    assert tree[v3].params["seed"] != tree[v2].params["seed"]
    assert "hats" in tree[v3].branches and "main" in tree[v2].branches
    # one image per turn; the final image is the last turn's
    out = tmp_path / "out"
    assert sorted(p.name for p in out.glob("turn-*.png")) == [f"turn-{i:02d}.png" for i in range(1, 11)]
    assert report["final"] == str(out / "turn-10.png") and Path(report["final"]).is_file()
    assert (out / "turn-03.png").read_bytes() == (out / "turn-01.png").read_bytes()  # undo shows v1 again
    assert (out / "turn-09.png").read_bytes() != (out / "turn-08.png").read_bytes()


def test_same_script_and_seed_give_byte_identical_images(tmp_path):
    path = _script(tmp_path, ["make his tie blue", "try again", "give him a hat", "undo", "remove the leash"], seed=7)
    first, _ = _replay(tmp_path, path, out="a")
    second, _ = _replay(tmp_path, path, out="b", db="other.db")
    third, _ = _replay(tmp_path, path, out="c", seed=8)
    for i in range(1, 6):
        name = f"turn-{i:02d}.png"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert Path(first["final"]).read_bytes() != Path(third["final"]).read_bytes()
    assert first["session"] != second["session"]


def test_a_failing_turn_is_reported_and_the_replay_goes_on(tmp_path):
    path = _script(tmp_path, ["make his tie blue", "remove the leash", "", "give him a hat", "undo"])
    report, tree_of = _replay(tmp_path, path, engine=FakeEngine(fail_on="leash"))
    turns = report["turns"]
    assert report["failed"] == 1
    assert turns[1]["error"] and "fake engine refuses" in turns[1]["error"] and turns[1]["version"] is None
    assert turns[1]["head"] == turns[0]["version"]  # nothing committed before it is lost
    assert turns[2]["intent"] == "unknown" and turns[2]["error"] is None and "?" in turns[2]["reply"]
    assert turns[2]["clarify"] == "empty" and turns[2]["version"] is None
    assert turns[3]["parent"] == turns[0]["version"] and turns[4]["head"] == turns[0]["version"]
    assert len(tree_of(report["session"])) == 3


def test_script_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    for text, needle in [("image: [", "not valid YAML"), ("- a\n- b\n", "must be a mapping"),
                         ("image: p.png\nturns: make it blue\n", "'turns' must be a list"),
                         ("image: p.png\nseed: x\nturns: [undo]\n", "'seed' must be an integer"),
                         ("turns: [undo]\n", "'image'"), ("image: p.png\nturns: []\nfoo: 1\n", "unknown key")]:
        bad.write_text(text)
        with pytest.raises(ZoneInputError, match=needle) as err:
            load_script(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(ZoneInputError, match="not found"):
        load_script(tmp_path / "missing.yaml")
    # YAML booleans stay text: "no" is a turn, not False
    bad.write_text("image: sub/p.png\nturns: [no, yes, undo]\n")
    script = load_script(bad)
    assert script.turns == ["no", "yes", "undo"] and script.image == tmp_path / "sub" / "p.png"


@pytest.mark.slow
def test_zone_replay_cli_with_the_tiny_engine(tmp_path, capsys):
    from tui.cli import main

    path = _script(tmp_path, ["make his tie blue", "undo", "wear him a hat"], seed=3)
    args = ["replay", str(path), "--engine", "tiny", "--device", "cpu", "--steps", "2", "--work-size", "64",
            "--db", f"sqlite:///{tmp_path / 'cli.db'}", "--out", str(tmp_path / "run1"), "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert [t["intent"] for t in report["turns"]] == ["edit", "undo", "edit"]
    assert set(report) >= {"session", "turns", "final"}
    assert set(report["turns"][0]) >= {"text", "intent", "action", "version", "parent", "head", "reply"}
    assert report["turns"][1]["head"] == report["turns"][0]["parent"]
    assert report["turns"][2]["parent"] == report["turns"][0]["parent"]
    # the edit's pixels are local: outside its mask the turn image is the original, byte for byte
    from engine.imageio import load_image
    from storage.history import HistoryStore

    with HistoryStore(f"sqlite:///{tmp_path / 'cli.db'}") as store:
        mask = store.mask(report["session"], report["turns"][0]["version"])
        original = store.original(report["session"])
    turn1 = load_image(tmp_path / "run1" / "turn-01.png")
    assert mask.any() and np.array_equal(turn1[~mask], original[~mask])
    run1 = sorted(p.name for p in (tmp_path / "run1").iterdir())
    assert run1 == ["turn-01.png", "turn-02.png", "turn-03.png"]
    assert main(args[:-3] + ["--out", str(tmp_path / "run2")]) == 0
    text = capsys.readouterr().out
    assert "03 'wear him a hat' -> edit/add" in text and "0 failed" in text
    for name in run1:
        assert (tmp_path / "run1" / name).read_bytes() == (tmp_path / "run2" / name).read_bytes(), name


def test_exports_go_to_the_out_folder_and_an_empty_script_still_has_a_final_image(tmp_path):
    report, _ = _replay(tmp_path, _script(tmp_path, ["make his tie blue", "save it as final.png"]))
    assert (tmp_path / "out" / "final.png").read_bytes() == (tmp_path / "out" / "turn-01.png").read_bytes()
    assert report["final"] == str(tmp_path / "out" / "turn-02.png")
    report, _ = _replay(tmp_path, _script(tmp_path, [], name="empty.yaml"), out="empty")
    assert report["turns"] == [] and report["final"] == str(tmp_path / "empty" / "turn-00.png")
    assert (tmp_path / "empty" / "turn-00.png").is_file()
