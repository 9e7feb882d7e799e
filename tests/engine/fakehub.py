"""The real path without the real weights: tiny models in the real repositories' layout, and a local hub.

`write_tiny_weights` saves the tiny bundle (`engine.bundles.BUNDLE_SPECS["tiny"]`) the way the
real repositories hold their weights:

* `instruct-pix2pix/` like timbrooks/instruct-pix2pix: model_index.json, unet/, vae/ (config.json,
  diffusion_pytorch_model.safetensors and .bin), text_encoder/ (config.json, model.safetensors and
  pytorch_model.bin), tokenizer/ (vocab.json, merges.txt, special_tokens_map.json,
  tokenizer_config.json), scheduler/scheduler_config.json, and what the loader must not need or
  download: feature_extractor/, safety_checker/, README.md and a full-model .ckpt at the root;
* `magicbrush-jul7/` like vinesmsuic/magicbrush-jul7: the same folders with pickled .bin weights only;
* a segment-anything state-dict file (`torch.save(sam.state_dict())`) for SAM.

`FakeHub` answers the few endpoints huggingface_hub's `list_repo_files` and `hf_hub_download` use
(`GET /api/models/{repo}/tree/{rev}`, `HEAD`/`GET /{repo}/resolve/{rev}/{path}` with the
X-Repo-Commit and ETag headers) and serves plain files under `/files/` (the SAM mirror), on
127.0.0.1, recording every request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import torch

from engine.bundles import build_bundle
from engine.models import default_scheduler_config

IP2P_REPO, MB_REPO = "timbrooks/instruct-pix2pix", "vinesmsuic/magicbrush-jul7"
SPECIAL_TOKENS = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                  "unk_token": "<|endoftext|>"}
MODEL_INDEX = {
    "_class_name": "StableDiffusionInstructPix2PixPipeline", "_diffusers_version": "0.12.0.dev0",
    "feature_extractor": ["transformers", "CLIPImageProcessor"], "requires_safety_checker": True,
    "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
    "scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


def _write_tokenizer(tokenizer, folder: Path) -> None:
    """The slow-tokenizer files CLIP repositories ship (vocab.json, merges.txt and two configs)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(tokenizer.get_vocab()), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS))
    config = {**SPECIAL_TOKENS, "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
              "errors": "replace", "add_prefix_space": False}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def _write_pipeline(bundle, unet, folder: Path, safetensors: bool) -> None:
    """One diffusers pipeline folder; `.bin` weights always, `.safetensors` too when asked."""
    from diffusers import EulerAncestralDiscreteScheduler

    for name, model in (("unet", unet), ("vae", bundle.vae)):
        model.save_pretrained(folder / name, safe_serialization=False)
        if safetensors:
            model.save_pretrained(folder / name, safe_serialization=True)
    te = folder / "text_encoder"
    bundle.text_encoder.save_pretrained(te)  # config.json and model.safetensors
    torch.save(bundle.text_encoder.state_dict(), te / "pytorch_model.bin")
    if not safetensors:
        (te / "model.safetensors").unlink()
    _write_tokenizer(bundle.tokenizer, folder / "tokenizer")
    EulerAncestralDiscreteScheduler.from_config(default_scheduler_config()).save_pretrained(folder / "scheduler")
    (folder / "model_index.json").write_text(json.dumps(MODEL_INDEX, indent=2))
    (folder / "README.md").write_text("tiny random weights in the layout of the real repository\n")
    for extra in ("feature_extractor/preprocessor_config.json", "safety_checker/config.json"):
        (folder / extra).parent.mkdir(parents=True, exist_ok=True)
        (folder / extra).write_text("{}")
    (folder / "safety_checker" / "pytorch_model.bin").write_bytes(b"not needed")


def write_tiny_weights(root: Path, seed: int = 0, sam_name: str = "sam_vit_b_01ec64.pth"):
    """Writes root/instruct-pix2pix, root/magicbrush-jul7 and root/`sam_name`; returns the bundle saved."""
    bundle = build_bundle("tiny", seed)
    ip2p, mb = root / "instruct-pix2pix", root / "magicbrush-jul7"
    _write_pipeline(bundle, bundle.unet_ip2p, ip2p, safetensors=True)
    (ip2p / "instruct-pix2pix-00-22000.ckpt").write_bytes(b"the original full checkpoint: never downloaded")
    _write_pipeline(bundle, bundle.unet_mb, mb, safetensors=False)
    torch.save(bundle.sam.state_dict(), root / sam_name)
    return bundle


class FakeHub:
    """A Hugging Face Hub stand-in on 127.0.0.1 serving local folders as model repositories.

    Args:
        repos: repo id -> local folder.
        files: name -> local file, served at /files/<name>.
    """

    def __init__(self, repos: dict[str, Path], files: dict[str, Path] | None = None):
        self.repos = {k: Path(v) for k, v in repos.items()}
        self.files = {k: Path(v) for k, v in (files or {}).items()}
        self.requests: list[tuple[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self):  # noqa: N802 - http.server's naming
                hub._answer(self, body=False)

            def do_GET(self):  # noqa: N802
                hub._answer(self, body=True)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def commit(repo_id: str) -> str:
        return hashlib.sha1(repo_id.encode()).hexdigest()

    def _answer(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(urlsplit(req.path).path)
        self.requests.append((req.command, path))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "tree":
            repo_id = "/".join(parts[2:4])
            if repo_id in self.repos:
                return self._send_json(req, self._tree(repo_id), repo_id, body)
        elif len(parts) >= 5 and parts[2] == "resolve":
            repo_id, filename = "/".join(parts[:2]), "/".join(parts[4:])
            target = self.repos.get(repo_id, Path("/nonexistent")) / filename
            if target.is_file():
                return self._send_file(req, target, body, repo_id)
        elif parts[0] == "files" and len(parts) == 2 and parts[1] in self.files:
            return self._send_file(req, self.files[parts[1]], body, None)
        req.send_response(404)
        req.send_header("X-Error-Code", "EntryNotFound")
        req.send_header("Content-Length", "0")
        req.end_headers()

    def _tree(self, repo_id: str) -> list[dict]:
        root = self.repos[repo_id]
        return [{"type": "file", "path": p.relative_to(root).as_posix(), "size": p.stat().st_size,
                 "oid": hashlib.sha1(p.read_bytes()).hexdigest()}
                for p in sorted(root.rglob("*")) if p.is_file()]

    def _send_json(self, req, payload, repo_id: str, body: bool) -> None:
        data = json.dumps(payload).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.send_header("X-Repo-Commit", self.commit(repo_id))
        req.end_headers()
        if body:
            req.wfile.write(data)

    def _send_file(self, req, target: Path, body: bool, repo_id: str | None) -> None:
        data = target.read_bytes()
        req.send_response(200)
        req.send_header("Content-Length", str(len(data)))
        req.send_header("Content-Type", "application/octet-stream")
        req.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        if repo_id is not None:
            req.send_header("X-Repo-Commit", self.commit(repo_id))
        req.end_headers()
        if body:
            req.wfile.write(data)
