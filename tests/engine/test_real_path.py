"""The real engine's path end to end, with tiny random models saved in the real repositories' layout.

Nothing here needs the real weights or a network: `tests/engine/fakehub.py` writes the tiny bundle
as timbrooks/instruct-pix2pix and vinesmsuic/magicbrush-jul7 hold theirs, plus a SAM checkpoint
file, and serves them from 127.0.0.1 as the Hugging Face Hub does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.bundles import SAM_SPECS, build_sam, sam_spec_from_state_dict
from engine.errors import WeightsMissingError, ZoneInputError
from tests.engine.fakehub import IP2P_REPO, MB_REPO, FakeHub, write_tiny_weights

ROOT = Path(__file__).resolve().parents[2]
ZONE_ENV_VARS = ("ZONE_MODELS_DIR", "ZONE_IP2P_PATH", "ZONE_MAGICBRUSH_PATH", "ZONE_SAM_CHECKPOINT", "ZONE_SAM_MODEL",
                 "ZONE_CACHE_DIR", "ZONE_SAM_URL", "ZONE_SAM_SHA256")


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    bundle = write_tiny_weights(root)
    return root, bundle


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No weights anywhere but where a test puts them."""
    for var in ZONE_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    return monkeypatch


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_layout_is_the_real_repositories(tiny_weights):
    root, _ = tiny_weights
    ip2p = {p.relative_to(root / "instruct-pix2pix").as_posix() for p in (root / "instruct-pix2pix").rglob("*") if p.is_file()}
    assert {"model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "unet/diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.safetensors",
            "text_encoder/config.json", "text_encoder/model.safetensors", "text_encoder/pytorch_model.bin",
            "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer_config.json", "scheduler/scheduler_config.json"} <= ip2p
    mb = {p.relative_to(root / "magicbrush-jul7").as_posix() for p in (root / "magicbrush-jul7").rglob("*") if p.is_file()}
    assert "unet/diffusion_pytorch_model.bin" in mb and not any(f.endswith(".safetensors") for f in mb)


def test_real_loader_through_zone_models_dir(tiny_weights, clean_env):
    from engine.models import load_real_bundle
    from engine.weights import resolve_weights

    root, saved = tiny_weights
    clean_env.setenv("ZONE_MODELS_DIR", str(root))
    paths = resolve_weights()
    assert (paths.ip2p, paths.magicbrush, paths.sam_checkpoint) == (
        root / "instruct-pix2pix", root / "magicbrush-jul7", root / "sam_vit_b_01ec64.pth")
    bundle = load_real_bundle(paths, torch.device("cpu"), torch.float32)
    for name in ("unet_ip2p", "unet_mb", "vae", "text_encoder", "sam"):
        assert _same_weights(getattr(bundle, name), getattr(saved, name)), name
    assert bundle.tokenizer("make it blue").input_ids == saved.tokenizer("make it blue").input_ids
    assert bundle.scheduler_config["beta_schedule"] == "scaled_linear"
    assert bundle.model_ids["sam"] == "sam_tiny:sam_vit_b_01ec64.pth"


@pytest.mark.parametrize("name", ["vit_b", "vit_l", "vit_h"])
def test_sam_variant_follows_the_checkpoint_shapes(name):
    with torch.device("meta"):
        state = build_sam(SAM_SPECS[name]).state_dict()
    spec = sam_spec_from_state_dict(state)
    assert spec.name == name and spec.img_size == 1024
    assert sam_spec_from_state_dict({"something": torch.zeros(1)}) is None


def test_zone_sam_model_chooses_the_checkpoint(tiny_weights, clean_env):
    from engine.models import load_sam
    from engine.weights import resolve_weights

    root, _ = tiny_weights
    clean_env.setenv("ZONE_MODELS_DIR", str(root))
    clean_env.setenv("ZONE_SAM_MODEL", "vit_l")
    with pytest.raises(WeightsMissingError, match="sam_vit_l_0b3195.pth"):
        resolve_weights()  # only ViT-L's file is looked for
    clean_env.setenv("ZONE_SAM_MODEL", "vit_b")
    with pytest.raises(WeightsMissingError, match="ZONE_SAM_MODEL=vit_b but .* holds a SAM tiny"):
        load_sam(resolve_weights().sam_checkpoint)
    clean_env.setenv("ZONE_SAM_MODEL", "vit_x")
    with pytest.raises(ZoneInputError, match="ZONE_SAM_MODEL"):
        resolve_weights()


