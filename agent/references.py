"""References to earlier edits: noun phrases, "it", and revisions like "red instead"."""

from __future__ import annotations

import re
from typing import Optional

from agent.lexicon import COLOUR_MODIFIERS, COLOURS, DETERMINERS, INDEFINITE, NP_STOP, is_edit_verb

_WORD = re.compile(r"[\w'-]+")


def _noun_phrases(text: str) -> list[tuple[int, int, str]]:
    """(start, end, determiner) of each determiner-led noun phrase (at most 3 words after it)."""
    words = list(_WORD.finditer(text))
    out = []
    i = 0
    while i < len(words):
        det = words[i].group().lower()
        if det in DETERMINERS:
            j = i + 1
            while j < len(words) and j - i <= 3 and words[j].group().lower() not in NP_STOP \
                    and words[j].group().lower() not in DETERMINERS:
                j += 1
            if j > i + 1:
                out.append((words[i].start(), words[j - 1].end(), det))
                i = j
                continue
        i += 1
    return out


_MAKE_ATTR = re.compile(
    r"^(?P<verb>make|paint|colou?r|dye|turn|get|render)\s+(?P<obj>.+?)\s+(?P<attr>[\w-]+)$", re.I)
_TARGET = re.compile(r"\b(?:into|to|with|as|like)\s+(?P<target>.+)$", re.I)


def _attr_span(instruction: str) -> Optional[tuple[int, int]]:
    """Span of the trailing attribute of "make X ADJ" (None for "turn X into Y")."""
    m = _MAKE_ATTR.match(instruction)
    if not m or _TARGET.search(instruction) or m.group("obj").lower() in ("it", "them"):
        return None
    if not _noun_phrases(m.group("obj")):
        return None
    return m.start("attr"), m.end("attr")


def _object_phrases(instruction: str) -> list[tuple[int, int, str]]:
    """Noun phrases, cut before the attribute of "make X ADJ" ("his tie", not "his tie blue")."""
    attr = _attr_span(instruction)
    out = []
    for s, e, det in _noun_phrases(instruction):
        if attr and s < attr[0] < e:
            e = len(instruction[:attr[0]].rstrip())
        if attr and s >= attr[0]:
            continue
        out.append((s, e, det))
    return out


def _colour_span(text: str) -> Optional[tuple[int, int]]:
    """Span of the last colour phrase ("dark blue") in text."""
    words = list(_WORD.finditer(text))
    for k in range(len(words) - 1, -1, -1):
        if words[k].group().lower() in COLOURS:
            start = k
            while start > 0 and words[start - 1].group().lower() in COLOUR_MODIFIERS | COLOURS:
                start -= 1
            return words[start].start(), words[k].end()
    return None


def _is_colour_phrase(fragment: str) -> bool:
    words = [w.lower() for w in _WORD.findall(fragment)]
    return bool(words) and words[-1] in COLOURS and all(w in COLOURS | COLOUR_MODIFIERS for w in words)


def _article_for(det: str, noun_phrase: str) -> str:
    if det.lower() in ("a", "an"):
        return "an" if noun_phrase[:1].lower() in "aeiou" else "a"
    return det


def last_object(instruction: str, action: Optional[str] = None) -> Optional[str]:
    """What "it" refers to after `instruction`: the added thing, else the edited object."""
    nps = _object_phrases(instruction)
    if action == "add":
        indefinite = [np for np in nps if np[2] in INDEFINITE and " " in instruction[np[0]:np[1]].strip()]
        if indefinite:
            s, e, det = indefinite[-1]
            return "the " + instruction[s:e].split(" ", 1)[1]
    if nps:
        s, e, det = nps[0]
        phrase = instruction[s:e]
        if det in INDEFINITE and " " in phrase.strip():
            phrase = "the " + phrase.split(" ", 1)[1]
        return phrase
    words = instruction.split()
    if len(words) >= 2 and is_edit_verb(words[0]):
        rest = []
        for w in words[1:]:
            if w.lower() in NP_STOP:
                break
            rest.append(w)
        if rest:
            return "the " + " ".join(rest[:3])
    return None


_PRONOUN = re.compile(r"\b(it|them)\b|\bthat$", re.I)


