"""Previews of versions whose path has layer operations (issue 12's stack over issue 13's previews)."""

from __future__ import annotations

import numpy as np

from storage.crops import PREVIEW_SIDE
from storage.history import HistoryStore
from tests.storage.storehelp import make_image, make_layer

H, W = 900, PREVIEW_SIDE + 276  # larger than a preview: previews are really downsized


def _commit(store, sid, layer, text):
    return store.commit(sid, layer=layer, mask=layer[..., 3] > 0, instruction=text, action="change")


def test_a_hidden_layer_leaves_the_preview_of_the_other_layers_alone(tmp_path):
    image, first, second = make_image(H, W, seed=1), make_layer(H, W, seed=2), make_layer(H, W, seed=3)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = HistoryStore(url)
    a = store.create_session(image, name="a")
    v1 = _commit(store, a.id, first, "first")
    v2 = _commit(store, a.id, second, "second")
    hidden = store.layer_op(a.id, "hide", v1.id)
    b = store.create_session(image, name="b")  # the same photo with the second layer only
    only = _commit(store, b.id, second, "second")
    store.close()
    fresh = HistoryStore(url)  # nothing in memory: the operation's preview is derived from stored ones
    got = fresh.preview(a.id, hidden.id)
    assert got.shape[:2] != (H, W) and max(got.shape[:2]) == PREVIEW_SIDE
    assert np.array_equal(got, fresh.preview(b.id, only.id))
    shown = fresh.layer_op(a.id, "show", v1.id)  # back to both layers: the edit's own preview again
    assert np.array_equal(fresh.preview(a.id, shown.id), fresh.preview(a.id, v2.id))
    assert not np.array_equal(fresh.preview(a.id, v2.id), got)
    fresh.close()
