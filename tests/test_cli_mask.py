"""`zone mask SESSION --point X,Y`: the segment at a point becomes the last edit's region (tiny SAM)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.agent.fakes import make_service

REPO = Path(__file__).resolve().parents[1]


def _zone(*args: str) -> subprocess.CompletedProcess:
    script = "import sys; from tui.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=600)


def test_zone_mask_point_cuts_the_layer_to_a_segment(tmp_path):
    service, session, _ = make_service(tmp_path)
    edit = service.handle(session.id, "give him a hat")
    service.close()
    db = str(tmp_path / "zone.db")
    r = _zone("mask", session.id[:8], "--point", "30,20", "--engine", "tiny", "--db", db)
    assert r.returncode == 0, r.stderr
    from storage.history import HistoryStore

    with HistoryStore(db) as store:
        head = store.head(session.id)
        assert head.op == "reshape" and head.op_args["mode"] == "point" and head.op_args["point"] == [30, 20]
        assert head.parent_id == edit.version_id and head.op_args["target"] == edit.version_id
        mask = store.mask(session.id)
        assert mask[20, 30]  # the segment contains the point
        render, original = store.render(session.id), store.original(session.id)
        assert np.array_equal(render[~mask], original[~mask])
        canvas = store.edit_sources(session.id, edit.version_id).canvas
        assert np.array_equal(render[mask], canvas[mask])  # the pixels come from the stored canvas
    bad = _zone("mask", session.id[:8], "--point", "999,1", "--engine", "tiny", "--db", db)
    assert bad.returncode == 1 and bad.stderr.strip() == "zone: error: --point 999,1 is outside the 64x48 photo"
    assert "Traceback" not in bad.stderr
