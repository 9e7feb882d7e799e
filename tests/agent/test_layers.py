"""Layer operations through the agent: reshapes from the stored canvas (pixel-exact), pointing, words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.layer_ops import parse_layer_request
from agent.reshape import segment_at
from agent.service import ZoneService
from engine.api import EditResult
from tests.agent.fakes import FakeEngine, make_photo

H, W = 60, 100


class TwoPartEngine(FakeEngine):
    """The fake engine with a second, smaller box (two parts), and SAM-like segments to point at."""

    def __init__(self, segments=None):
        super().__init__(box=(0.2, 0.1, 0.7, 0.45))
        self._segments = segments

    def edit(self, image, instruction, params, progress=None, cancel=None, work_image=None) -> EditResult:
        result = super().edit(image, instruction, params, progress, cancel, work_image=work_image)
        result.layer, result.mask, result.offset = result.full_layer().copy(), result.full_mask().copy(), (0, 0)
        extra = np.zeros((H, W), bool)
        extra[5:15, 70:90] = True  # a second, smaller part
        colour = result.layer[result.mask][0, :3]
        result.layer[extra, :3], result.layer[extra, 3] = colour, 255
        result.mask |= extra
        result.composite[extra] = colour
        result.canvas = result.composite.copy()
        result.canvas[~result.mask] = np.clip(image[~result.mask].astype(int) + 40, 0, 255).astype(np.uint8)
        result.rough_mask = result.mask.copy()
        return result

    def segments(self, image):
        return self._segments


def _service(tmp_path: Path, engine=None):
    engine = engine or TwoPartEngine()
    service = ZoneService(db_url=f"sqlite:///{tmp_path / 'zone.db'}", engine_factory=lambda: engine,
                          export_dir=tmp_path / "out")
    session = service.open_image(make_photo(tmp_path / "photo.png", size=(H, W)))
    return service, session, engine


def _square_dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Dilation by a (2r+1) square, by shifting (the plain reference)."""
    out = np.zeros_like(mask)
    padded = np.pad(mask, r)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out |= padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def _erode(mask: np.ndarray, r: int) -> np.ndarray:
    """Erosion by a (2r+1) square, by shifting; beyond the border counts as inside."""
    out = np.ones_like(mask)
    padded = np.pad(mask, r, constant_values=True)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out &= padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def _from_canvas(base: np.ndarray, canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A reshaped layer drawn over `base`: canvas pixels (alpha 255) inside the mask."""
    out = base.copy()
    out[mask] = canvas[mask]
    return out


def _edit(service, session, text="give him a hat"):
    r = service.handle(session.id, text)
    assert r.ok and r.edits, r.reply
    return r


def test_grow_and_shrink_cut_the_stored_canvas(tmp_path):
    service, s, _ = _service(tmp_path)
    r = _edit(service, s)
    canvas = service.store.edit_sources(s.id, r.version_id).canvas
    original, mask = service.original(s.id), service.mask(s.id, r.version_id)
    radius = max(1, round(0.02 * max(H, W)))  # 2 pixels at 60x100
    assert radius == 2
    grown = service.handle(s.id, "grow the edit")
    assert grown.intent == "layer" and grown.ok, grown.reply
    want = _square_dilate(mask, radius)
    assert np.array_equal(service.mask(s.id), want)
    assert np.array_equal(service.render(s.id), _from_canvas(original, canvas, want))
    assert service.engine.calls and len(service.engine.calls) == 1  # no model ran
    shrunk = service.handle(s.id, "shrink the edit")
    assert shrunk.ok, shrunk.reply
    want2 = _erode(want, radius)  # from the grown region, the one the user sees now
    assert np.array_equal(service.mask(s.id), want2)
    assert np.array_equal(service.render(s.id), _from_canvas(original, canvas, want2))
    outside = ~want2
    assert np.array_equal(service.render(s.id)[outside], original[outside])


def test_whole_edit_and_largest_part(tmp_path):
    service, s, _ = _service(tmp_path)
    r = _edit(service, s)
    canvas = service.store.edit_sources(s.id, r.version_id).canvas
    original, mask = service.original(s.id), service.mask(s.id, r.version_id)
    whole = service.handle(s.id, "use the whole edit")
    assert whole.ok and whole.intent == "layer", whole.reply
    assert np.array_equal(service.render(s.id), canvas)  # the global result, no mask
    service.handle(s.id, "undo")
    largest = service.handle(s.id, "keep only the largest part")
    assert largest.ok, largest.reply
    big = mask.copy()
    big[5:15, 70:90] = False  # the small part goes
    assert np.array_equal(service.mask(s.id), big)
    assert np.array_equal(service.render(s.id), _from_canvas(original, canvas, big))
    again = service.handle(s.id, "only the largest part")
    assert not again.ok and "already in one part" in again.reply


def test_a_point_inside_a_segment_picks_that_segment(tmp_path):
    segs = np.zeros((3, H, W), bool)
    segs[0, :, :] = True  # the whole picture contains every point
    segs[1, 30:50, 10:40] = True  # the constructed segment
    segs[2, 0:10, 0:10] = True
    service, s, engine = _service(tmp_path, TwoPartEngine(segments=segs))
    r = _edit(service, s)
    canvas = service.store.edit_sources(s.id, r.version_id).canvas
    assert segment_at(segs, 20, 40) == 1 and segment_at(segs, 60, 5) == 0 and segment_at(segs, -1, 0) is None
    asked = service.handle(s.id, "edit only here")  # no point yet
    assert not asked.ok and "point at the photo" in asked.reply.lower()
    picked = service.handle(s.id, "edit only here", point=(20, 40))
    assert picked.ok and picked.layer_op["args"]["point"] == [20, 40], picked.reply
    assert np.array_equal(service.mask(s.id), segs[1])
    assert np.array_equal(service.render(s.id), _from_canvas(service.original(s.id), canvas, segs[1]))
    assert len(engine.calls) == 1


def test_remove_points_on_the_original(tmp_path):
    seen = []

    class Recording(TwoPartEngine):
        def segments(self, image):
            seen.append(image.copy())
            return super().segments(image)

    segs = np.zeros((1, H, W), bool)
    segs[0, 20:40, 20:60] = True
    service, s, _ = _service(tmp_path, Recording(segments=segs))
    _edit(service, s, "remove the leash")
    assert service.handle(s.id, "edit only here", point=(30, 30)).ok
    assert np.array_equal(seen[0], service.original(s.id))


def test_parser_reads_each_operation():
    cases = {
        "hide the hat": ("hide", "the hat", {}),
        "drop the second edit": ("hide", "the second edit", {}),
        "bring the hat back": ("show", "the hat", {}),
        "fade the snow to half": ("opacity", "the snow", {"opacity": 0.5}),
        "make it 30% transparent": ("opacity", "it", {"opacity": 0.7}),
        "full strength again": ("opacity", "", {"opacity": 1.0}),
        "move the hat left a bit": ("move", "the hat", {"direction": "left", "step": "small"}),
        "move it up 20 pixels": ("move", "it", {"direction": "up", "pixels": 20}),
        "make the hat bigger": ("scale", "the hat", {"factor": 1.25}),
        "smaller": ("scale", "", {"factor": 0.8}),
        "grow the edit": ("reshape", "", {"mode": "grow"}),
        "shrink the edit": ("reshape", "", {"mode": "shrink"}),
        "use the whole edit": ("reshape", "", {"mode": "whole"}),
        "only the largest part": ("reshape", "", {"mode": "largest"}),
        "edit only here": ("point", "", {"mode": "point"}),
    }
    for text, (op, ref, args) in cases.items():
        got = parse_layer_request(text)
        assert got is not None and (got.op, got.ref, got.args) == (op, ref, args), text
    for text in ("make his tie blue", "remove the hat", "show the mask", "show the original", "undo", "history"):
        assert parse_layer_request(text) is None, text


@pytest.mark.parametrize("text", ["hide the cup", "move the car left", "make the dog bigger"])
def test_object_words_without_a_layer_stay_ordinary_edits(tmp_path, text):
    service, s, engine = _service(tmp_path)
    _edit(service, s)  # a hat: no cup, car or dog layer
    r = service.handle(s.id, text)
    assert r.intent == "edit" and len(engine.calls) == 2, r.reply
