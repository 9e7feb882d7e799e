"""The layered .ora export opens in Krita, and Krita's flattened image equals Zone's render."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from storage.history import HistoryStore
from storehelp import commit_layer, make_image

pytestmark = pytest.mark.skipif(
    not (shutil.which("krita") and shutil.which("xvfb-run")), reason="Krita and xvfb-run are not installed"
)


@pytest.mark.parametrize("layer_ops", [False, True], ids=["plain", "hidden-faded-moved"])
def test_krita_flattens_the_ora_to_the_render(tmp_path, layer_ops):
    store = HistoryStore(f"sqlite:///{tmp_path / 'zone.db'}")
    session = store.create_session(make_image(60, 90, seed=3), name="krita")
    edits = [commit_layer(store, session.id, seed=10 + k, text=f"edit {k}") for k in range(4)]
    if layer_ops:  # a hidden layer, a half-opacity layer and a moved (partly off-canvas) layer
        store.layer_op(session.id, "hide", edits[0].id)
        store.layer_op(session.id, "opacity", edits[1].id, args={"opacity": 0.5})
        store.layer_op(session.id, "move", edits[2].id, args={"dx": -20, "dy": 11})
    ora, png, flat = tmp_path / "v.ora", tmp_path / "render.png", tmp_path / "krita.png"
    store.export(session.id, "HEAD", ora)
    store.export(session.id, "HEAD", png)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    # Our own display number (-a searches up from it): two xvfb-run starting together can collide on
    # a display, and Krita then cannot connect to it; that (and only that) is retried on another one.
    for attempt in range(3):
        server = str(100 + (os.getpid() * 7 + 13 * attempt + int(layer_ops)) % 4000)
        r = subprocess.run(["xvfb-run", "-a", "-n", server, "krita", str(ora), "--export", "--export-filename",
                            str(flat)], capture_output=True, text=True, timeout=300, env=env)
        if r.returncode == 0 or "could not connect to display" not in r.stderr:
            break
    assert r.returncode == 0 and flat.is_file(), r.stderr[-2000:]
    ours = np.asarray(Image.open(png).convert("RGB")).astype(int)
    theirs = np.asarray(Image.open(flat).convert("RGB")).astype(int)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # Krita's own blending of our layers and alphas
