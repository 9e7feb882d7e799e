"""Layer operations as versions: pixel-exact renders against a plain numpy reference, history, errors."""

from __future__ import annotations

import numpy as np
import pytest

from layerref import box_layer, ref_compose, ref_scale, ref_shift
from storehelp import make_image
from storage.errors import InvalidOperationError
from storage.history import HistoryStore
from storage.types import EditSources

H, W = 40, 56


def _session(store, boxes, band: int = 0):
    """A session with one edit per box; returns (session, original, [layers], [versions])."""
    original = make_image(H, W, seed=5)
    s = store.create_session(original, name="layers.png")
    layers, versions = [], []
    for k, box in enumerate(boxes):
        layer = box_layer(H, W, box, seed=20 + k, band=band)
        layers.append(layer)
        versions.append(store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction=f"edit {k + 1}",
                                     action="change", params={"seed": k}))
    return s, original, layers, versions


def _outside_untouched(store, sid, original):
    """Pixels outside every visible layer are byte-identical to the original."""
    from storage.layers import placed_mask

    covered = np.zeros((H, W), bool)
    for state, placed in store.placed_layers(sid):
        if state.visible and state.opacity > 0:
            covered |= placed_mask(placed, H, W)
    render = store.render(sid)
    assert np.array_equal(render[~covered], original[~covered])


BOXES = [(4, 6, 24, 30), (10, 20, 34, 44), (16, 2, 38, 26)]  # three overlapping boxes


def test_hide_the_first_of_three(store):
    s, original, layers, vs = _session(store, BOXES)
    op = store.layer_op(s.id, "hide", vs[0].id, instruction="hide the first edit")
    assert op.op == "hide" and op.parent_id == vs[2].id and op.op_args["target"] == vs[0].id
    expected = ref_compose(original, [(layers[1], 1.0), (layers[2], 1.0)])
    assert np.array_equal(store.render(s.id), expected)
    assert np.array_equal(store.render(s.id, vs[2].id), ref_compose(original, [(l, 1.0) for l in layers]))
    assert [l.visible for l in store.layer_stack(s.id)] == [False, True, True]
    _outside_untouched(store, s.id, original)


def test_opacity_half_on_a_layer_with_a_band(store):
    s, original, layers, vs = _session(store, [BOXES[0]], band=3)
    assert set(np.unique(layers[0][..., 3])) == {0, 153, 255}  # a 0.6-alpha band around an opaque core
    store.layer_op(s.id, "opacity", vs[0].id, args={"opacity": 0.5})
    assert np.array_equal(store.render(s.id), ref_compose(original, [(layers[0], 0.5)]))
    # 0.5 -> factor 128: the band draws at 153 * 128 / 65025, the core at 128 / 255, one rounding
    band = (layers[0][..., 3] == 153)
    L, B = layers[0][band][:, :3].astype(int), original[band].astype(int)
    assert np.array_equal(store.render(s.id)[band], np.rint(B + (L - B) * 153 * 128 / 65025).astype(np.uint8))
    assert store.layer_stack(s.id)[0].opacity == 0.5
    _outside_untouched(store, s.id, original)
    store.layer_op(s.id, "opacity", vs[0].id, args={"opacity": 1.0})
    assert np.array_equal(store.render(s.id), store.render(s.id, vs[0].id))


def test_move_clipped_at_the_border(store):
    s, original, layers, vs = _session(store, [(2, 3, 20, 25), BOXES[1]])
    store.layer_op(s.id, "move", vs[0].id, args={"dx": -17, "dy": 9})
    moved = ref_shift(layers[0], -17, 9)
    assert moved[..., 3].any() and (layers[0][..., 3] > 0).sum() > (moved[..., 3] > 0).sum()  # clipped
    assert np.array_equal(store.render(s.id), ref_compose(original, [(moved, 1.0), (layers[1], 1.0)]))
    assert np.array_equal(store.mask(s.id), moved[..., 3] > 0)  # the mask moved with the layer
    assert np.array_equal(store.layer(s.id), moved)
    # Where the layer was and no longer is (and no other layer covers), the original shows through.
    gone = (layers[0][..., 3] > 0) & ~(moved[..., 3] > 0) & ~(layers[1][..., 3] > 0)
    assert gone.any() and np.array_equal(store.render(s.id)[gone], original[gone])
    _outside_untouched(store, s.id, original)


def test_scale_by_five_quarters(store):
    s, original, layers, vs = _session(store, [(8, 10, 27, 33)])
    store.layer_op(s.id, "scale", vs[0].id, args={"factor": 1.25})
    scaled = ref_scale(layers[0], 1.25)
    assert (scaled[..., 3] > 0).sum() > (layers[0][..., 3] > 0).sum()
    assert np.array_equal(store.render(s.id), ref_compose(original, [(scaled, 1.0)]))
    _outside_untouched(store, s.id, original)