def test_a_file_that_is_not_a_sam_checkpoint(tmp_path, clean_env):
    from engine.models import load_sam

    junk = tmp_path / "sam_vit_h_4b8939.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsMissingError, match="cannot read the SAM checkpoint"):
        load_sam(junk)
    torch.save({"weight": torch.zeros(2)}, junk)
    with pytest.raises(WeightsMissingError, match="not a Segment Anything"):
        load_sam(junk)


def _env(tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZONE_", "HF_"))}
    env.update({"HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "TORCH_HOME": str(tmp_path / "torch"), "HOME": str(tmp_path), "HF_HUB_DISABLE_TELEMETRY": "1"})
    env.update(extra)
    return env


def _zone(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=600)


def test_download_from_a_local_hub_then_edit_with_the_real_engine(tiny_weights, tmp_path):
    """`zone models download` against a hub on the loopback, a second run that finds everything,
    then `zone edit --engine real` on the downloaded cache (the Hugging Face cache layout)."""
    root, _ = tiny_weights
    sam_file = root / "sam_vit_b_01ec64.pth"
    with FakeHub({IP2P_REPO: root / "instruct-pix2pix", MB_REPO: root / "magicbrush-jul7"},
                 files={"sam.pth": sam_file}) as hub:
        env = _env(tmp_path, HF_ENDPOINT=hub.url, ZONE_SAM_URL=f"{hub.url}/files/sam.pth",
                   ZONE_SAM_SHA256=hashlib.sha256(sam_file.read_bytes()).hexdigest())
        first = _zone(env, "models", "download")
        assert first.returncode == 0, first.stderr
        assert "sam_vit_h_4b8939.pth: 100%" in first.stderr  # its progress bar
        fetched = {path for method, path in hub.requests if method == "GET" and "/resolve/" in path}
        assert f"/{IP2P_REPO}/resolve/main/unet/diffusion_pytorch_model.safetensors" in fetched
        assert f"/{MB_REPO}/resolve/main/unet/diffusion_pytorch_model.bin" in fetched  # MagicBrush has .bin only
        assert not any(p.endswith((".ckpt", "unet/diffusion_pytorch_model.bin")) and IP2P_REPO in p for p in fetched)
        assert not any("safety_checker" in p or "feature_extractor" in p for p in fetched)
        n_requests = len(hub.requests)
        second = _zone(env, "models", "download")
        assert second.returncode == 0, second.stderr
        assert "already present" in second.stdout and len(hub.requests) == n_requests  # no request at all
    snapshot = tmp_path / "hf" / "hub" / "models--timbrooks--instruct-pix2pix"
    assert (snapshot / "refs" / "main").read_text() == FakeHub.commit(IP2P_REPO)
    assert (snapshot / "snapshots" / FakeHub.commit(IP2P_REPO) / "unet" / "config.json").is_file()
    status = _zone(env, "models", "status", "--json")
    assert status.returncode == 0 and all(json.loads(status.stdout).values())
    # The real engine on the cached tiny models (hub unreachable now: offline mode).
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 80, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out.png"
    r = _zone({**env, "HF_HUB_OFFLINE": "1"}, "edit", str(photo), "make it blue", "--engine", "real", "--action",
              "change", "--device", "cpu", "--steps", "2", "--work-size", "64", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["engine"] == "real" and summary["meaningful"] is True
    assert summary["params"]["model_ids"] == {"ip2p": IP2P_REPO, "magicbrush": MB_REPO,
                                              "sam": "sam_tiny:sam_vit_h_4b8939.pth"}
    assert np.asarray(Image.open(out)).shape == (48, 80, 3)
