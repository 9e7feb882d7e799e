"""Issue 11, cases 1, 4-7: a replay writes only in its folder, checks options and input first, goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.history import HistoryStore
from tests.hostile.conftest import one_line_error, write_script


def _replay(zone, script: Path, out: Path, db: Path, *extra):
    return zone("replay", script, "--engine", "tiny", "--out", out, "--db", db, *extra)


def test_exports_outside_the_folder_are_refused_and_the_replay_goes_on(zone, fake_engine, photo, tmp_path,
                                                                        monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    victim = tmp_path / "victim"
    victim.mkdir()
    important = victim / "important.png"
    important.write_bytes(b"precious")
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    (out / "link").symlink_to(victim)
    turns = ["make his tie blue", f"save it as {important}", "save it as ../../victim/newdir/x/y/z.png",
             "save it as ~/evil.png", "save it as link/escape.png", "save it as final.png"]
    rc, stdout, err = _replay(zone, write_script(tmp_path, turns), out, tmp_path / "z.db")
    assert rc == 1 and "zone: 4 turn(s) failed" in err
    lines = [ln for ln in stdout.splitlines() if ln[1:3].isdigit()]
    assert [ln[0] for ln in lines] == [" ", "!", "!", "!", "!", " "]
    for ln in lines[1:5]:
        assert "Refused to write" in ln and "--allow-exports-anywhere" in ln
    assert important.read_bytes() == b"precious"
    assert not (victim / "newdir").exists() and not (home / "evil.png").exists()
    assert not (victim / "escape.png").exists() and not (tmp_path / "victim" / "newdir").exists()
    assert (out / "final.png").is_file() and (out / "turn-06.png").is_file()


def test_allow_exports_anywhere_trusts_the_script_but_never_clobbers(zone, fake_engine, photo, tmp_path):
    target = tmp_path / "elsewhere.png"
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"keep me")
    turns = [f"save it as {target}", f"save it as {taken}"]
    rc, stdout, _ = _replay(zone, write_script(tmp_path, turns), tmp_path / "out", tmp_path / "z.db",
                            "--allow-exports-anywhere")
    assert target.is_file() and "Saved the original" in stdout
    assert rc == 1 and f"{taken} exists; not overwritten" in stdout and taken.read_bytes() == b"keep me"


def test_a_second_replay_into_the_same_folder_needs_force(zone, fake_engine, photo, tmp_path):
    script = write_script(tmp_path, ["make his tie blue"])
    out, db = tmp_path / "out", tmp_path / "z.db"
    assert _replay(zone, script, out, db)[0] == 0
    before = (out / "turn-01.png").read_bytes()
    rc, _, err = _replay(zone, script, out, db)
    one_line_error(rc, err, f"{out / 'turn-01.png'} exists; add --force to replace the images of an earlier replay")
    assert (out / "turn-01.png").read_bytes() == before
    assert len(HistoryStore(db).list_sessions()) == 1  # refused before a session was made
    assert _replay(zone, script, out, db, "--force")[0] == 0


@pytest.mark.parametrize("argv,message", [
    (["--steps", "100000"], "--steps must be an integer from 1 to 1000, not 100000"),
    (["--steps", "0"], "--steps must be an integer from 1 to 1000, not 0"),
    (["--work-size", "9999"], "--work-size must be an integer from 64 to 2048, not 9999"),
])
def test_replay_options_are_checked_before_anything(zone, photo, tmp_path, argv, message):
    db = tmp_path / "z.db"
    rc, _, err = _replay(zone, write_script(tmp_path, ["add a hat"]), tmp_path / "out", db, *argv)
    one_line_error(rc, err, message)
    assert rc == 2 and not db.exists() and not (tmp_path / "out").exists()


def test_replay_seed_out_of_range_is_refused(zone, photo, tmp_path):
    script = write_script(tmp_path, ["add a hat"], extra=f"seed: {2**64}")
    rc, _, err = _replay(zone, script, tmp_path / "out", tmp_path / "z.db")
    one_line_error(rc, err, f"'seed' must be an integer from 0 to 2^63-1, not {2**64}")


def test_unwritable_out_folder_fails_first_and_leaves_no_session(zone, fake_engine, photo, tmp_path, unwritable_dir):
    db = tmp_path / "z.db"
    for out in (unwritable_dir, unwritable_dir / "new"):
        rc, _, err = _replay(zone, write_script(tmp_path, ["add a hat"]), out, db)
        one_line_error(rc, err, "cannot ")
        assert str(out) in err and "ZONE_DEBUG" not in err
    assert not db.exists()


def test_a_replay_that_makes_no_edit_leaves_no_empty_session(zone, fake_engine, photo, tmp_path):
    db = tmp_path / "z.db"
    rc, stdout, _ = _replay(zone, write_script(tmp_path, ["undo", "redo"]), tmp_path / "out", db)
    assert rc == 1 and "session (removed: no edit was made)" in stdout
    assert HistoryStore(db).list_sessions() == []


def test_lone_surrogate_fails_only_its_turn(zone, fake_engine, photo, tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text('image: photo.png\nturns:\n  - "\\ud83d add a hat"\n  - make his tie blue\n', encoding="utf-8")
    db = tmp_path / "z.db"
    rc, stdout, err = _replay(zone, script, tmp_path / "out", db)
    assert rc == 1 and "zone: 1 turn(s) failed" in err and "UnicodeEncodeError" not in stdout + err
    assert "not valid Unicode (a lone surrogate at character 1)" in stdout
    (session,) = HistoryStore(db).list_sessions()
    store = HistoryStore(db)
    assert len(store.tree(session.id)) == 2  # the second turn still made its edit
    assert store.messages(session.id)[0].text == "\\ud83d add a hat"


def test_long_turn_is_refused_and_stored_truncated(fake_engine, photo, tmp_path):
    from agent.service import ZoneService

    service = ZoneService(db_url=str(tmp_path / "z.db"))
    session = service.open_image(photo)
    text = "make it " + "very " * 20_000 + "blue"
    result = service.handle(session.id, text)
    assert result.intent != "edit" and len(service.history(session.id)) == 1
    user = service.messages(session.id)[0]
    assert len(user.text) == 1000 and user.text == text[:1000]
    assert user.meta == {"truncated": True, "chars": len(text)}
    service.close()


def test_script_limits(zone, photo, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("image: photo.png\nturns:\n  - " + "x" * 1_000_001 + "\n")
    rc, _, err = zone("replay", big, "--db", tmp_path / "z.db")
    one_line_error(rc, err, f"replay script {big} is {big.stat().st_size:,} bytes; the limit is 1,000,000")
    many = write_script(tmp_path, ["undo"] * 1001, name="many.yaml")
    rc, _, err = zone("replay", many, "--db", tmp_path / "z.db")
    one_line_error(rc, err, f"replay script {many} has 1,001 turns; the limit is 1,000")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("image: photo.png\nx: &a " + "y" * 5000 + "\nturns: [" + ", ".join(["*a"] * 100) + "]\n")
    rc, _, err = zone("replay", bomb, "--db", tmp_path / "z.db")
    one_line_error(rc, err, "characters through YAML aliases, more than 10x its size")
    assert not (tmp_path / "z.db").exists()


def test_session_name_with_escapes_is_printed_escaped(zone, fake_engine, photo, tmp_path):
    script = write_script(tmp_path, ["add a hat"], name="\x1b[2Jevil.yaml")
    db = tmp_path / "z.db"
    rc, stdout, _ = _replay(zone, script, tmp_path / "out", db)
    assert rc == 0 and "\x1b" not in stdout
    rc, stdout, _ = zone("sessions", "--db", db)
    assert rc == 0 and "\\x1b[2Jevil" in stdout and "\x1b" not in stdout
    sid = HistoryStore(db).list_sessions()[0].id
    rc, stdout, _ = zone("history", sid, "--db", db)
    assert rc == 0 and "\\x1b[2Jevil" in stdout and "\x1b" not in stdout
