"""Fixtures for the hostile-input tests: the `zone` CLI in-process, a fast fake engine, photos."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))  # storehelp


@pytest.fixture
def zone(capsys):
    """Run `zone ARGS...` in this process; return (exit status, stdout, stderr)."""
    from tui.cli import main

    def run(*argv) -> tuple[int, str, str]:
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse errors exit
            rc = exc.code
        out, err = capsys.readouterr()
        return rc, out, err

    return run


@pytest.fixture
def fake_engine(monkeypatch):
    """Make every ZoneService use the deterministic FakeEngine (no torch, milliseconds per edit)."""
    from agent.service import ZoneService
    from tests.agent.fakes import FakeEngine

    engine = FakeEngine()
    monkeypatch.setattr(ZoneService, "engine", property(lambda self: engine))
    return engine


@pytest.fixture
def photo(tmp_path) -> Path:
    from tests.agent.fakes import make_photo

    return make_photo(tmp_path / "photo.png")


@pytest.fixture
def unwritable_dir(tmp_path) -> Path:
    """A folder this process cannot create files in (a chmod'ed folder, or /sys when run as root)."""
    from common.safe_write import OutputError, probe_folder

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    candidates = [locked, Path("/sys")]
    try:
        for c in candidates:
            try:
                probe_folder(c)
            except OutputError:
                yield c
                return
        pytest.skip("no unwritable folder here (root without a read-only /sys)")
    finally:
        locked.chmod(0o700)


def one_line_error(rc: int, err: str, message: str) -> None:
    """Assert the Zone error form: non-zero exit, exactly one line `zone: error: ...` containing `message`."""
    assert rc != 0, err
    assert err.startswith("zone: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err


def write_script(folder: Path, turns: list[str], name: str = "script.yaml", extra: str = "") -> Path:
    """A replay script next to photo.png with the turns as JSON strings (YAML accepts them)."""
    import json

    lines = ["image: photo.png", *([extra] if extra else []), "turns:"] + [f"  - {json.dumps(t)}" for t in turns]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


os.environ.setdefault("ZONE_DB", "/nonexistent/zone-tests-must-pass-db")
