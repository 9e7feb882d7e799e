"""common.text: control characters and escape sequences are shown, never sent to the terminal."""

from __future__ import annotations

import json

from common.text import invalid_unicode_at, printable, printable_json, storable


def test_escape_sequences_are_shown_escaped():
    assert printable("x\x1b[2Jy") == "x\\x1b[2Jy"
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("csi\x9b31m del\x7f") == "csi\\x9b31m del\\x7f"
    assert printable("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert printable("lone \ud83d hat") == "lone \\ud83d hat"
    assert printable("plain café 🎩") == "plain café 🎩"


def test_keep_newlines_keeps_only_line_feeds():
    assert printable("one\ntwo\x1b]0;title\x07", keep_newlines=True) == "one\ntwo\\x1b]0;title\\x07"


def test_printable_json_stays_valid_json():
    obj = {"t": "a\x1b[2J\x9b\u202e\ud83d b"}
    line = printable_json(obj)
    assert "\x1b" not in line and "\x9b" not in line and "\u202e" not in line
    assert json.loads(line)["t"] == obj["t"]
    line.encode("utf-8")  # printable on any UTF-8 terminal


def test_storable_and_invalid_unicode():
    assert storable("\ud83d add a hat") == "\\ud83d add a hat"
    assert storable("fine") == "fine"
    assert invalid_unicode_at("ok \ud83d") == 3 and invalid_unicode_at("ok") is None