def test_move_and_scale_compose_and_hidden_layers_stay_placed(store):
    s, original, layers, vs = _session(store, BOXES)
    store.layer_op(s.id, "scale", vs[1].id, args={"factor": 0.8})
    store.layer_op(s.id, "move", vs[1].id, args={"dx": 5, "dy": -3})
    store.layer_op(s.id, "hide", vs[2].id)
    placed = ref_shift(ref_scale(layers[1], 0.8), 5, -3)
    assert np.array_equal(store.render(s.id), ref_compose(original, [(layers[0], 1.0), (placed, 1.0)]))
    info = store.layer_stack(s.id)[1]
    assert (info.dx, info.dy, info.scale) == (5, -3, 0.8)
    _outside_untouched(store, s.id, original)


def test_reshape_takes_its_pixels_from_the_operation(store):
    s, original, layers, vs = _session(store, BOXES[:2])
    new = box_layer(H, W, (0, 0, 10, 10), seed=99)
    canvas = make_image(H, W, seed=7)
    store.layer_op(s.id, "reshape", vs[0].id, args={"mode": "grow"}, layer=new, mask=new[..., 3] > 0,
                   sources=EditSources(canvas=canvas, refined=new[..., 3] > 0))
    store.layer_op(s.id, "move", vs[0].id, args={"dx": 3, "dy": 2})
    assert np.array_equal(store.render(s.id), ref_compose(original, [(ref_shift(new, 3, 2), 1.0), (layers[1], 1.0)]))
    stack = store.layer_stack(s.id)
    assert stack[0].edit_id == vs[0].id and stack[0].source_id != vs[0].id and stack[0].reshapeable
    assert np.array_equal(store.edit_sources(s.id, stack[0].source_id).canvas, canvas)


def test_undo_redo_branch_from_hidden_and_reopen(tmp_path):
    url = f"sqlite:///{tmp_path / 'z.db'}"
    store = HistoryStore(url)
    s, original, layers, vs = _session(store, BOXES[:2])
    hidden = store.layer_op(s.id, "hide", vs[0].id)
    faded = store.layer_op(s.id, "opacity", vs[1].id, args={"opacity": 0.3})
    want_faded = ref_compose(original, [(layers[1], 0.3)])
    assert np.array_equal(store.render(s.id), want_faded)
    store.undo(s.id)
    assert store.head(s.id).id == hidden.id
    assert np.array_equal(store.render(s.id), ref_compose(original, [(layers[1], 1.0)]))
    store.undo(s.id)
    assert np.array_equal(store.render(s.id), store.render(s.id, vs[1].id))
    store.redo(s.id)
    store.redo(s.id)
    assert store.head(s.id).id == faded.id and np.array_equal(store.render(s.id), want_faded)
    # A branch from the hidden state: a new edit on it keeps the first layer hidden.
    store.checkout(s.id, hidden.id)
    store.branch(s.id, "no-first")
    third = box_layer(H, W, BOXES[2], seed=33)
    v3 = store.commit(s.id, layer=third, mask=third[..., 3] > 0, instruction="edit 3", action="add")
    assert store.get_session(s.id).head_branch == "no-first"
    want_branch = ref_compose(original, [(layers[1], 1.0), (third, 1.0)])
    assert np.array_equal(store.render(s.id), want_branch)
    store.layer_op(s.id, "show", vs[0].id)
    want_shown = ref_compose(original, [(layers[0], 1.0), (layers[1], 1.0), (third, 1.0)])
    assert np.array_equal(store.render(s.id), want_shown)
    store.close()
    again = HistoryStore(url)  # reopening keeps everything, cache or not
    assert np.array_equal(again.render(s.id), want_shown)
    assert np.array_equal(again.render(s.id, faded.id), want_faded)
    assert np.array_equal(again.render(s.id, v3.id), want_branch)
    assert [(v.op, v.op_args.get("target")) for v in again.log(s.id)][-2:] == [(None, None), ("show", vs[0].id)]
    again.close()


def test_renders_survive_a_cold_cache(store):
    s, original, layers, vs = _session(store, BOXES)
    store.layer_op(s.id, "hide", vs[1].id)
    store.layer_op(s.id, "move", vs[0].id, args={"dx": 4, "dy": 4})
    warm = store.render(s.id)
    from storage.models import RenderCacheRow

    with store._write() as db:
        db.query(RenderCacheRow).delete()
    want = ref_compose(original, [(ref_shift(layers[0], 4, 4), 1.0), (layers[2], 1.0)])
    assert np.array_equal(warm, want) and np.array_equal(store.render(s.id), want)


def test_operations_that_change_nothing_or_miss_are_refused(store):
    s, original, layers, vs = _session(store, BOXES[:2])
    before = len(store.tree(s.id))
    with pytest.raises(InvalidOperationError, match="already visible"):
        store.layer_op(s.id, "show", vs[0].id)
    store.layer_op(s.id, "hide", vs[0].id)
    with pytest.raises(InvalidOperationError, match="already hidden"):
        store.layer_op(s.id, "hide", vs[0].id)
    with pytest.raises(InvalidOperationError, match="unknown layer operation"):
        store.layer_op(s.id, "rotate", vs[0].id)
    with pytest.raises(InvalidOperationError, match="needs opacity"):
        store.layer_op(s.id, "opacity", vs[0].id)
    with pytest.raises(InvalidOperationError, match="between 0 and 1"):
        store.layer_op(s.id, "opacity", vs[0].id, args={"opacity": 1.5})
    with pytest.raises(InvalidOperationError, match="not an edit layer"):
        store.layer_op(s.id, "hide", vs[1].id, parent=vs[0].id)  # v2 is not below v1
    with pytest.raises(InvalidOperationError, match="only a reshape"):
        store.layer_op(s.id, "hide", vs[1].id, layer=layers[0], mask=layers[0][..., 3] > 0)
    assert len(store.tree(s.id)) == before + 1


