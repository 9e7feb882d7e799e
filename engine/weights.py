"""Where the real weights live: a local folder, environment variables, or the Hugging Face cache.

No torch import: `zone models status|download` start fast. The SAM checkpoint may be ViT-B, ViT-L
or ViT-H (`$ZONE_SAM_MODEL` picks which one is looked for and downloaded; default ViT-H, the
reference's); the loader then builds the variant the checkpoint's shapes say it is.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from common.settings import settings
from engine.bundles import SAM_SPECS, SamSpec
from engine.errors import WeightsMissingError, ZoneInputError

# Hugging Face ids of the real engine's diffusion models.
IP2P_ID = "timbrooks/instruct-pix2pix"
MAGICBRUSH_ID = "vinesmsuic/magicbrush-jul7"
SAM_MODEL_ENV = "ZONE_SAM_MODEL"
SAM_VARIANTS = ("vit_h", "vit_l", "vit_b")  # released checkpoints, looked for in this order
DEFAULT_SAM_VARIANT = "vit_h"

# Components each repository must provide (diffusers layout).
IP2P_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
MAGICBRUSH_COMPONENTS = ("unet",)
# (repo id, its path variable, its folder in $ZONE_MODELS_DIR, the components used): IP2P, MagicBrush.
REPOS = ((IP2P_ID, "ZONE_IP2P_PATH", "instruct-pix2pix", IP2P_COMPONENTS),
         (MAGICBRUSH_ID, "ZONE_MAGICBRUSH_PATH", "magicbrush-jul7", MAGICBRUSH_COMPONENTS))
DOWNLOAD_HINT = "run `zone models download` on a machine with network access (about 7 GB), or set ZONE_MODELS_DIR"


def sam_variant() -> Optional[str]:
    """`$ZONE_SAM_MODEL` (vit_b, vit_l or vit_h), or None when unset."""
    value = (settings().sam_model or "").lower().replace("-", "_")
    if not value:
        return None
    if value not in SAM_VARIANTS:
        raise ZoneInputError(f"{SAM_MODEL_ENV}={value!r} is not a SAM model; use one of {', '.join(sorted(SAM_VARIANTS))}")
    return value


def sam_specs_wanted() -> list[SamSpec]:
    """The SAM checkpoints to look for: `$ZONE_SAM_MODEL`'s, else every released one (ViT-H first)."""
    chosen = sam_variant()
    return [SAM_SPECS[chosen]] if chosen else [SAM_SPECS[v] for v in SAM_VARIANTS]


def zone_cache_dir() -> Path:
    """$ZONE_CACHE_DIR, else $XDG_CACHE_HOME/zone, else ~/.cache/zone."""
    return settings().cache_dir


def models_dir() -> Optional[Path]:
    """$ZONE_MODELS_DIR, or None."""
    return settings().models_dir


@dataclass(frozen=True)
class WeightPaths:
    """Resolved local locations of the three models."""

    ip2p: Path
    magicbrush: Path
    sam_checkpoint: Path


def _has_components(folder: Path, components: tuple[str, ...]) -> bool:
    return folder.is_dir() and all((folder / c).is_dir() and any((folder / c).iterdir()) for c in components)


