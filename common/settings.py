"""Zone's settings from the environment, read in this one module (every package may import it).

`settings()` returns a frozen `Settings`; it is parsed once and again only when one of the
variables it reads has changed (tests and `zone` subcommands may set them). Values that need
Zone's bounds (ZONE_MAX_PIXELS, ZONE_SAM_MODEL) are kept as text here and checked by their users
(`engine.imageio`, `engine.weights`), which name the variable in their one-line errors.

Variables:
    ZONE_DB: the history database (a path or an SQLAlchemy URL).
    XDG_DATA_HOME, XDG_CACHE_HOME, HOME: where the default database and caches go.
    ZONE_MAX_PIXELS: the largest photo read, in pixels.
    ZONE_MODELS_DIR, ZONE_IP2P_PATH, ZONE_MAGICBRUSH_PATH, ZONE_SAM_CHECKPOINT, ZONE_CACHE_DIR,
    TORCH_HOME: where the real weights are looked for.
    ZONE_SAM_MODEL, ZONE_SAM_URL, ZONE_SAM_SHA256: which SAM checkpoint, and a mirror of it.
    ZONE_IMAGE_RENDERER: how the TUI draws pictures.
    ZONE_DEBUG: let unexpected exceptions through with their traceback.
    ZONE_NO_WARM_UP: the chat app does not build the engine in the background (tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

NAMES = ("ZONE_DB", "XDG_DATA_HOME", "XDG_CACHE_HOME", "HOME", "ZONE_MAX_PIXELS", "ZONE_MODELS_DIR",
         "ZONE_IP2P_PATH", "ZONE_MAGICBRUSH_PATH", "ZONE_SAM_CHECKPOINT", "ZONE_CACHE_DIR", "TORCH_HOME",
         "ZONE_SAM_MODEL", "ZONE_SAM_URL", "ZONE_SAM_SHA256", "ZONE_IMAGE_RENDERER", "ZONE_DEBUG",
         "ZONE_NO_WARM_UP")


def _text(env: Mapping[str, Optional[str]], name: str) -> Optional[str]:
    """The variable's value without surrounding blanks; None when unset or blank."""
    value = (env.get(name) or "").strip()
    return value or None


def _path(env: Mapping[str, Optional[str]], name: str) -> Optional[Path]:
    value = _text(env, name)
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class Settings:
    """Every environment setting Zone reads (None: unset)."""

    db: Optional[str]
    data_home: Path  # $XDG_DATA_HOME, else ~/.local/share
    cache_dir: Path  # $ZONE_CACHE_DIR, else $XDG_CACHE_HOME/zone, else ~/.cache/zone
    torch_home: Path  # $TORCH_HOME, else ~/.cache/torch
    max_pixels: Optional[str]
    models_dir: Optional[Path]
    repo_paths: Mapping[str, str]  # {"ZONE_IP2P_PATH": ..., "ZONE_MAGICBRUSH_PATH": ...} when set
    sam_checkpoint: Optional[Path]
    sam_model: Optional[str]
    sam_url: Optional[str]
    sam_sha256: Optional[str]
    image_renderer: Optional[str]
    debug: bool
    no_warm_up: bool = False  # ZONE_NO_WARM_UP: the chat app does not load the engine in the background

    @classmethod
    def from_env(cls, env: Mapping[str, Optional[str]]) -> "Settings":
        """Parse the variables of `env` (e.g. os.environ).

        Args:
            env: a mapping of variable names to values.
        """
        home = Path(_text(env, "HOME") or Path.home())
        cache_home = _path(env, "XDG_CACHE_HOME") or home / ".cache"
        repo_paths = {n: env[n] for n in ("ZONE_IP2P_PATH", "ZONE_MAGICBRUSH_PATH") if _text(env, n)}
        return cls(
            db=_text(env, "ZONE_DB"),
            data_home=_path(env, "XDG_DATA_HOME") or home / ".local" / "share",
            cache_dir=_path(env, "ZONE_CACHE_DIR") or cache_home / "zone",
            torch_home=_path(env, "TORCH_HOME") or home / ".cache" / "torch",
            max_pixels=_text(env, "ZONE_MAX_PIXELS"),
            models_dir=_path(env, "ZONE_MODELS_DIR"),
            repo_paths=repo_paths,  # type: ignore[arg-type]
            sam_checkpoint=_path(env, "ZONE_SAM_CHECKPOINT"),
            sam_model=_text(env, "ZONE_SAM_MODEL"),
            sam_url=_text(env, "ZONE_SAM_URL"),
            sam_sha256=_text(env, "ZONE_SAM_SHA256"),
            image_renderer=_text(env, "ZONE_IMAGE_RENDERER"),
            debug=_text(env, "ZONE_DEBUG") not in (None, "0", "false", "no"),
            no_warm_up=_text(env, "ZONE_NO_WARM_UP") is not None,
        )


_cache: Optional[tuple[tuple[Optional[str], ...], Settings]] = None


def settings() -> Settings:
    """The current settings (parsed again only when one of NAMES changed)."""
    global _cache
    key = tuple(os.environ.get(n) for n in NAMES)
    if _cache is None or _cache[0] != key:
        _cache = (key, Settings.from_env(dict(zip(NAMES, key))))
    return _cache[1]