def test_sources_are_stored_and_collected_with_the_session(store):
    original = make_image(H, W, seed=5)
    s = store.create_session(original, name="src.png")
    layer = box_layer(H, W, BOXES[0], seed=1)
    canvas = make_image(20, 28, seed=8)
    rough = np.zeros((20, 28), bool)
    rough[2:9, 3:12] = True
    v = store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="x", action="add",
                     sources=EditSources(canvas=canvas, rough=rough, refined=rough[::-1], mask_params={"edge_alpha": 0.6}))
    src = store.edit_sources(s.id, v.id)
    assert np.array_equal(src.canvas, canvas) and np.array_equal(src.rough, rough)
    assert np.array_equal(src.refined, rough[::-1]) and src.mask_params == {"edge_alpha": 0.6}
    assert store.layer_stack(s.id)[0].reshapeable
    from storage.models import Blob

    store.delete_session(s.id)
    with store._read() as db:
        assert db.query(Blob).count() == 0


def _flatten_ora(path) -> tuple[np.ndarray, list[dict]]:
    """Flatten an .ora as an OpenRaster reader does: each visible layer at x, y with its opacity."""
    import io
    import zipfile
    from xml.etree import ElementTree

    from PIL import Image

    with zipfile.ZipFile(path) as zf:
        stack = ElementTree.fromstring(zf.read("stack.xml"))
        els = list(reversed(stack.findall("./stack/layer")))  # bottom first
        images = [np.asarray(Image.open(io.BytesIO(zf.read(el.get("src"))))) for el in els]
    out, attrs = images[0], []
    for el, crop in zip(els[1:], images[1:]):
        x, y, opacity = int(el.get("x")), int(el.get("y")), float(el.get("opacity"))
        attrs.append({"name": el.get("name"), "x": x, "y": y, "opacity": opacity,
                      "visibility": el.get("visibility"), "shape": crop.shape[:2]})
        full = np.zeros((H, W, 4), np.uint8)
        full[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
        if el.get("visibility") == "visible":
            out = ref_compose(out, [(full, opacity)])
    return out, attrs


def test_ora_writes_visibility_opacity_offsets_and_crops(store, tmp_path):
    s, original, layers, vs = _session(store, BOXES, band=2)
    store.layer_op(s.id, "hide", vs[0].id)
    store.layer_op(s.id, "opacity", vs[1].id, args={"opacity": 0.5})
    store.layer_op(s.id, "move", vs[2].id, args={"dx": -7, "dy": 5})
    out = store.export(s.id, "HEAD", tmp_path / "layers.ora")
    flat, attrs = _flatten_ora(out)
    assert [a["visibility"] for a in attrs] == ["hidden", "visible", "visible"]
    assert [round(a["opacity"] * 255) for a in attrs] == [255, 128, 255]
    t, l, b, r = BOXES[2]
    assert (attrs[2]["x"], attrs[2]["y"], attrs[2]["shape"]) == (0, t + 5, (H - (t + 5), r - 7))  # clipped at 2 sides
    assert (attrs[0]["x"], attrs[0]["y"], attrs[0]["shape"]) == (BOXES[0][1], BOXES[0][0], (20, 24))
    assert np.array_equal(flat, store.render(s.id))


def test_renders_come_from_memory_and_equal_a_fresh_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'mem.db'}"
    store = HistoryStore(url)
    s, original, layers, vs = _session(store, BOXES)
    store.layer_op(s.id, "hide", vs[0].id)
    store.layer_op(s.id, "move", vs[2].id, args={"dx": 3, "dy": -2})
    warm = store.render(s.id)
    hits = store.pixels.hits
    again = store.render(s.id)
    assert store.pixels.hits > hits and np.array_equal(again, warm)
    again[0, 0] = 0  # callers get their own array; the cached one is untouched
    assert np.array_equal(store.render(s.id), warm)
    from storage.models import RenderCacheRow

    with store._read() as db:  # layer-operation versions are not written to the render cache
        ops = {v.id for v in store.tree(s.id) if v.op}
        from sqlalchemy import select

        assert not ops & set(db.execute(select(RenderCacheRow.version_id)).scalars())
    store.close()
    fresh = HistoryStore(url)
    want = ref_compose(original, [(layers[1], 1.0), (ref_shift(layers[2], 3, -2), 1.0)])
    assert np.array_equal(fresh.render(s.id), want) and np.array_equal(warm, want)
    fresh.close()