def _hf_cached_snapshot(repo_id: str, components: tuple[str, ...]) -> Optional[Path]:
    """The cached snapshot folder of `repo_id` if it holds every component, without touching the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError):  # not cached, or the cache is unreadable
        return None
    return path if _has_components(path, components) else None


def _hf_cache_location() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_repo(repo_id: str, env_var: str, folder_name: str, components: tuple[str, ...]) -> tuple[Optional[Path], list[str]]:
    """Finds one diffusers repository locally; returns (path or None, places looked)."""
    looked: list[str] = []
    explicit = settings().repo_paths.get(env_var)
    if explicit:
        looked.append(f"${env_var}={explicit}")
        if _has_components(Path(explicit).expanduser(), components):
            return Path(explicit).expanduser(), looked
    root = models_dir()
    if root is not None:
        looked.append(str(root / folder_name))
        if _has_components(root / folder_name, components):
            return root / folder_name, looked
    looked.append(f"Hugging Face cache {_hf_cache_location()}")
    return _hf_cached_snapshot(repo_id, components), looked


def resolve_sam_checkpoint() -> tuple[Optional[Path], list[str]]:
    """Finds a SAM checkpoint: $ZONE_SAM_CHECKPOINT, then by file name in $ZONE_MODELS_DIR, the zone
    cache and torch hub (only `$ZONE_SAM_MODEL`'s file when it is set, else ViT-H, ViT-L, ViT-B)."""
    candidates: list[Path] = []
    env = settings()
    if env.sam_checkpoint is not None:
        candidates.append(env.sam_checkpoint)
    folders = ([env.models_dir] if env.models_dir is not None else []) + [env.cache_dir, env.torch_home / "hub" / "checkpoints"]
    candidates += [folder / spec.checkpoint.name for folder in folders for spec in sam_specs_wanted()]
    for c in candidates:
        if c.is_file() and c.stat().st_size > 0:
            return c, [str(p) for p in candidates]
    return None, [str(p) for p in candidates]


def resolve_weights() -> WeightPaths:
    """All three models, or one `WeightsMissingError` naming what is missing, where we looked and how to get it."""
    (ip2p, looked_ip2p), (mb, looked_mb) = (resolve_repo(*repo) for repo in REPOS)
    sam, looked_sam = resolve_sam_checkpoint()
    missing = []
    if ip2p is None:
        missing.append(f"{IP2P_ID} (looked in {', '.join(looked_ip2p)})")
    if mb is None:
        missing.append(f"{MAGICBRUSH_ID} (looked in {', '.join(looked_mb)})")
    if sam is None:
        names = " or ".join(spec.checkpoint.name for spec in sam_specs_wanted())
        missing.append(f"SAM {names} (looked in {', '.join(looked_sam)})")
    if missing:
        raise WeightsMissingError(f"model weights missing: {'; '.join(missing)}; {DOWNLOAD_HINT}")
    return WeightPaths(ip2p=ip2p, magicbrush=mb, sam_checkpoint=sam)


def weights_status() -> dict[str, Optional[str]]:
    """Which models are present locally (for `zone models status`)."""
    (ip2p, _), (mb, _) = (resolve_repo(*repo) for repo in REPOS)
    sam, _ = resolve_sam_checkpoint()
    return {IP2P_ID: str(ip2p) if ip2p else None, MAGICBRUSH_ID: str(mb) if mb else None, "sam": str(sam) if sam else None}


def _pick_weight_files(files: list[str], components: tuple[str, ...]) -> list[str]:
    """Config files of each component, and one weight file each (safetensors preferred, no EMA/fp16 duplicates)."""
    chosen = [f for f in files if f == "model_index.json"]
    for comp in components:
        inside = [f for f in files if f.startswith(comp + "/")]
        chosen += [f for f in inside if not f.endswith((".bin", ".safetensors", ".ckpt", ".msgpack", ".h5", ".onnx", ".pb"))]
        weights = [f for f in inside if f.endswith((".safetensors", ".bin")) and ".fp16." not in f and "ema" not in f]
        weights.sort(key=lambda f: (not f.endswith(".safetensors"), len(f)))
        chosen += weights[:1]
    return chosen


def download_all(progress: bool = True) -> tuple[WeightPaths, list[str]]:
    """Downloads what is missing into the standard caches (Hugging Face cache, zone cache for SAM).

    Models already present (wherever `resolve_weights` finds them) are not fetched again and no
    request is made for them. The hub is `$HF_ENDPOINT` (huggingface.co by default).

    Returns:
        (the resolved paths, the names of the models that were downloaded).
    """
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    fetched: list[str] = []
    for repo_id, env_var, folder, comps in REPOS:
        if resolve_repo(repo_id, env_var, folder, comps)[0] is not None:
            continue
        for filename in _pick_weight_files(api.list_repo_files(repo_id), comps):
            hf_hub_download(repo_id, filename)
        fetched.append(repo_id)
    if resolve_sam_checkpoint()[0] is None:
        spec = SAM_SPECS[sam_variant() or DEFAULT_SAM_VARIANT]
        env = settings()
        url = env.sam_url or spec.checkpoint.url  # a mirror, with its own checksum when given
        sha256 = env.sam_sha256 or spec.checkpoint.sha256
        download_url(url, zone_cache_dir() / spec.checkpoint.name, sha256, progress=progress)
        fetched.append(spec.checkpoint.name)
    return resolve_weights(), fetched


def download_url(url: str, target: Path, sha256: Optional[str], progress: bool = True) -> Path:
    """Streams `url` to `target` atomically with a progress bar, verifying the SHA-256 when given."""
    import urllib.request

    from tqdm import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url) as resp, open(partial, "wb") as out:  # noqa: S310 - fixed https URL
        total = int(resp.headers.get("Content-Length") or 0)
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    if sha256 and digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise WeightsMissingError(f"downloaded {target.name} has the wrong SHA-256; try `zone models download` again")
    os.replace(partial, target)
    return target
