"""Understanding one utterance: input checks, compound splitting, references, command arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from agent.lexicon import is_edit_verb, looks_english, verb_action
from agent.references import last_object, resolve_pronouns, revise_instruction, strip_revision
from agent.state import Command, PlannedEdit

MAX_CHARS = 500  # longer utterances are not instructions: ask for a short one
COMMAND_INTENTS = ("undo", "redo", "undo_all", "branch", "checkout", "history", "export", "show")


@dataclass(frozen=True)
class LastEdit:
    """The edit the conversation refers to ("it", "instead", "again"): HEAD's own edit."""

    version_id: str
    parent_id: Optional[str]
    instruction: str
    action: str
    seed: Optional[int] = None


Classify = Callable[[str], Any]  # text -> object with intent, action, confidence


# ---------------------------------------------------------------- input checks


def check_input(text: str) -> Optional[str]:
    """Why `text` cannot be acted on ("empty", "too_long", "not_english", "unsupported"), or None."""
    stripped = text.strip()
    if not stripped or not any(ch.isalnum() for ch in stripped):
        return "empty"
    if len(stripped) > MAX_CHARS:
        return "too_long"
    letters = [ch for ch in stripped if ch.isalpha()]
    if letters and sum(1 for ch in letters if ord(ch) > 127) / len(letters) > 0.3:
        return "not_english"
    if not looks_english(stripped):
        return "unsupported"
    return None


# ------------------------------------------------------------ compound splitting

_SEPARATOR = re.compile(r"\s*(?:,?\s+and\s+(?:then\s+)?|,\s*then\s+|,\s*also\s+|;\s*|,\s+|\.\s+|\s+then\s+)", re.I)
_CLAUSE_LEAD = re.compile(
    r"^(?:(?:then|also|please|and|now|ok(?:ay)?,?|(?:can|could|would|will)\s+you(?:\s+please)?|"
    r"i'?d\s+like\s+you\s+to|i\s+want\s+you\s+to)\s+)+", re.I)
_CLAUSE_TAIL = re.compile(r"(?:[,\s]+please)?[\s?!.]*$", re.I)
_WORD = re.compile(r"[\w'-]+")


def split_compound(text: str) -> list[str]:
    """Split "give the dog a hat and remove the leash" into clauses; keep "black and white".

    A separator splits only when the clause after it starts with an edit verb.
    """
    text = _CLAUSE_TAIL.sub("", _CLAUSE_LEAD.sub("", text.strip()))
    clauses: list[str] = []
    start = 0
    for match in _SEPARATOR.finditer(text):
        rest = _CLAUSE_LEAD.sub("", text[match.end():])
        first = rest.split(" ", 1)[0] if rest else ""
        if first and is_edit_verb(first) and match.start() > start:
            clauses.append(text[start:match.start()])
            start = match.end()
    clauses.append(text[start:])
    out = [_CLAUSE_TAIL.sub("", _CLAUSE_LEAD.sub("", c.strip(" ,.;"))) for c in clauses]
    return [c for c in out if c]


# ------------------------------------------------------------ command arguments

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "once": 1, "twice": 2, "thrice": 3}
_COUNT = re.compile(r"\b(?:(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:times|steps?|edits?|changes?)?"
                    r"|(once|twice|thrice))\b", re.I)
_VERSION = re.compile(r"\b(?:version|v)\s*#?\s*(\d+)\b", re.I)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL_VERSION = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\s+(?:version|edit)\b", re.I)
_BRANCH_REF = re.compile(r"\bbranch\s+(?:called\s+|named\s+)?['\"]?([\w.-]+)", re.I)
_GOTO_REF = re.compile(
    r"\b(?:checkout|check\s+out|switch\s+(?:back\s+)?to|go\s+(?:back\s+)?to|jump\s+to|return\s+to|"
    r"back\s+to|move\s+to|open)\s+(?:the\s+)?['\"]?([\w.-]+)", re.I)
