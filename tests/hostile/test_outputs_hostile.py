"""Issue 11, cases 3-5: outputs never clobber, follow the umask, and every option is checked first."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from storage.history import HistoryStore
from tests.hostile.conftest import one_line_error


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if `zone edit` gets as far as reading the photo (the checks must come first)."""
    import engine.imageio

    def refuse(*a, **k):
        raise AssertionError("the photo was read before the outputs were checked")

    monkeypatch.setattr(engine.imageio, "load_image", refuse)


def _edit(zone, photo: Path, *extra):
    return zone("edit", photo, "make his tie blue", "--action", "change", "--engine", "tiny", *extra)


def test_edit_out_onto_its_own_input_is_refused(zone, photo, no_work):
    before = photo.read_bytes()
    rc, _, err = _edit(zone, photo, "--out", photo)
    one_line_error(rc, err, f"{photo} exists; add --force to overwrite it")
    assert photo.read_bytes() == before


def test_edit_same_path_for_two_outputs_is_refused(zone, photo, tmp_path, no_work):
    x = tmp_path / "x.png"
    rc, _, err = _edit(zone, photo, "--out", x, "--mask-out", x, "--layer-out", x)
    one_line_error(rc, err, f"--out and --layer-out both name {x}; give each output its own file")
    assert not x.exists()


def test_edit_onto_a_fifo_is_refused_even_with_force(zone, photo, tmp_path, no_work):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    rc, _, err = _edit(zone, photo, "--out", fifo, "--force")
    one_line_error(rc, err, f"cannot write {fifo}: it is a FIFO; Zone only replaces regular files")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_edit_into_an_unwritable_folder_fails_before_the_work(zone, photo, unwritable_dir, no_work):
    out = unwritable_dir / "out.png"
    rc, _, err = _edit(zone, photo, "--out", out)
    one_line_error(rc, err, f"cannot write {out}: folder {unwritable_dir}: ")
    assert "OSError" not in err and "ZONE_DEBUG" not in err


@pytest.mark.parametrize("argv,message", [
    (["--steps", "0"], "--steps must be an integer from 1 to 1000, not 0"),
    (["--steps", "100000"], "--steps must be an integer from 1 to 1000, not 100000"),
    (["--seed", str(2**64)], f"--seed must be an integer from 0 to 2^63-1, not {2**64}"),
    (["--seed", "-1"], "--seed must be an integer from 0 to 2^63-1, not -1"),
    (["--image-scale", "nan"], "--image-scale must be a finite number from 0 to 100, not nan"),
    (["--text-scale", "inf"], "--text-scale must be a finite number from 0 to 100, not inf"),
    (["--max-pixels", "0"], "--max-pixels must be an integer from 1 to 1_000_000_000, not 0"),
    (["--work-size", "16"], "--work-size must be an integer from 64 to 2048, not 16"),
])
def test_edit_options_are_refused_at_parse_time(zone, photo, argv, message, no_work):
    rc, _, err = _edit(zone, photo, *argv)
    one_line_error(rc, err, message)
    assert rc == 2


def test_small_max_pixels_is_stated_in_pixels(zone, photo, tmp_path):
    rc, _, err = _edit(zone, photo, "--max-pixels", "100", "--out", tmp_path / "o.png")
    one_line_error(rc, err, "is too large: it exceeds the limit of 100 pixels")
    assert "0.0 MP" not in err


@pytest.mark.parametrize("command", ["edit", "replay", "chat"])
def test_help_states_the_bounds(zone, command):
    rc, out, _ = zone(command, "--help")
    assert rc == 0 and "1-1000" in " ".join(out.split())
    if command == "edit":
        flat = " ".join(out.split())
        assert "0-2^63-1" in flat and "a finite number 0-100" in flat and "64-2048" in flat


@pytest.fixture
def session_db(tmp_path, photo):
    from tests.agent.fakes import make_photo  # noqa: F401 - the photo fixture made it

    from engine.imageio import load_image

    db = tmp_path / "z.db"
    with HistoryStore(db) as store:
        s = store.create_session(load_image(photo), name=photo.name, source_path=str(photo))
    return db, s


def test_export_onto_the_sessions_source_photo_needs_force(zone, session_db, photo):
    db, s = session_db
    before = photo.read_bytes()
    rc, _, err = zone("export", s.id, "--out", photo, "--db", db)
    one_line_error(rc, err, f"{photo} exists; add --force to overwrite it")
    assert photo.read_bytes() == before
    rc, out, _ = zone("export", s.id, "--out", photo, "--db", db, "--force")
    assert rc == 0 and out.startswith(f"wrote {photo}")


def test_export_keeps_hard_links_and_follows_the_umask(zone, session_db, tmp_path):
    db, s = session_db
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"old")
    os.link(a, b)
    assert zone("export", s.id, "--out", a, "--db", db, "--force")[0] == 0
    assert b.read_bytes() == a.read_bytes() != b"old"
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            out = tmp_path / f"u{umask:o}.jpg"
            assert zone("export", s.id, "--out", out, "--db", db)[0] == 0
        finally:
            os.umask(old)
        assert stat.S_IMODE(os.stat(out).st_mode) == mode
    assert not list(tmp_path.glob(".zone-tmp-*"))


def test_export_onto_a_fifo_is_refused(zone, session_db, tmp_path):
    db, s = session_db
    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    rc, _, err = zone("export", s.id, "--out", fifo, "--db", db, "--force")
    one_line_error(rc, err, "it is a FIFO; Zone only replaces regular files")


def test_database_and_its_folder_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        db = tmp_path / "new" / "deeper" / "zone.db"
        HistoryStore(db).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(db.parent.parent).st_mode) == 0o700


def test_save_image_refuses_and_leaves_no_temp(tmp_path):
    from common.safe_write import OutputExistsError
    from engine.imageio import save_image

    p = tmp_path / "x.png"
    save_image(p, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(OutputExistsError):
        save_image(p, np.ones((4, 4, 3), np.uint8))
    save_image(p, np.ones((4, 4, 3), np.uint8), force=True)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["x.png"]


def test_edit_instruction_is_bounded(zone, photo, no_work):
    rc, _, err = zone("edit", photo, "x" * 5000, "--action", "add", "--engine", "tiny")
    one_line_error(rc, err, "the instruction is 5,000 characters; the limit is 1,000")
