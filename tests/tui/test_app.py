"""The chat app against a fast fake service: layout, keys, dialogs, progress, cancel, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import ZoneApp
from tui.screens.branch import BranchScreen
from tui.screens.export import ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.sessions import SessionPickerScreen
from tui_support import FakeService, main_screen, make_gradient, settle


def texts(app) -> list[str]:
    return [m.text for m in main_screen(app).chat.messages]


async def type_line(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


async def test_first_screen_says_how_to_begin(photo: Path) -> None:
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert "press Enter" in texts(app)[0]
        assert screen.session.name == "grad.png"
        assert len(screen.versions) == 1 and screen.tree.selected_id == screen.head_id
        assert screen.pane.image is not None
        assert "HEAD" in screen.pane.caption
        assert app.focused is screen.query_one("#prompt")


async def test_edit_then_keys_go_through_the_agent(photo: Path) -> None:
    service = FakeService()
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await type_line(pilot, "make the sky pink")
        await settle(pilot)
        assert len(screen.versions) == 2
        first = screen.head_id
        assert "make the sky pink" in screen.pane.caption
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert screen.head_id != first
        await type_line(pilot, "redo")
        await settle(pilot)
        assert screen.head_id == first
        assert service.calls == ["make the sky pink", "undo", "redo"]  # key and typed: same text
        assert any(t.startswith("Undid") for t in texts(app))


async def test_views_switch_by_key_and_by_chat(photo: Path) -> None:
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await type_line(pilot, "add a hat")
        await settle(pilot)
        result = screen.pane.image.tobytes()
        await pilot.press("f6")
        await settle(pilot)
        assert screen.pane.view == "mask" and "mask" in screen.pane.caption
        assert screen.pane.image.tobytes() != result
        await pilot.press("f2")
        await settle(pilot)
        assert screen.pane.view == "diff"
        await type_line(pilot, "show the original")
        await settle(pilot)
        assert screen.pane.view == "original"
        await pilot.click("#view-result")
        await settle(pilot)
        assert screen.pane.view == "result" and screen.pane.image.tobytes() == result


async def test_progress_escape_cancels_and_history_stays_browsable(photo: Path) -> None:
    service = FakeService(delay=1.5)
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await type_line(pilot, "add a hat")
        await settle(pilot)
        await type_line(pilot, "add a scarf")
        await pilot.pause(0.6)
        assert screen.busy and screen.progress.has_class("-running")
        assert screen.progress.stage_text == "Painting the edit: step 1 of 3"
        # browse while the edit runs: the older version shows as a preview
        await pilot.press("ctrl+t", "up")
        await pilot.pause(0.2)
        assert "preview" in screen.pane.caption and "original" in screen.pane.caption
        await type_line(pilot, "add a bird")  # refused politely while busy
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.progress.has_class("-running")
        assert len(service.versions) == 2  # nothing committed by the cancelled edit
        assert "Edit cancelled; nothing was committed." in texts(app)
        assert any(t.startswith("Still working") for t in texts(app))


async def test_errors_are_chat_messages_and_the_app_keeps_running(photo: Path) -> None:
    service = FakeService(fail_on="explode")
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_line(pilot, "explode the car")
        await settle(pilot)
        assert any("Out of memory" in t and "--device cpu" in t for t in texts(app))
        await type_line(pilot, "add a hat")
        await settle(pilot)
        assert len(main_screen(app).versions) == 2


async def test_a_bad_file_given_at_start_ends_the_app_with_its_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    app = ZoneApp(service=FakeService(), image=bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
    assert app.return_code == 1 and app.open_error and "Error" not in app.open_error.split()[0]


async def test_a_bad_file_picked_in_the_picker_is_reported_and_the_picker_comes_back(photo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    service = FakeService()
    service.open_image(photo)
    app = ZoneApp(service=service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app._open(bad, None)
        await settle(pilot)
        said = [t for t in texts(app) if t.startswith("Could not open it")]
        assert len(said) == 1 and "Error:" not in said[0]
        assert isinstance(app.screen, SessionPickerScreen)


async def test_branch_checkout_and_export_dialogs(photo: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    service = FakeService()
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await type_line(pilot, "add a hat")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, BranchScreen)
        await pilot.press(*"bad name", "enter")
        await pilot.pause()
        assert isinstance(app.screen, BranchScreen)  # refused, with a reason
        await pilot.press("ctrl+u", *"hats", "enter")
        await settle(pilot)
        assert service.commands[-1] == {"intent": "branch", "name": "hats"}  # typed, never parsed back
        # check out the original through the tree and the footer key
        await pilot.press("ctrl+t", "up", "ctrl+o")
        await settle(pilot)
        assert service.commands[-1] == {"intent": "checkout", "ref": "00000000" + "0" * 24}
        assert service.calls[-1] == "checkout v0"  # shown with the number the tree shows, not a 32-hex id
        assert screen.versions[screen.head_id].parent_id is None
        # export: format radio changes the suffix; Enter writes it through the agent
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.click("#fmt-jpg")
        await pilot.pause()
        assert app.screen.query_one("#path").value.endswith(".jpg")
        await pilot.click("#export")
        await settle(pilot)
        written = list(tmp_path.glob("grad-*.jpg"))
        assert len(written) == 1 and service.calls[-1].startswith("checkout")  # the dialog calls export, typed
        assert service.exports[-1][1] == written[0].absolute()


async def test_help_lists_every_key_and_closes(photo: Path) -> None:
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {b.action for b in app.screen.key_bindings}
        assert listed == {b.action for b in main_screen(app).BINDINGS}
        assert {"undo", "redo", "branch", "checkout", "export", "next_view", "cancel", "help"} <= listed
        await pilot.click("#close")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_small_terminal_collapses_and_resizes(photo: Path) -> None:
    app = ZoneApp(service=FakeService(), image=photo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        assert screen.query_one("#history").region.width > 0
        assert screen.query_one("#image").region.height > 0
        await pilot.resize_terminal(130, 40)
        await settle(pilot)
        assert screen.has_class("-wide") and not screen.has_class("-narrow")
        assert screen.query_one("#history-pane").region.x > screen.query_one("#image-pane").region.x
        for width in (160, 220):  # from 160 columns the history gets about a third of the width
            await pilot.resize_terminal(width, 48)
            await settle(pilot)
            assert screen.has_class("-xwide")
            assert abs(screen.query_one("#history-pane").region.width - width / 3) <= 2


async def test_bare_chat_lists_sessions_to_pick(photo: Path) -> None:
    service = FakeService()
    service.open_image(photo)
    service.handle("s", "add a hat")
    app = ZoneApp(service=service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionPickerScreen)
        assert "add a hat" in str(app.screen.query_one(".last").render())
        await pilot.press("enter")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.session.name == "grad.png" and len(screen.versions) == 2
        assert "add a hat" in texts(app)  # the conversation is replayed


def test_bad_renderer_is_refused() -> None:
    with pytest.raises(ValueError, match="renderer"):
        ZoneApp(service=FakeService(), renderer="ascii-art")


async def test_quitting_during_an_edit_cancels_it(photo: Path) -> None:
    service = FakeService(delay=1.0)
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_line(pilot, "add a hat")
        await pilot.pause(0.3)
        await pilot.press("ctrl+q")
    assert len(service.versions) == 1  # the engine saw the cancel flag: nothing committed


async def test_missing_weights_through_the_real_agent_say_what_to_do(photo: Path, tmp_path: Path) -> None:
    from agent.service import ZoneService
    from engine.errors import WeightsMissingError

    def no_weights():
        raise WeightsMissingError("model weights missing: ip2p; run `zone models download`")

    service = ZoneService(db_url=str(tmp_path / "z.db"), engine_factory=no_weights)
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_line(pilot, "make the sky pink")
        await settle(pilot)
        errors = [m.text for m in main_screen(app).chat.messages if m.role == "error"]
        assert len(errors) == 1 and "zone models download" in errors[0]
        assert len(service.history(main_screen(app).session.id)) == 1
        await type_line(pilot, "undo")  # still running, still answering
        await settle(pilot)
        last = main_screen(app).chat.messages[-1]
        assert "nothing to undo" in last.text.lower(), last.text


def test_picker_lists_the_newest_sessions_first(tmp_path: Path) -> None:
    """`zone chat` alone offers the most recent sessions, newest on top."""
    from agent.service import ZoneService
    from tui.app import RECENT_SESSIONS, ZoneApp

    service = ZoneService(db_url=str(tmp_path / "zone.db"), engine="tiny")
    photo = make_gradient(tmp_path / "p.png")
    made = [service.open_image(photo, name=f"s{k}").id for k in range(RECENT_SESSIONS + 2)]
    app = ZoneApp(service=service)
    entries = app._recent_sessions()
    assert [e.id for e in entries] == list(reversed(made))[:RECENT_SESSIONS]


class _WarmingService(FakeService):
    """A fake whose warm-up (importing torch, building the engine) blocks until released."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.release = threading.Event()
        self.warm_started = threading.Event()
        self.frame_before_warm: bool | None = None
        self.app = None

    def warm_up(self) -> None:
        screen = main_screen(self.app)
        self.frame_before_warm = bool(screen.chat.messages) and screen.pane.image is not None
        self.warm_started.set()
        self.release.wait(30)


async def test_warm_up_starts_after_the_first_frame_and_never_blocks_the_app(photo: Path) -> None:
    import time

    service = _WarmingService()
    app = ZoneApp(service=service, image=photo)
    service.app = app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert service.warm_started.wait(10)
        assert service.frame_before_warm  # the hint and the photo were on screen before it began
        await type_line(pilot, "make the sky pink")  # the app answers while the warm-up still runs
        await settle(pilot)
        assert len(main_screen(app).versions) == 2 and not service.release.is_set()
        assert app.warm_thread is not None and app.warm_thread.daemon and app.warm_thread.is_alive()
        assert all(size is not None for size in service.view_sizes)  # the pane asks at its pixel size
        started = time.monotonic()
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 5.0  # quitting does not wait for the warm-up
    service.release.set()
