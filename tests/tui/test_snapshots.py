"""Snapshots of the main screen, the help screen and the export dialog at 80x24, 160x48 and 220x60.

A fake service with fixed ids and times, a synthetic gradient and half-block pictures keep them
identical on every machine. Update with `pytest tests/tui --snapshot-update` after checking them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import ZoneApp
from tui_support import FakeService, settle

SIZES = [(80, 24), (160, 48), (220, 60)]


@pytest.fixture(autouse=True)
def _fixed_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export dialog shows the full destination folder: the same one on every machine."""
    monkeypatch.chdir("/")


def two_edits_app(photo: Path) -> ZoneApp:
    return ZoneApp(service=FakeService(), image=photo, renderer="halfcell")


async def steady(pilot) -> None:
    """Stop cursors blinking, so the frame does not depend on when it is taken."""
    from textual.widgets import Input

    for screen in pilot.app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False
    await pilot.pause()


async def two_edits(pilot) -> None:
    await settle(pilot)
    for text in ("make the sky pink", "add a red hat"):
        await pilot.click("#prompt")
        await pilot.press(*text, "enter")
        await settle(pilot)
    await steady(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, photo: Path, size: tuple[int, int]) -> None:
    assert snap_compare(two_edits_app(photo), terminal_size=size, run_before=two_edits)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, photo: Path, size: tuple[int, int]) -> None:
    async def open_help(pilot) -> None:
        await two_edits(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await steady(pilot)

    assert snap_compare(two_edits_app(photo), terminal_size=size, run_before=open_help)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_dialog(snap_compare, photo: Path, size: tuple[int, int]) -> None:
    async def open_export(pilot) -> None:
        await two_edits(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await steady(pilot)

    assert snap_compare(two_edits_app(photo), terminal_size=size, run_before=open_export)
