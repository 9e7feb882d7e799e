"""The TUI never overwrites silently: "x.png exists: overwrite?" for the export dialog and "save it as"."""

from __future__ import annotations

from pathlib import Path

from tui.app import ZoneApp
from tui.screens.confirm import ConfirmOverwriteScreen
from tui.screens.export import ExportScreen
from tui_support import FakeService, main_screen, settle


def texts(app) -> list[str]:
    return [m.text for m in main_screen(app).chat.messages]


async def _export_dialog_to(pilot, app, path: Path) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, ExportScreen)
    field = app.screen.query_one("#path")
    field.value = str(path)
    await pilot.click("#export")
    await settle(pilot)


async def test_export_dialog_asks_before_overwriting(photo: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"keep me")
    service = FakeService()
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _export_dialog_to(pilot, app, taken)
        assert isinstance(app.screen, ConfirmOverwriteScreen)
        assert str(app.screen.query_one("#title").render()) == "taken.png exists: overwrite?"
        await pilot.press("n")  # no: back in the dialog, nothing written
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen) and taken.read_bytes() == b"keep me"
        assert "taken.png exists; pick another name." in str(app.screen.query_one("#error").render())
        await pilot.click("#export")
        await settle(pilot)
        await pilot.click("#overwrite")  # yes: written, with consent
        await settle(pilot)
        assert not isinstance(app.screen, (ExportScreen, ConfirmOverwriteScreen))
        assert taken.read_bytes() != b"keep me" and service.exports[-1][1:] == (taken, True)


async def test_export_dialog_refuses_a_fifo(photo: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _export_dialog_to(pilot, app, fifo)
        assert isinstance(app.screen, ExportScreen)
        assert "is not a regular file" in str(app.screen.query_one("#error").render())


async def test_save_it_as_an_existing_file_asks_too(photo: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"keep me")
    service = FakeService()
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#prompt")
        await pilot.press(*f"save it as {taken}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOverwriteScreen) and taken.read_bytes() == b"keep me"
        await pilot.press("escape")
        await settle(pilot)
        assert taken.read_bytes() == b"keep me"
        assert "Kept the existing taken.png; nothing was written." in texts(app)
        await pilot.click("#prompt")
        await pilot.press(*f"save it as {taken}", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert taken.read_bytes() != b"keep me"
        assert any(t.startswith("Exported ") and str(taken) in t for t in texts(app))


async def test_escape_sequences_are_shown_not_run(photo: Path) -> None:
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        message = main_screen(app).chat.add("agent", "name \x1b[2J\x1b]0;pwned\x07 ok\nnext line")
        await pilot.pause()
        rendered = str(message.query_one(".body").render())  # the message text (its role sits beside it)
        assert "\x1b" not in rendered and "\\x1b[2J" in rendered and "\n" in rendered


def test_history_labels_escape_instructions_and_branches() -> None:
    from types import SimpleNamespace

    from tui.widgets.history_tree import node_label

    v = SimpleNamespace(id="a" * 32, parent_id="b" * 32, instruction="hat\x1b[2J", branches=["x\x1b]0;t\x07"],
                        is_head=True, number=3)
    plain = node_label(v).plain
    assert "\x1b" not in plain and "hat\\x1b[2J" in plain and "x\\x1b]0;t\\x07" in plain