_BRANCH_NAME = re.compile(r"\b(?:called|named|as)\s+['\"]?([\w.-]+)", re.I)
_BRANCH_BARE = re.compile(r"\bbranch\s+['\"]?([\w.-]+)", re.I)
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
    """The arguments of a history command, read from the utterance."""
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
                ref = m.group(1)
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
        m = _BRANCH_NAME.search(text)
        if not m or m.group(1).lower() in _NOT_NAMES:
            m = _BRANCH_BARE.search(text)
        if m and m.group(1).lower() not in _NOT_NAMES:
            cmd["name"] = m.group(1).strip(".,")
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


# ------------------------------------------------------------ the understand step

_REPEAT = re.compile(
    r"^(?:please\s+)?(?:(?:do|apply)\s+(?:it|that|this|the\s+same)\s+again|again|repeat(?:\s+(?:it|that|"
    r"the\s+last\s+(?:edit|one)))?|once\s+more|one\s+more\s+time|same\s+again)(?:\s+please)?[.!]*$", re.I)
_RETRY = re.compile(
    r"^(?:please\s+)?(?:try\s+(?:it\s+|that\s+|this\s+)?again|retry|re-?roll|re-?do\s+it\s+differently|"
    r"another\s+(?:try|attempt|variation|version|one)|give\s+(?:me|it)\s+another\s+(?:try|go|shot)|"
    r"try\s+(?:a\s+)?(?:different|new)\s+(?:seed|version|variation|one)|one\s+more\s+try)"
    r"(?:\s+please)?[.!]*$", re.I)
_RETRY_WITH = re.compile(  # "try again with red": a revision, not a reseed
    r"^(?:please\s+)?(?:try\s+(?:it\s+|that\s+)?again|retry|redo\s+it)[,\s]+(?:but\s+)?(?:with|using|in|as)\s+(?P<frag>.+)$",
    re.I)
_UNDO_REDO = re.compile(
    r"^(?:please\s+)?(?P<verb>undo|redo|revert)(?P<all>\s+(?:all|everything))?(?:\s+(?:it|that|this|the\s+last\s+"
    r"(?:edit|one|change)|twice|thrice|once|\d+|one|two|three|four|five)(?:\s+(?:times|steps|edits|changes))?)?"
    r"(?:\s+please)?[.!]*$", re.I)
_REVISE = re.compile(
    r"\binstead\b|^(?:no|nope|actually|rather|i\s+meant|make\s+that|how\s+about|what\s+about)\b", re.I)


def _as_dict(classification: Any) -> dict:
    keys = ("intent", "action", "confidence", "intent_confidence", "action_confidence")
    return {k: getattr(classification, k, None) for k in keys}


def _plan_edits(text: str, last: Optional[LastEdit], classify: Classify, overall_action: Optional[str]) -> dict:
    """Split an edit utterance into planned edits, resolving pronouns clause by clause."""
    edits: list[PlannedEdit] = []
    obj = last_object(last.instruction, last.action) if last else None
    clauses = split_compound(text)
    for clause in clauses:
        clause, unresolved = resolve_pronouns(clause, obj)
        if unresolved:
            return {"clarify": "unresolved_reference"}
        action = overall_action
        if len(clauses) > 1:  # the utterance's action covers one clause at best: ask per clause
            c = classify(clause)
            action = getattr(c, "action", None) if getattr(c, "intent", None) == "edit" else None
        action = action or verb_action(clause)
        edits.append({"instruction": clause, "action": action, "kind": "new", "parent": None, "seed": None})
        obj = last_object(clause, action) or obj
    return {"intent": "edit", "action": edits[-1]["action"] if len(edits) == 1 else None, "edits": edits}


