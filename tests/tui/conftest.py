"""Fixtures of the TUI tests: a synthetic photo and deterministic rendering."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _halfcell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures as half-block cells in every test (the same on every terminal)."""
    monkeypatch.setenv("ZONE_IMAGE_RENDERER", "halfcell")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    from tui_support import make_gradient

    return make_gradient(tmp_path / "grad.png")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (Pilot drives the app) in a fresh event loop; no plugin needed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
