"""common.settings: the one reader of the environment."""

from __future__ import annotations

import re
from pathlib import Path

from common.settings import Settings, settings


def test_defaults_follow_home_and_xdg():
    s = Settings.from_env({"HOME": "/h"})
    assert s.db is None and s.models_dir is None and s.max_pixels is None and not s.debug
    assert s.data_home == Path("/h/.local/share") and s.cache_dir == Path("/h/.cache/zone")
    assert s.torch_home == Path("/h/.cache/torch") and dict(s.repo_paths) == {}
    s = Settings.from_env({"HOME": "/h", "XDG_CACHE_HOME": "/c", "XDG_DATA_HOME": "/d", "ZONE_DB": "  ",
                           "ZONE_DEBUG": "0", "ZONE_IP2P_PATH": "/m/ip2p", "ZONE_SAM_MODEL": " vit_b "})
    assert s.cache_dir == Path("/c/zone") and s.data_home == Path("/d") and s.db is None and not s.debug
    assert dict(s.repo_paths) == {"ZONE_IP2P_PATH": "/m/ip2p"} and s.sam_model == "vit_b"
    assert Settings.from_env({"ZONE_CACHE_DIR": "/z", "ZONE_DEBUG": "1"}).cache_dir == Path("/z")


def test_a_changed_variable_is_seen_and_an_unchanged_one_is_not_parsed_again(monkeypatch):
    monkeypatch.setenv("ZONE_MODELS_DIR", "/models/a")
    first = settings()
    assert first.models_dir == Path("/models/a") and settings() is first
    monkeypatch.setenv("ZONE_MODELS_DIR", "/models/b")
    assert settings().models_dir == Path("/models/b")


def test_no_module_but_settings_reads_zone_variables():
    root = Path(__file__).resolve().parents[2]
    readers = []
    for package in ("agent", "common", "engine", "storage", "tui"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            # writing a variable for a child process (thread counts) is not reading one
            if re.search(r"os\.environ(\.get\(|\[[^\]]+\](?!\s*=[^=]))|getenv\(", text) and path.name != "settings.py":
                readers.append(str(path.relative_to(root)))
    assert readers == []
