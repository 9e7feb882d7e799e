"""`zone eval` on a tiny MagicBrush-layout test set generated here, with two workers and the tiny engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.engine.test_metrics import magicbrush_numpy

REPO = Path(__file__).resolve().parents[1]
INSTRUCTIONS = ("make the sky blue", "remove the cup", "give him a hat")


def make_dataset(root: Path) -> Path:
    """MagicBrush's test layout: edit_sessions.json, images/<id>/<id>-input.png, -outputK.png, captions."""
    rng = np.random.default_rng(3)
    sessions, captions = {}, {}
    for sid, n in (("30", 1), ("139", 2)):
        folder = root / "images" / sid
        folder.mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)).save(folder / f"{sid}-input.png")
        turns = []
        for k in range(1, n + 1):
            Image.fromarray(rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)).save(folder / f"{sid}-output{k}.png")
            Image.fromarray(np.zeros((36, 48), np.uint8)).save(folder / f"{sid}-mask{k}.png")
            turns.append({"input": f"{sid}-input.png" if k == 1 else f"{sid}-output{k - 1}.png",
                          "mask": f"{sid}-mask{k}.png", "output": f"{sid}-output{k}.png",
                          "instruction": INSTRUCTIONS[k - 1]})
        sessions[sid] = turns
        captions[sid] = {f"{sid}-output{k}.png": f"a photo after edit {k}" for k in range(1, n + 1)}
    (root / "edit_sessions.json").write_text(json.dumps(sessions))
    (root / "local_descriptions.json").write_text(json.dumps(captions))
    return root


def zone(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", HF_HOME=str(tmp / "hf-empty"))
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=str(tmp))


def _load(p: Path) -> np.ndarray:
    return np.asarray(Image.open(p).convert("RGB"))


def test_zone_eval_jobs_2_scores_both_settings_as_magicbrush(tmp_path):
    data = make_dataset(tmp_path / "test")
    out = tmp_path / "results"
    r = zone("eval", str(data), "--jobs", "2", "--engine", "tiny", "--steps", "2", "--work-size", "64",
             "--out", str(out), "--json", tmp=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout)
    assert result["sessions"] == 2 and result["turns"] == 3 and result["left_out"] == []
    assert result["batch"]["workers"] == 2 and result["batch"]["ok"] == 3  # 30-multi, 139-multi, 139-turn2
    single, multi = result["single_turn"], result["multi_turn"]
    assert single["pairs"] == 3 and multi["pairs"] == 2 and single["captioned"] == 3
    # the kept images in MagicBrush's result names, scored again with the plain formula
    mb = out / "magicbrush"
    assert sorted(p.name for p in (mb / "139").iterdir()) == ["139_1.png", "139_inde_2.png", "139_iter_2.png"]
    assert sorted(p.name for p in (mb / "30").iterdir()) == ["30_1.png"]
    gt = data / "images"
    singles = [(mb / "30" / "30_1.png", gt / "30" / "30-output1.png"), (mb / "139" / "139_1.png", gt / "139" / "139-output1.png"),
               (mb / "139" / "139_inde_2.png", gt / "139" / "139-output2.png")]
    finals = [(mb / "30" / "30_1.png", gt / "30" / "30-output1.png"), (mb / "139" / "139_iter_2.png", gt / "139" / "139-output2.png")]
    for pairs, got in ((singles, single), (finals, multi)):
        scores = [magicbrush_numpy(_load(a), _load(b)) for a, b in pairs]
        assert got["l1"] == pytest.approx(np.mean([s[0] for s in scores]), rel=1e-6)
        assert got["l2"] == pytest.approx(np.mean([s[1] for s in scores]), rel=1e-6)
    # single-turn turn 2 starts from the ground truth, multi-turn from Zone's own turn 1
    assert (mb / "139" / "139_inde_2.png").read_bytes() != (mb / "139" / "139_iter_2.png").read_bytes()
    # no CLIP/DINO weights here: CLIP/DINO scores absent, one line naming the models, no traceback
    assert single["clip_i"] is None and single["dino"] is None and single["clip_t"] is None
    notices = [ln for ln in r.stderr.splitlines() if ln.startswith("zone eval:")]
    assert len(notices) == 1 and "openai/clip-vit-base-patch32" in notices[0] and "facebook/dino-vits16" in notices[0]
    assert "Traceback" not in r.stderr and result["missing_models"] == ["openai/clip-vit-base-patch32",
                                                                       "facebook/dino-vits16"]


def test_zone_eval_prints_a_table_and_bad_datasets_are_one_line(tmp_path):
    r = zone("eval", str(tmp_path), "--engine", "tiny", tmp=tmp_path)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0
    assert r.stderr.startswith("zone: error:") and "MagicBrush-layout" in r.stderr
    data = make_dataset(tmp_path / "test")
    (data / "images" / "139" / "139-output2.png").unlink()
    r = zone("eval", str(data), "--engine", "tiny", tmp=tmp_path)
    assert r.returncode == 1 and r.stderr.startswith("zone: error:") and "139-output2.png" in r.stderr
