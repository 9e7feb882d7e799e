"""The arguments of a history command read from an utterance: counts, refs, branch names, paths, views."""

from __future__ import annotations

import re

from agent.state import Command
from storage.names import BRANCH_NAME_CHARS, clean_branch_name

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "once": 1, "twice": 2, "thrice": 3}
_COUNT = re.compile(r"\b(?:(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:times|steps?|edits?|changes?)?"
                    r"|(once|twice|thrice))\b", re.I)
_VERSION = re.compile(r"\b(?:version|v)\s*#?\s*(\d+)\b", re.I)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL_VERSION = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\s+(?:version|edit)\b", re.I)
_BRANCH_REF = re.compile(rf"\bbranch\s+(?:called\s+|named\s+)?['\"]?({BRANCH_NAME_CHARS})", re.I)
_GOTO_REF = re.compile(
    r"\b(?:checkout|check\s+out|switch\s+(?:back\s+)?to|go\s+(?:back\s+)?to|jump\s+to|return\s+to|"
    r"back\s+to|move\s+to|open)\s+(?:the\s+)?['\"]?(" + BRANCH_NAME_CHARS + r")", re.I)
_BRANCH_NAME = re.compile(rf"\b(?:called|named|as)\s+['\"]?({BRANCH_NAME_CHARS})", re.I)
_BRANCH_BARE = re.compile(rf"\bbranch\s+['\"]?({BRANCH_NAME_CHARS})", re.I)
_NOT_NAMES = frozenset("here off from at now this that it the a an called named as to".split())
_START_REFS = frozenset("start beginning original root first".split())
_EXPORT_PATH = re.compile(r"([\w~./\\-]*[\w-]\.[a-z][a-z0-9]{1,4})\b", re.I)
_EXPORT_FMT = re.compile(r"\b(png|jpe?g|ora|openraster)\b", re.I)
_VIEWS = (
    ("diff", r"\b(?:diff|difference|differences|changes|changed|compare|comparison)\b"),
    ("mask", r"\b(?:mask|selection|region|area|where)\b"),
    ("layer", r"\b(?:layer|overlay)\b"),
    ("original", r"\b(?:original|before|source|untouched|start)\b"),
    ("result", r"\b(?:result|after|current|edited|final|render|now)\b"),
)


def _count(text: str) -> int:
    m = _COUNT.search(text)
    if not m:
        return 1
    word = (m.group(1) or m.group(2)).lower()
    n = int(word) if word.isdigit() else _NUMBERS.get(word, 1)
    return max(1, min(n, 100))


def parse_command(intent: str, text: str) -> Command:
    """The arguments of a history command, read from the utterance.

    Args:
        intent: undo, redo, undo_all, branch, checkout, history, export or show.
        text: the utterance.
    """
    cmd: Command = {"intent": intent}
    if intent in ("undo", "redo"):
        cmd["count"] = _count(text)
    elif intent == "checkout":
        m = _VERSION.search(text)
        ordinal = _ORDINAL_VERSION.search(text)
        if m:
            cmd["version_number"] = int(m.group(1))
        elif ordinal:
            cmd["version_number"] = _ORDINALS[ordinal.group(1).lower()]
        else:
            m = _BRANCH_REF.search(text) or _GOTO_REF.search(text)
            if m and m.group(1).lower() not in _NOT_NAMES:
                ref = clean_branch_name(m.group(1))
                if ref.lower() in _START_REFS:
                    cmd["intent"] = "undo_all"
                elif ref.lower() == "head":
                    cmd["ref"] = "HEAD"
                else:
                    cmd["ref"] = ref
            else:
                words = text.split()
                if len(words) == 2 and words[0].lower() in ("checkout", "switch"):
                    cmd["ref"] = words[1]
    elif intent == "branch":
        names = [clean_branch_name(m.group(1)) for pattern in (_BRANCH_NAME, _BRANCH_BARE)
                 for m in pattern.finditer(text)]
        names = [n for n in names if n and n.lower() not in _NOT_NAMES]
        if names:
            cmd["name"] = names[0]
    elif intent == "export":
        m = _EXPORT_PATH.search(text)
        if m:
            cmd["path"] = m.group(1)
            cmd["fmt"] = m.group(1).rsplit(".", 1)[1].lower().replace("jpeg", "jpg")
        else:
            m = _EXPORT_FMT.search(text)
            fmt = m.group(1).lower() if m else "png"
            cmd["fmt"] = {"jpeg": "jpg", "openraster": "ora"}.get(fmt, fmt)
    elif intent == "show":
        low = text.lower()
        cmd["view"] = next((v for v, pat in _VIEWS if re.search(pat, low)), "result")
    return cmd
