"""Terminal-safe text: control characters and escape sequences shown escaped, never interpreted.

Names, instructions and paths come from users, scripts and file systems. Printed raw, an `ESC[2J`
in a session name clears the screen and a U+202E reverses what follows. `printable` is the one
function every printer (the CLI commands, their error lines and the TUI) passes such text through.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, bidirectional overrides/isolates, and lone surrogates (text
# decoded with surrogateescape, or a script's "\ud83d").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# what json.dumps(ensure_ascii=False) leaves raw (it escapes C0 itself; raw \n is indentation)
_UNSAFE_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """Return `text` with every control character shown as a visible escape (`\\x1b`, `\\u202e`).

    Args:
        text: anything; non-strings are converted with `str`.
        keep_newlines: keep line feeds (multi-line replies in the TUI); all else is escaped.
    """
    s = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_KEEP_NL if keep_newlines else _UNSAFE
    if pattern.search(s) is None:
        return s
    return pattern.sub(_escape, s)


def storable(text: str) -> str:
    """Return `text` encodable as UTF-8: lone surrogates become visible `\\udXXX` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", _escape, text)


def invalid_unicode_at(text: str) -> int | None:
    """Return the index of the first lone surrogate in `text` (not valid Unicode), or None."""
    m = re.search("[\ud800-\udfff]", text)
    return m.start() if m else None


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def printable_json(obj: object, **kwargs) -> str:
    """`json.dumps(obj, ensure_ascii=False, ...)` with every unsafe character as a JSON `\\uXXXX` escape.

    JSON already escapes C0 controls; this also escapes DEL, C1 controls (`\\x9b` is a CSI),
    bidirectional overrides and lone surrogates, so the line is still valid JSON and safe to print.
    """
    import json

    return _UNSAFE_JSON.sub(_json_escape, json.dumps(obj, ensure_ascii=False, **kwargs))


SHORT_ID_LEN = 8  # what people type and read: a session's or a version's id, like git's short hashes


def short_id(full_id: str) -> str:
    """The first SHORT_ID_LEN characters of an id (`abcdef12`), for messages and listings."""
    return full_id[:SHORT_ID_LEN]
