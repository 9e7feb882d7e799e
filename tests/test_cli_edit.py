"""`zone edit` end to end: outputs, JSON, determinism, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def zone(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=600)


@pytest.fixture
def photo_path(tmp_path, synthetic_photo):
    p = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo).save(p)
    return p


def test_edit_tiny_json_and_byte_identical_outputs(tmp_path, photo_path, capsys):
    from tui.cli import main

    outs = []
    for k in range(2):  # once in a fresh process, once in this one: same bytes
        out, layer, mask = tmp_path / f"o{k}.png", tmp_path / f"l{k}.png", tmp_path / f"m{k}.png"
        argv = ["edit", str(photo_path), "make his tie blue", "--action", "change", "--engine", "tiny", "--steps", "3",
                "--seed", "4", "--json", "--out", str(out), "--layer-out", str(layer), "--mask-out", str(mask)]
        if k == 0:
            r = zone(*argv)
            assert r.returncode == 0, r.stderr
            stdout, stderr = r.stdout, r.stderr
        else:
            assert main(argv) == 0
            stdout, stderr = capsys.readouterr()
        summary = json.loads(stdout)
        outs.append((out.read_bytes(), layer.read_bytes(), mask.read_bytes()))
    assert outs[0] == outs[1]
    r = type("R", (), {"stderr": stderr})
    assert {"action", "seed", "steps", "mask_fraction", "timings_ms", "out", "layer_out", "mask_out"} <= set(summary)
    assert summary["action"] == "change" and summary["seed"] == 4 and summary["steps"] == 3
    assert "meaningless" in summary["note"] and "meaningless" in r.stderr
    assert {"denoise", "segment", "load", "wall"} <= set(summary["timings_ms"])
    composite = np.asarray(Image.open(tmp_path / "o0.png"))
    layer = np.asarray(Image.open(tmp_path / "l0.png"))
    original = np.asarray(Image.open(photo_path))
    assert composite.shape == original.shape and layer.shape[-1] == 4
    untouched = layer[..., 3] == 0
    np.testing.assert_array_equal(composite[untouched], original[untouched])


def test_edit_without_action_asks_the_classifier(tmp_path, photo_path, capsys):
    from tui.cli import main

    argv = ["edit", str(photo_path), "please get rid of the cup on the table", "--engine", "tiny", "--steps", "2",
            "--json", "--out", str(tmp_path / "o.png")]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["action"] == "remove" and summary["action_source"] == "understanding"
    assert summary["params"]["beta"] == 0.2
    assert main(["edit", str(photo_path), "undo", "--engine", "tiny", "--out", str(tmp_path / "u.png")]) == 1
    assert "does not read as an edit instruction" in capsys.readouterr().err


def test_huge_image_refused_before_decoding(tmp_path):
    p = tmp_path / "big.png"
    Image.new("RGB", (3000, 2000)).save(p)
    r = zone("edit", str(p), "make it blue", "--action", "change", "--max-pixels", "1000000", "--out", str(tmp_path / "o.png"))
    _assert_one_line_error(r)


def _assert_one_line_error(r):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("zone: error:"), r.stderr


@pytest.mark.parametrize(
    "case",
    ["missing", "corrupt", "text_as_png", "empty_file", "empty_instruction", "bad_suffix", "directory"],
)
def test_bad_input_one_line_error(tmp_path, photo_path, case):
    args = [str(photo_path), "make it blue", "--action", "change", "--engine", "tiny", "--out", str(tmp_path / "o.png")]
    if case == "missing":
        args[0] = str(tmp_path / "nope.png")
    elif case == "corrupt":
        data = photo_path.read_bytes()
        (tmp_path / "corrupt.png").write_bytes(data[: len(data) // 3])
        args[0] = str(tmp_path / "corrupt.png")
    elif case == "text_as_png":
        (tmp_path / "text.png").write_text("this is not an image\n")
        args[0] = str(tmp_path / "text.png")
    elif case == "empty_file":
        (tmp_path / "empty.png").write_bytes(b"")
        args[0] = str(tmp_path / "empty.png")
    elif case == "empty_instruction":
        args[1] = "  "
    elif case == "bad_suffix":
        args[-1] = str(tmp_path / "o.gif")
    elif case == "directory":
        args[0] = str(tmp_path)
    r = zone("edit", *args)
    _assert_one_line_error(r)
    assert not (tmp_path / "o.png").exists()


def test_missing_weights_message_names_models_and_fix(tmp_path, photo_path, monkeypatch):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TORCH_HOME": str(tmp_path / "torch"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "tui.cli", "edit", str(photo_path), "make it blue", "--action", "change",
                        "--device", "cpu", "--out", str(tmp_path / "o.png")], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    err = r.stderr.strip().splitlines()[-1]
    assert "timbrooks/instruct-pix2pix" in err and "vinesmsuic/magicbrush-jul7" in err and "sam_vit_h_4b8939.pth" in err
    assert "zone models download" in err and "looked in" in err


def test_edit_keeps_a_session_that_sessions_lists_and_chat_continues(tmp_path, photo_path, capsys):
    from agent.service import ZoneService
    from tui.cli import main

    db = tmp_path / "h.db"
    argv = ["edit", str(photo_path), "give the dog a hat and remove the leash", "--engine", "tiny", "--steps", "2",
            "--db", str(db), "--json", "--out", str(tmp_path / "o.png"), "--layer-out", str(tmp_path / "l.png"),
            "--mask-out", str(tmp_path / "m.png")]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    # the chat's understanding: a compound instruction is two edits, two versions
    assert [(e["instruction"], e["action"]) for e in summary["edits"]] == [
        ("give the dog a hat", "add"), ("remove the leash", "remove")]
    sid = summary["session"]
    assert main(["sessions", "--db", str(db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in listed] == [sid] and listed[0]["versions"] == 3
    with ZoneService(db_url=str(db)) as service:
        session = service.resume(sid[:8])  # what `zone chat --session ID` opens
        head = service.version(session.id)
        assert head.id == summary["edits"][1]["version"] and head.depth == 2
        assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), service.render(session.id))
        mask = np.asarray(Image.open(tmp_path / "m.png")) > 0
        both = service.mask(session.id, "HEAD~1") | service.mask(session.id, "HEAD")
        assert np.array_equal(mask, both)
    layer = np.asarray(Image.open(tmp_path / "l.png"))
    assert layer.shape[-1] == 4 and np.array_equal(layer[..., 3] > 0, both)


def test_edit_no_history_keeps_nothing_and_a_refusal_leaves_no_session(tmp_path, photo_path, capsys):
    from tui.cli import main

    db = tmp_path / "h.db"
    argv = ["edit", str(photo_path), "make his tie blue", "--engine", "tiny", "--steps", "1", "--db", str(db)]
    assert main([*argv, "--no-history", "--out", str(tmp_path / "a.png")]) == 0
    out = capsys.readouterr().out
    assert "session" not in out and (tmp_path / "a.png").is_file() and not db.exists()
    assert main(["edit", str(photo_path), "undo", "--engine", "tiny", "--db", str(db),
                 "--out", str(tmp_path / "b.png")]) == 1
    assert "does not read as an edit instruction" in capsys.readouterr().err
    assert main(["sessions", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [] and not (tmp_path / "b.png").exists()
    assert main([*argv, "--out", str(tmp_path / "c.png")]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("session ") and "zone chat --session" in line
