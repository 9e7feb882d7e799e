"""Rendering and export: bit-exact composition, verified cache, corruption, PNG/JPEG/ORA files."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

import numpy as np
import pytest

from common.safe_write import OutputError
from PIL import Image
from sqlalchemy import select, update

from storehelp import commit_layer, make_image, make_layer
from storage.compose import compose_reference
from storage.errors import CorruptBlobError, InvalidOperationError, StorageError
from storage.models import Blob, RenderCacheRow, VersionRow


def _line(store, n: int):
    s = store.create_session(make_image(seed=11), name="p.png")
    return s, [commit_layer(store, s.id, i, f"edit {i}") for i in range(1, n + 1)]


def _expected(n: int) -> np.ndarray:
    img = make_image(seed=11)
    for i in range(1, n + 1):
        img = compose_reference(img, make_layer(seed=i))
    return img


def test_render_is_original_plus_path_layers(store):
    s, vs = _line(store, 4)
    store.undo(s.id)
    store.undo(s.id)
    side = commit_layer(store, s.id, 9)  # on v2: must not leak into v4
    assert np.array_equal(store.render(s.id, vs[3].id), _expected(4))
    assert np.array_equal(store.render(s.id, vs[1].id), _expected(2))
    assert np.array_equal(store.render(s.id, side.id), compose_reference(_expected(2), make_layer(seed=9)))
    assert np.array_equal(store.render(s.id, "main~4"), make_image(seed=11))


def _fresh(store):
    """Another HistoryStore on the same database: nothing cached in its memory."""
    from storage.history import HistoryStore

    return HistoryStore(store.url)


def test_render_cache_is_used_and_repaired(store, monkeypatch):
    import storage.rendering as rendering

    monkeypatch.setattr(rendering, "CACHE_AREA_FACTOR", 0.0)  # cache every composed render
    s, vs = _line(store, 3)
    first = _fresh(store).render(s.id)
    with store._read() as db:
        sha = db.get(RenderCacheRow, vs[2].id).blob
    assert np.array_equal(_fresh(store).render(s.id), first)
    with store._write() as db:  # damage the cached render: it is detected and rebuilt
        db.execute(update(Blob).where(Blob.sha256 == sha).values(data=b"garbage"))
    other = _fresh(store)
    assert np.array_equal(other.render(s.id), _expected(3))
    with store._read() as db:
        new_sha = db.get(RenderCacheRow, vs[2].id).blob
        assert db.get(Blob, new_sha).data != b"garbage"
    assert getattr(other, "cache_write_failures", 0) == 0


def test_small_edits_write_no_render_cache(store):
    s, vs = _line(store, 3)
    assert np.array_equal(_fresh(store).render(s.id), _expected(3))  # 3 crops of a quarter each
    with store._read() as db:
        assert db.execute(select(RenderCacheRow)).first() is None


def test_render_starts_from_nearest_cached_ancestor(store, monkeypatch):
    s, vs = _line(store, 5)
    reader = _fresh(store)
    reader.render(s.id, vs[2].id)
    import storage.rendering as rendering

    calls = []
    real = rendering.layers.compose_placed
    monkeypatch.setattr(rendering.layers, "compose_placed", lambda b, l: calls.append(1) or real(b, l))
    assert np.array_equal(reader.render(s.id, vs[4].id), _expected(5))
    assert len(calls) == 2  # v4 and v5 only
    calls.clear()
    reader.render(s.id, vs[4].id)
    assert calls == []


def test_corrupt_layer_is_reported_not_rendered(store):
    s, vs = _line(store, 2)
    with store._write() as db:
        sha = db.get(VersionRow, vs[0].id).layer_blob
        data = bytearray(db.get(Blob, sha).data)
        data[-20] ^= 0xFF
        db.execute(update(Blob).where(Blob.sha256 == sha).values(data=bytes(data)))
    with pytest.raises(CorruptBlobError, match="corrupted"):
        _fresh(store).render(s.id)
    with pytest.raises(CorruptBlobError):
        store.layer(s.id, vs[0].id)


def test_cache_is_bounded(store, monkeypatch):
    import storage.rendering as rendering

    monkeypatch.setattr(rendering, "RENDER_CACHE_PER_SESSION", 2)
    monkeypatch.setattr(rendering, "CACHE_AREA_FACTOR", 0.0)
    s, vs = _line(store, 4)
    reader = _fresh(store)
    for v in vs:
        reader.render(s.id, v.id)
    with store._read() as db:
        cached = set(db.execute(select(RenderCacheRow.version_id)).scalars())
    assert cached == {vs[2].id, vs[3].id}


def test_png_export_equals_render(store, tmp_path):
    s, vs = _line(store, 3)
    out = store.export(s.id, vs[1].id[:6], tmp_path / "v.png")
    with Image.open(out) as img:
        assert img.mode == "RGB" and np.array_equal(np.asarray(img), store.render(s.id, vs[1].id))


def test_jpeg_and_mask_export(store, tmp_path):
    s, vs = _line(store, 2)
    with Image.open(store.export(s.id, "HEAD", tmp_path / "v.JPG")) as img:
        assert img.format == "JPEG" and img.size == (32, 24)
        assert np.abs(np.asarray(img, dtype=int) - store.render(s.id)).mean() < 8
    with Image.open(store.export(s.id, "HEAD", tmp_path / "m.png", mask=True)) as img:
        assert img.mode == "L" and np.array_equal(np.asarray(img) > 0, make_layer(seed=2)[..., 3] > 0)
    with pytest.raises(InvalidOperationError):
        store.export(s.id, "HEAD~2", tmp_path / "root-mask.png", mask=True)


def test_ora_is_valid_and_composites_back(store, tmp_path):
    s, vs = _line(store, 3)
    out = store.export(s.id, "HEAD", tmp_path / "v.ora")
    raw = out.read_bytes()
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"  # first, uncompressed
    with zipfile.ZipFile(out) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.testzip() is None
        stack = ElementTree.fromstring(zf.read("stack.xml"))
        assert (stack.get("w"), stack.get("h")) == ("32", "24")
        layers = stack.findall("./stack/layer")
        assert len(layers) == 4
        names = [el.get("name") for el in layers]
        assert names[0] == "3: edit 3" and names[-1].startswith("original")
        arrays = []
        for el in reversed(layers):  # bottom first; each edit is its crop at x, y
            with Image.open(io.BytesIO(zf.read(el.get("src")))) as img:
                crop = np.asarray(img)
            if crop.shape[2] == 4:  # an edit layer: cropped to its bounding box, placed at x, y
                assert el.get("visibility") == "visible" and float(el.get("opacity")) == 1.0
                full = np.zeros((24, 32, 4), np.uint8)
                x, y = int(el.get("x")), int(el.get("y"))
                full[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
                assert crop.shape[:2] != (24, 32) and crop[..., 3].any(axis=1)[[0, -1]].all()
                crop = full
            arrays.append(crop)
        with Image.open(io.BytesIO(zf.read("mergedimage.png"))) as img:
            merged = np.asarray(img)
        assert "Thumbnails/thumbnail.png" in zf.namelist()
    image = arrays[0]
    for layer in arrays[1:]:
        assert layer.shape == (24, 32, 4)
        image = compose_reference(image, layer)
    assert np.array_equal(image, store.render(s.id)) and np.array_equal(merged, image)


def test_export_errors_change_nothing(store, tmp_path):
    s, _ = _line(store, 1)
    with pytest.raises(StorageError, match="use one of"):
        store.export(s.id, "HEAD", tmp_path / "v.gif")
    with pytest.raises(OutputError, match="cannot write"):
        store.export(s.id, "HEAD", tmp_path / "missing" / "v.png")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if not os.access(locked, os.W_OK):  # root can write anywhere: then nothing to check
            with pytest.raises(OutputError, match="cannot write"):
                store.export(s.id, "HEAD", locked / "v.png")
    finally:
        locked.chmod(0o700)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".db" and "zone.db" not in p.name) == ["ro"]