_SCENE = re.compile(
    r"^(?:make|turn|change|convert|render|set|put|transform|do|redo|paint|draw)\s+(?:it|this|everything)\b.*\b(?:"
    r"winter|summer|autumn|fall|spring|night|nighttime|day|daytime|dusk|dawn|sunset|sunrise|evening|morning|"
    r"snow(?:y|ing)?|rain(?:y|ing)?|fog(?:gy)?|storm(?:y)?|cloudy|sunny|golden\s+hour|black\s+and\s+white|"
    r"sepia|grayscale|greyscale|monochrome|vintage|retro|noir|hdr|cinematic|painting|sketch|drawing|cartoon|"
    r"anime|watercolou?r|pixel\s+art|comic|oil|pencil|charcoal|mosaic|impressionist|cubist|pop\s+art|"
    r"(?:in|the)\s+style\s+of|underwater|cyberpunk|steampunk|futuristic|medieval|renaissance)\b", re.I)


def resolve_pronouns(clause: str, obj: Optional[str]) -> tuple[str, bool]:
    """Replace "it"/"them" by `obj`; returns (clause, True when a pronoun stays unresolved).

    "make it winter", "turn it into an oil painting": "it" is the photo, left as it is.
    """
    if not _PRONOUN.search(clause) or _SCENE.match(clause):
        return clause, False
    if not obj:
        return clause, True
    return _PRONOUN.sub(obj, clause), False


_INSTEAD_OF = re.compile(r"\binstead\s+of\s+(?P<old>.+?)(?:[,.!]|$)", re.I)
_REVISE_LEAD = re.compile(
    r"^(?:(?:no|nope|actually|rather|hmm|oh|wait|sorry)\b[,!.]?\s*)+|"
    r"^(?:i\s+meant|i\s+mean|make\s+that|how\s+about|what\s+about|let'?s\s+(?:do|try|go\s+with)|"
    r"go\s+with|use|try|do)\b[,:]?\s*", re.I)


def strip_revision(text: str) -> tuple[str, Optional[str]]:
    """("red", "blue") from "actually, red instead of blue": the fragment and the replaced word."""
    old = None
    m = _INSTEAD_OF.search(text)
    if m:
        old = m.group("old").strip()
        text = text[:m.start()] + text[m.end():]
    text = re.sub(r"\binstead\b", " ", text, flags=re.I)
    text = re.sub(r"\s+", " ", text).strip(" ,.!?")
    for _ in range(3):
        stripped = _REVISE_LEAD.sub("", text).strip(" ,.!?")
        if stripped == text:
            break
        text = stripped
    return text, old


def revise_instruction(last: str, fragment: str, old: Optional[str] = None) -> str:
    """The last instruction with its slot replaced: ("make his tie blue", "red") -> "make his tie red"."""
    if old:
        idx = last.lower().find(old.lower())
        if idx >= 0:
            return last[:idx] + fragment + last[idx + len(old):]
    if _is_colour_phrase(fragment):
        span = _colour_span(last)
        if span:
            return last[:span[0]] + fragment + last[span[1]:]
        attr = _attr_span(last)
        if attr:
            return last[:attr[0]] + fragment + last[attr[1]:]
        nps = _object_phrases(last)
        if nps:  # "add a hat" + "red" -> "add a red hat"
            s, e, det = nps[-1]
            noun = last[s + len(det):e].strip()
            return last[:s] + _article_for(det, fragment) + " " + fragment + " " + noun + last[e:]
        return f"{last} {fragment}"
    first = fragment.split(" ", 1)[0].lower()
    nps = _object_phrases(last)
    if first in DETERMINERS:
        same = [np for np in nps if (np[2] in INDEFINITE) == (first in INDEFINITE)]
        target = (same or nps or [None])[-1]
        if target:
            s, e, _ = target
            return last[:s] + fragment + last[e:]
        return f"{last} {fragment}"
    attr = _attr_span(last)
    if attr:
        return last[:attr[0]] + fragment + last[attr[1]:]
    target_m = _TARGET.search(last)
    if target_m:
        tnps = [np for np in nps if np[0] >= target_m.start("target")]
        if tnps:
            s, e, det = tnps[-1]
            return last[:s] + _article_for(det, fragment) + " " + fragment + last[e:]
        return last[:target_m.start("target")] + fragment
    if nps:
        s, e, det = nps[-1]
        return last[:s] + _article_for(det, fragment) + " " + fragment + last[e:]
    words = last.rsplit(" ", 1)
    return f"{words[0]} {fragment}" if len(words) == 2 else f"{last} {fragment}"
