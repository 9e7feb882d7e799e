"""The layers panel, its keys and pointing at the photo, against the real agent with a fake engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.service import ZoneService
from tests.agent.fakes import FakeEngine
from tui.app import ZoneApp
from tui.widgets.history_tree import LAYER_OP_MARK, node_label
from tui.widgets.layers_panel import LayersPanel
from tui_support import main_screen, settle


class SegmentingEngine(FakeEngine):
    """The fake engine plus SAM-like segments: the left half and a small box."""

    def segments(self, image):
        h, w = image.shape[:2]
        segs = np.zeros((2, h, w), bool)
        segs[0, :, : w // 2] = True
        segs[1, 2:10, 2:10] = True
        return segs


async def _type(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_panel_lists_layers_and_keys_toggle_and_fade(tmp_path: Path, photo: Path, monkeypatch) -> None:
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'z.db'}", engine_factory=SegmentingEngine,
                          export_dir=tmp_path)
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        panel = screen.query_one("#layers", LayersPanel)
        assert panel.display and panel.stack_layers == []
        await _type(pilot, "give him a hat")
        await _type(pilot, "make the tie blue")
        sid = screen.session.id
        assert [l.instruction for l in panel.stack_layers] == ["make the tie blue", "give him a hat"]  # top first
        panel.focus()
        panel.highlighted = 1  # the hat

        def no_words(*args, **kwargs):
            raise AssertionError("a panel key was parsed as words")

        # the keys hand the agent a typed layer command: the words parser must not run
        monkeypatch.setattr("agent.graph.plan_layer_turn", no_words)
        monkeypatch.setattr("agent.graph.understand", no_words)
        await pilot.press("space")
        await settle(pilot)
        assert [l.visible for l in service.store.layer_stack(sid)] == [False, True]
        assert "hide v1" in [m.text for m in screen.chat.messages]
        assert "hidden" in str(panel.get_option_at_index(1).prompt)
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("minus")
        await settle(pilot)
        stack = service.store.layer_stack(sid)
        assert [(l.visible, l.opacity) for l in stack] == [(True, 0.9), (True, 1.0)]
        head = service.store.head(sid)
        assert head.op == "opacity" and node_label(head).plain.startswith("●")
        parent = service.store.resolve(sid, head.parent_id)
        assert node_label(parent).plain.startswith(LAYER_OP_MARK) and "⧉" in node_label(parent).plain
        monkeypatch.undo()
        await _type(pilot, "undo")
        assert [l.opacity for l in service.store.layer_stack(sid)] == [1.0, 1.0]


async def test_click_on_the_photo_then_edit_only_here(tmp_path: Path, photo: Path) -> None:
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'z.db'}", engine_factory=SegmentingEngine,
                          export_dir=tmp_path)
    app = ZoneApp(service=service, image=photo)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await _type(pilot, "give him a hat")
        region = screen.pane.query_one("#image").content_region
        # A cell in the picture's left quarter, middle row: a pixel of the left-half segment.
        cell = (region.x + region.width // 4, region.y + region.height // 2)
        point = screen.pane.point_at_cell(*cell)
        assert point is not None and point[0] < 32
        await pilot.click("#image", offset=(region.width // 4, region.height // 2))
        await settle(pilot)
        assert screen.point == point
        await _type(pilot, "edit only here")
        sid = screen.session.id
        head = service.store.head(sid)
        assert head.op == "reshape" and head.op_args["point"] == list(point)
        assert np.array_equal(service.store.mask(sid), np.repeat([np.arange(64) < 32], 48, axis=0))
        # The keyboard cursor: Shift+arrows move it by 5% of the photo (3 and 2 pixels here).
        screen.pane.query_one("#views").focus()
        await pilot.press("shift+right", "shift+down")
        await settle(pilot)
        assert screen.point == (point[0] + 3, point[1] + 2)
        screen.pane.point = None  # a fresh cursor starts at the centre
        await pilot.press("shift+left")
        await settle(pilot)
        assert screen.point == (32, 24)
