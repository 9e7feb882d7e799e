"""Layers stored by their bounding box compose byte-identically to full planes; old full-plane
databases (before revision 0004) still open and render the same bytes; previews follow the crops."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select

from storage import db as dbmod
from storage.blobs import encode_png
from storage.compose import compose_reference
from storage.errors import InvalidOperationError
from storage.history import HistoryStore
from storage.crops import PREVIEW_SIDE, apply_to_preview, compose_crop, crop_layer, downsize, preview_hw
from storage.models import VersionRow
from storehelp import make_image


def _random_layers(h: int, w: int, seed: int) -> list[np.ndarray]:
    """Layers with every awkward shape: random boxes, one on each edge, a 0.6-alpha band, one touching
    all four borders, a single pixel in a corner, and an empty one. RGB is zero where alpha is 0."""
    rng = np.random.default_rng(seed)
    out = []

    def layer_with(alpha: np.ndarray) -> np.ndarray:
        layer = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        layer[..., 3] = alpha
        layer[alpha == 0, :3] = 0
        return layer

    for _ in range(3):  # random boxes of random alphas
        alpha = np.zeros((h, w), np.uint8)
        y0, x0 = rng.integers(0, h - 2), rng.integers(0, w - 2)
        y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
        alpha[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0))
        out.append(layer_with(alpha))
    for edge in (np.s_[:3, :], np.s_[-3:, :], np.s_[:, :2], np.s_[:, -2:]):
        alpha = np.zeros((h, w), np.uint8)
        alpha[edge] = 255
        out.append(layer_with(alpha))
    band = np.zeros((h, w), np.uint8)  # an opaque core in a 0.6-alpha band, like the engine's
    band[h // 4:3 * h // 4, w // 4:3 * w // 4] = round(0.6 * 255)
    band[h // 4 + 2:3 * h // 4 - 2, w // 4 + 2:3 * w // 4 - 2] = 255
    out.append(layer_with(band))
    border = np.zeros((h, w), np.uint8)  # a frame touching every border: the crop is the whole photo
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = rng.integers(1, 256)
    out.append(layer_with(border))
    corner = np.zeros((h, w), np.uint8)
    corner[-1, -1] = 200
    out.append(layer_with(corner))
    out.append(layer_with(np.zeros((h, w), np.uint8)))  # nothing visible
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crops_compose_like_full_planes(store, seed):
    h, w = 37, 53
    image = make_image(h, w, seed=seed)
    layers = _random_layers(h, w, seed + 10)
    s = store.create_session(image, name="crops")
    expected, versions = image, []
    for layer in layers:
        expected = compose_reference(expected, layer)  # the full-plane path
        versions.append((store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="e",
                                      action="change"), expected))
    fresh = HistoryStore(store.url)  # nothing in memory: every render decodes crops
    for v, want in versions:
        assert np.array_equal(fresh.render(s.id, v.id), want)
    crops = [fresh.layer_crop(s.id, v.id) for v, _ in versions]
    for layer, crop in zip(layers, crops):
        assert np.array_equal(compose_crop(image, crop), compose_reference(image, layer))
        assert np.array_equal(crop.full_planes(h, w)[1], layer[..., 3] > 0)
    assert crops[-3].rgba.shape[:2] == (h, w)  # the frame touches every border
    assert crops[-2].rgba.shape[:2] == (1, 1) and (crops[-2].top, crops[-2].left) == (h - 1, w - 1)
    assert crops[0].area < h * w  # a box is stored as its box
    fresh.close()


def test_commit_takes_a_crop_with_its_offset(store):
    image = make_image(30, 40, seed=3)
    layer = _random_layers(30, 40, 4)[0]
    crop = crop_layer(layer, layer[..., 3] > 0)
    s = store.create_session(image, name="c")
    a = store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="full", action="change")
    b = store.commit(s.id, layer=crop.rgba, mask=crop.mask, offset=(crop.top, crop.left), instruction="crop",
                     action="change", parent=a.parent_id)
    assert np.array_equal(store.render(s.id, a.id), store.render(s.id, b.id))
    with store._read() as db:
        rows = {r.id: r for r in db.execute(select(VersionRow)).scalars()}
    assert rows[a.id].layer_blob == rows[b.id].layer_blob  # the same crop, stored once
    with pytest.raises(InvalidOperationError, match="does not fit"):
        store.commit(s.id, layer=crop.rgba, mask=crop.mask, offset=(29, 39), instruction="x", action="change")
    with pytest.raises(InvalidOperationError, match="like the crop"):
        store.commit(s.id, layer=crop.rgba, mask=crop.mask[1:], offset=(0, 0), instruction="x", action="change")
    assert len(store.tree(s.id)) == 3  # the refused commits left nothing behind


def test_the_engines_composite_becomes_the_render(store):
    image = make_image(20, 20, seed=5)
    layer = _random_layers(20, 20, 6)[0]
    s = store.create_session(image, name="seed")
    composite = compose_reference(image, layer)
    v = store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="e", action="change",
                     composite=composite)
    assert store.render(s.id, v.id) is not None and np.array_equal(store.render(s.id, v.id), composite)
    with pytest.raises(InvalidOperationError, match="composite"):
        store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="e", action="change",
                     composite=composite[:10])


def test_previews_follow_the_crops():
    h, w = 1300, 1700  # larger than a preview
    ph, pw = preview_hw(h, w)
    assert max(ph, pw) == PREVIEW_SIDE
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    layer = np.zeros((h, w, 4), np.uint8)
    layer[400:900, 300:1000, :3] = rng.integers(0, 256, 3)
    layer[400:900, 300:1000, 3] = 153
    crop = crop_layer(layer, layer[..., 3] > 0)
    derived = apply_to_preview(downsize(base, (ph, pw)), crop, (h, w))
    direct = downsize(compose_reference(base, layer), (ph, pw))
    assert np.abs(derived.astype(int) - direct.astype(int)).mean() < 1.0
    assert np.abs(derived.astype(int) - direct.astype(int)).max() <= 40  # only along the crop's rim
    small = make_image(9, 11)
    small_layer = _random_layers(9, 11, 1)[0]
    exact = apply_to_preview(small, crop_layer(small_layer, small_layer[..., 3] > 0), (9, 11))
    assert np.array_equal(exact, compose_reference(small, small_layer))  # scale 1: exact


def test_a_preview_is_stored_per_version_and_read_back(store):
    s = store.create_session(make_image(40, 30, seed=1), name="p")
    layer = _random_layers(40, 30, 2)[1]
    v = store.commit(s.id, layer=layer, mask=layer[..., 3] > 0, instruction="e", action="change")
    fresh = HistoryStore(store.url)
    assert np.array_equal(fresh.preview(s.id, v.id), fresh.render(s.id, v.id))
    with store._read() as db:
        assert all(r.preview_blob for r in db.execute(select(VersionRow)).scalars())
    fresh.close()


# -- a database written before revision 0004: full-plane PNG layers, no previews ------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _database_at_0002_with_full_planes(path, image: np.ndarray, layers: list[np.ndarray]) -> tuple[str, list[str]]:
    """Write a session the way Zone wrote them before crops: PNG blobs, full-size layers and masks."""
    engine = create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod.MIGRATIONS_DIR))
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    engine.dispose()
    con = sqlite3.connect(path)

    def blob(data: bytes, kind: str) -> str:
        con.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?, '2026-01-01')", (_sha(data), kind, len(data), data))
        return _sha(data)

    sid = "5" * 32
    con.execute("INSERT INTO sessions VALUES (?, 'old', NULL, ?, ?, ?, NULL, 'main', '2026-01-01')",
                (sid, image.shape[1], image.shape[0], blob(encode_png(image), "original")))
    ids = [f"{i:x}" * 32 for i in range(1, len(layers) + 2)]
    for i, vid in enumerate(ids):
        layer_sha = mask_sha = None
        if i:
            layer_sha = blob(encode_png(layers[i - 1]), "layer")
            mask_sha = blob(encode_png(layers[i - 1][..., 3] > 0), "mask")
        con.execute("INSERT INTO versions (id, session_id, parent_id, instruction, action, params, timings,"
                    " layer_blob, mask_blob, depth, number, created_at) VALUES (?, ?, ?, 'x', 'change', '{}',"
                    " '{}', ?, ?, ?, ?, ?)", (vid, sid, ids[i - 1] if i else None, layer_sha, mask_sha, i, i,
                                              f"2026-01-01 00:00:{i:02d}"))
    con.execute("UPDATE sessions SET head_version_id = ?", (ids[-1],))
    con.execute("INSERT INTO branches VALUES (?, 'main', ?, '2026-01-01')", (sid, ids[-1]))
    con.commit()
    con.close()
    return sid, ids


def test_a_full_plane_database_opens_and_renders_the_same_bytes(tmp_path):
    h, w = 33, 47
    image = make_image(h, w, seed=8)
    layers = _random_layers(h, w, 9)[:6]
    sid, ids = _database_at_0002_with_full_planes(tmp_path / "old.db", image, layers)
    store = HistoryStore(tmp_path / "old.db")
    expected = image
    for vid, layer in zip(ids[1:], layers):
        expected = compose_reference(expected, layer)
        assert np.array_equal(store.render(sid, vid), expected)
        assert np.array_equal(store.layer(sid, vid), layer) and np.array_equal(store.mask(sid, vid), layer[..., 3] > 0)
    assert np.array_equal(store.preview(sid), expected)  # derived once from the old layers, then stored
    assert store.head(sid).id == ids[-1] and [b.name for b in store.branches(sid)] == ["main"]
    new = store.commit(sid, layer=layers[0], mask=layers[0][..., 3] > 0, instruction="new", action="change")
    assert np.array_equal(HistoryStore(tmp_path / "old.db").render(sid, new.id), compose_reference(expected, layers[0]))
    store.close()
    con = sqlite3.connect(tmp_path / "old.db")
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(dbmod.HEAD_REVISION,)]
    assert con.execute("SELECT count(*) FROM versions WHERE preview_blob IS NOT NULL").fetchone()[0] == len(ids) + 1
