"""Keys and dialogs hand the agent typed commands: a branch named `feature/x` stays `feature/x`."""

from __future__ import annotations

from pathlib import Path

from tui.app import ZoneApp
from tui.screens.branch import BranchScreen, branch_error
from tui_support import main_screen, settle


def real_service(db: Path):
    def factory():
        from agent.service import ZoneService

        return ZoneService(db_url=str(db), engine="tiny")

    return factory


async def test_branch_dialog_with_a_slash_creates_that_branch(photo: Path, tmp_path: Path) -> None:
    app = ZoneApp(service_factory=real_service(tmp_path / "zone.db"), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        store, sid = app.service.store, screen.session.id
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, BranchScreen)
        await pilot.press(*"feature/x", "enter")
        await settle(pilot)
        names = {b.name for b in store.branches(sid)}
        assert "feature/x" in names and "feature" not in names
        assert store.get_session(sid).head_branch == "feature/x"
        # typed in the chat, the same rule: the whole name
        await pilot.click("#prompt")
        await pilot.press(*"branch here as feature/y", "enter")
        await settle(pilot)
        assert "feature/y" in {b.name for b in store.branches(sid)}


def test_the_dialog_uses_the_storage_rule() -> None:
    from storage.names import branch_name_problem

    for name in ("feature/x", "v1.2", "a_b-c", "x" * 100):
        assert branch_error(name) is None and branch_name_problem(name) is None
    for name in ("HEAD", "a..b", "bad name", "-x", "x" * 101, "a~1", "feature/", "a//b", "v3"):
        assert branch_error(name) is not None and branch_name_problem(name) is not None