def _plan_revision(text: str, last: Optional[LastEdit], classify: Classify, clarify_below: float) -> dict:
    """ "red instead" / "actually, remove the hat": a new branch from the last edit's parent."""
    fragment, old = strip_revision(text)
    if not fragment:
        return {"clarify": "empty_revision"}
    c = classify(fragment)
    intent = getattr(c, "intent", None)
    if intent in COMMAND_INTENTS + ("retry",) and (getattr(c, "confidence", 0) or 0) >= clarify_below \
            and not is_edit_verb(fragment.split()[0]):
        return {}  # "no, undo that": an ordinary command
    if last is None:
        if is_edit_verb(fragment.split()[0]):
            return _plan_edits(fragment, None, classify, getattr(c, "action", None))
        return {"clarify": "nothing_to_revise"}
    if is_edit_verb(fragment.split()[0]):
        instruction, unresolved = resolve_pronouns(fragment, last_object(last.instruction, last.action))
        action = getattr(c, "action", None) if intent == "edit" else None
        action = action or verb_action(instruction)
    else:
        instruction = revise_instruction(last.instruction, fragment, old)
        action = last.action
    edit: PlannedEdit = {"instruction": instruction, "action": action, "kind": "revise",
                         "parent": last.parent_id, "seed": None}
    return {"intent": "edit", "action": action, "edits": [edit]}


_EXPLICIT_EXPORT = re.compile(
    r"^(?:please\s+)?(?:save|export|write)\b.*?\s(?P<path>[\w~./\\-]*[\w-]\.(?:png|jpe?g|ora))[\s.!]*$", re.I)


def understand(text: str, last: Optional[LastEdit], classify: Classify, clarify_below: float = 0.5) -> dict:
    """Turn an utterance into a partial TurnState: planned `edits`, a `command`, or `clarify`."""
    if _EXPLICIT_EXPORT.match(text.strip()):  # "save it as /some/long/path/final.ora": paths are not English
        return {"intent": "export", "action": None, "command": parse_command("export", text.strip())}
    reason = check_input(text)
    if reason:
        return {"intent": "unknown", "action": None, "clarify": reason}
    text = re.sub(r"\s+", " ", text.strip())
    if _REPEAT.match(text):
        if last is None:
            return {"intent": "edit", "action": None, "clarify": "nothing_to_repeat"}
        edit: PlannedEdit = {"instruction": last.instruction, "action": last.action, "kind": "repeat",
                             "parent": None, "seed": None}
        return {"intent": "edit", "action": last.action, "edits": [edit]}
    plain = _UNDO_REDO.match(text)
    if plain:  # the commands people type most: no need to ask the classifier
        verb = plain.group("verb").lower().replace("revert", "undo")
        intent = "undo_all" if plain.group("all") and verb == "undo" else verb
        return {"intent": intent, "action": None, "command": parse_command(intent, text)}
    c = classify(text)
    info = _as_dict(c)
    intent = info["intent"] or "unknown"
    with_fragment = _RETRY_WITH.match(text)
    if _RETRY.match(text):
        intent = "retry"
    elif with_fragment or (_REVISE.search(text) and intent not in ("help",)):
        plan = _plan_revision(with_fragment.group("frag") + " instead" if with_fragment else text,
                              last, classify, clarify_below)
        if plan:
            return {"classification": info, "intent": plan.get("intent", "edit"), "action": plan.get("action"), **plan}
    out: dict = {"classification": info, "intent": intent, "action": info["action"] if intent == "edit" else None}
    if intent == "retry":
        if last is None:
            return {**out, "clarify": "nothing_to_retry"}
        edit = {"instruction": last.instruction, "action": last.action, "kind": "retry",
                "parent": last.parent_id, "seed": None}
        return {**out, "action": last.action, "edits": [edit]}
    score = info["confidence"]
    if intent == "edit" and len(split_compound(text)) > 1 and info.get("intent_confidence") is not None:
        score = info["intent_confidence"]  # compound: each clause gets its own action below
    confident = (score if score is not None else 1.0) >= clarify_below
    if intent == "unknown" or not confident:
        reason = "unsure" if intent != "unknown" else "unsupported"
        return {**out, "intent": "unknown", "action": None, "clarify": reason}
    if intent == "help":
        return out
    if intent == "edit":
        if len(_WORD.findall(text)) < 2:  # "the", "blue": not an instruction ZONE can localize
            return {**out, "intent": "unknown", "action": None, "clarify": "unsure"}
        plan = _plan_edits(text, last, classify, info["action"])
        return {**out, **plan}
    cmd = parse_command(intent, text)
    if cmd["intent"] == "checkout" and "ref" not in cmd and "version_number" not in cmd:
        return {**out, "clarify": "which_version"}
    return {**out, "intent": cmd["intent"], "command": cmd}
