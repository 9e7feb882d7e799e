"""The whole flow on the real service with the tiny engine and SQLite: each step checks the app and the DB."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tui.app import ZoneApp
from tui.screens.export import ExportScreen
from tui_support import main_screen, settle

pytestmark = pytest.mark.slow


def tiny_service(db: Path, steps: int = 2):
    def factory():
        from agent.service import ZoneService

        return ZoneService(db_url=str(db), engine="tiny", edit_params={"steps": steps})

    return factory


async def say(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_start_edit_undo_redo_branch_checkout_export_reopen(photo: Path, tmp_path: Path) -> None:
    db = tmp_path / "zone.db"
    app = ZoneApp(service_factory=tiny_service(db), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        store, sid = app.service.store, screen.session.id
        root = store.head(sid)
        assert root.parent_id is None and len(store.tree(sid)) == 1

        # two edits: each a new version on HEAD, shown in the tree and the picture
        await say(pilot, "make the sky pink")
        first = store.head(sid)
        assert first.parent_id == root.id and first.instruction == "make the sky pink"
        assert screen.head_id == first.id and screen.tree.selected_id == first.id
        assert "make the sky pink" in screen.pane.caption and "HEAD" in screen.pane.caption
        await say(pilot, "add a red hat")
        second = store.head(sid)
        assert second.parent_id == first.id and len(store.tree(sid)) == 3
        assert len(screen.tree.numbers) == 3

        # undo by key, redo typed: both go through the agent and move HEAD in the DB
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert store.head(sid).id == first.id == screen.head_id
        await say(pilot, "redo")
        assert store.head(sid).id == second.id == screen.head_id
        said = [m.text for m in store.messages(sid) if m.role == "user"]
        assert said == ["make the sky pink", "add a red hat", "undo", "redo"]

        # branch: a named branch at HEAD
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press(*"hats", "enter")
        await settle(pilot)
        assert ("hats", second.id) in {(b.name, b.version_id) for b in store.branches(sid)}
        assert "hats" in screen.versions[second.id].branches

        # checkout of an older node selected in the tree
        await pilot.press("ctrl+t", "up")
        await settle(pilot)
        assert screen.tree.selected_id == first.id and "preview" in screen.pane.caption
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert store.head(sid).id == first.id == screen.head_id
        assert len(store.tree(sid)) == 3  # nothing new: only HEAD moved

        # export through the dialog, as layered OpenRaster
        out = tmp_path / "final.ora"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#path").value = str(out)
        await pilot.click("#export")
        await settle(pilot)
        assert out.is_file() and zipfile.is_zipfile(out)
        assert any(f"to {out}" in m.text for m in screen.chat.messages)
        with zipfile.ZipFile(out) as ora:
            assert "stack.xml" in ora.namelist()

    # reopen the session: same versions, same HEAD, the conversation replayed
    app = ZoneApp(service_factory=tiny_service(db), session=sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.session.id == sid and screen.head_id == first.id
        assert set(screen.versions) == {root.id, first.id, second.id}
        shown = [m.text for m in screen.chat.messages]
        assert "make the sky pink" in shown and any(t.startswith("Resumed") for t in shown)


async def test_escape_cancels_a_tiny_edit_and_commits_nothing(photo: Path, tmp_path: Path) -> None:
    # 60 steps: long enough that Esc lands while the edit runs, even with warm models
    app = ZoneApp(service_factory=tiny_service(tmp_path / "zone.db", steps=60), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.click("#prompt")
        await pilot.press(*"make the sky pink", "enter")
        for _ in range(200):  # the turn starts once the Submitted message is handled
            if screen.busy:
                break
            await pilot.pause(0.02)
        assert screen.busy
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.service.store.tree(screen.session.id)) == 1
        assert "Edit cancelled; nothing was committed." in [m.text for m in screen.chat.messages]
        assert not screen.busy
