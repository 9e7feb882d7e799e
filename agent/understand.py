"""Understanding one utterance: input checks, compound splitting, references, command arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from agent.control import (
    Relative, command_supported, control_count, is_show_request, read_control, read_relative,
)
from agent.grammar import EditReading, known_words, read_edit, strip_courtesy
from agent.lexicon import COLOURS, is_edit_verb, looks_english, verb_action
from agent.references import last_object, resolve_pronouns, revise_instruction, strip_revision
from agent.command_args import parse_command  # noqa: F401 - re-exported for callers and tests
from agent.state import COMMAND_INTENTS, Command, PlannedEdit

DEFAULT_TEXT_SCALE = 7.5  # EditParams.text_scale: the s_T relative follow-ups start from
EMPTY = EditReading("change", "<none>", "")
MAX_CHARS = 500  # longer utterances are not instructions: ask for a short one


@dataclass(frozen=True)
class LastEdit:
    """The edit the conversation refers to ("it", "instead", "again"): HEAD's own edit."""

    version_id: str
    parent_id: Optional[str]
    instruction: str
    action: str
    seed: Optional[int] = None
    text_scale: Optional[float] = None  # its s_T (None: the default)


Classify = Callable[[str], Any]  # text -> object with intent, action, confidence
_KNOWN = known_words()


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
    if not looks_english(stripped) and not set(re.findall(r"[a-z']+", stripped.lower())) & _KNOWN:
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
    clauses = [part for c in clauses for part in _split_run_on(c)]
    out = [_CLAUSE_TAIL.sub("", _CLAUSE_LEAD.sub("", c.strip(" ,.;"))) for c in clauses]
    kept = [c for c in out if c and strip_courtesy(c) and not _FILLER.match(strip_courtesy(c))]
    return kept or [c for c in out if c]


# "Remove the tree Add a gradient": instructions typed one after another without punctuation. A
# clause starts at one of these verbs when the word before it cannot lead into a verb.
_RUN_ON_VERBS = frozenset(
    "add remove delete erase replace crop darken lighten brighten increase decrease rotate zoom sharpen "
    "change make turn insert".split())
_NO_BREAK_BEFORE = frozenset(
    """to and or will would can could please i you we me let lets let's not don't also then just a an the
    this that my your his her their its some any of in on at for with by from into onto as so if when
    who which what how why where help should must may might do does did also even still really""".split())


def _is_instruction(part: str) -> bool:
    """True when `part` reads as an edit by its own head verb (not just courtesy like "can someone")."""
    reading = read_edit(part)
    return reading is not None and not reading.head.startswith("<")


_FILLER = re.compile(
    r"^(?:go\s+ahead|keep\s+(?:the\s+rest|everything\s+else|the\s+others?)(?:\s+(?:as\s+is|the\s+same))?"
    r"(?:\s+would\s+be\s+(?:great|nice|awesome))?|(?:hello|hi|hey)\s+(?:photoshop\s+)?(?:wizards|guys|folks|everyone)|"
    r"thanks?(?:\s+you)?(?:\s+(?:so\s+much|a\s+lot|in\s+advance))?|would\s+be\s+(?:great|nice|awesome)|"
    r"if\s+possible|will\s+tip.*|long\s+story)$", re.I)


def _split_run_on(clause: str) -> list[str]:
    """Split a run-on clause before an edit verb that follows a noun ("...the picture add a frame")."""
    words = clause.split(" ")
    if len(words) < 5:
        return [clause]
    parts, start = [], 0
    for i in range(2, len(words) - 1):
        w, prev = words[i].lower().strip(",.;:!?"), words[i - 1].lower().strip(",.;:!?")
        if w in _RUN_ON_VERBS and prev not in _NO_BREAK_BEFORE and i - start >= 2 and not prev.endswith("ly") \
                and _is_instruction(" ".join(words[start:i])):
            parts.append(" ".join(words[start:i]))
            start = i
    parts.append(" ".join(words[start:]))
    return parts


# ------------------------------------------------------------ the understand step

_REPEAT = re.compile(
    r"^(?:please\s+)?(?:(?:do|apply)\s+(?:it|that|this|the\s+same)\s+again|again|repeat(?:\s+(?:it|that|"
    r"the\s+last\s+(?:edit|one)))?|once\s+more|one\s+more\s+time|same\s+again)(?:\s+please)?[.!]*$", re.I)
_RETRY_WITH = re.compile(  # "try again with red": a revision, not a reseed
    r"^(?:please\s+)?(?:try\s+(?:it\s+|that\s+)?again|retry|redo\s+it)[,\s]+(?:but\s+)?(?:with|using|in|as)\s+(?P<frag>.+)$",
    re.I)
_UNDO_REDO = re.compile(
    r"^(?:please\s+)?(?P<verb>undo|redo|revert)(?P<all>\s+(?:all|everything))?(?:\s+(?:it|that|this|the\s+last\s+"
    r"(?:edit|one|change)|twice|thrice|once|\d+|one|two|three|four|five)(?:\s+(?:times|steps|edits|changes))?)?"
    r"(?:\s+please)?[.!]*$", re.I)
_REVISE = re.compile(
    r"\binstead\b|^(?:no|nope|actually|rather|i\s+meant|make\s+that|how\s+about|what\s+about)\b", re.I)
_BRANCH_FRAME = re.compile(
    r"^(?:(?:make|create|start|open|add|new|cut)\s+(?:a\s+)?(?:new\s+)?branch\b|branch\b|fork\b|"
    r"(?:save|keep|bookmark|mark)\s+(?:this|it|that|here)(?:\s+version)?\s+as\s+(?:a\s+)?(?:new\s+)?branch\b)", re.I)
_EXPLICIT_EXPORT = re.compile(
    r"^(?:please\s+)?(?:save|export|write)\b.*?\s(?P<path>[\w~./\\-]*[\w-]\.(?:png|jpe?g|ora))[\s.!]*$", re.I)
COMMAND_HEADS = frozenset("show switch".split())  # edit heads that also start commands (checked by frame)


def _as_dict(classification: Any) -> dict:
    keys = ("intent", "action", "confidence", "intent_confidence", "action_confidence")
    return {k: getattr(classification, k, None) for k in keys}


def clause_action(clause: str, classify: Optional[Classify] = None) -> Optional[str]:
    """The ZONE action of one clause: the grammar's reading, else the classifier's, else the verb's.

    Args:
        clause: one edit clause.
        classify: the classifier (None: grammar and verb only).
    """
    reading = read_edit(clause)
    if reading is not None:
        return reading.action
    if classify is not None:
        c = classify(clause)
        if getattr(c, "intent", None) == "edit" and getattr(c, "action", None):
            return c.action
    return None


_BACKGROUND = re.compile(r"\bback\s?(?:ground|gound|round|grond)s?\b|\bbackdrop\b", re.I)


def _plan_edits(text: str, last: Optional[LastEdit], classify: Classify, overall_action: Optional[str]) -> dict:
    """Split an edit utterance into planned edits, resolving pronouns clause by clause."""
    edits: list[PlannedEdit] = []
    obj = last_object(last.instruction, last.action) if last else None
    clauses = split_compound(text)
    for clause in clauses:
        clause, unresolved = resolve_pronouns(clause, obj)
        if unresolved:
            return {"clarify": "unresolved_reference"}
        action = overall_action if len(clauses) == 1 else clause_action(clause, classify)
        action = action or verb_action(clause)
        edits.append({"instruction": clause, "action": action, "kind": "new", "parent": None, "seed": None})
        obj = last_object(clause, action) or obj
    if len(edits) > 1 and sum(1 for e in edits if _BACKGROUND.search(e["instruction"])) > 1:
        for e in edits:  # "remove the background, add a pink one": a background replacement, not a removal
            if e["action"] == "remove" and _BACKGROUND.search(e["instruction"]):
                e["action"] = "change"
    return {"intent": "edit", "action": edits[-1]["action"] if len(edits) == 1 else None, "edits": edits}


def _plan_revision(text: str, last: Optional[LastEdit], classify: Classify, clarify_below: float) -> dict:
    """ "red instead" / "actually, remove the hat": a new branch from the last edit's parent."""
    fragment, old = strip_revision(text)
    if not fragment:
        return {"clarify": "empty_revision"}
    core = strip_courtesy(fragment)
    if read_control(core) or read_relative(core, last.instruction if last else None):
        return {}  # "no, undo that", "no, a bit less": an ordinary control request
    c = classify(fragment)
    intent = getattr(c, "intent", None)
    starts_edit = is_edit_verb(fragment.split()[0]) or not (read_edit(fragment) or EMPTY).head.startswith("<")
    if intent in COMMAND_INTENTS + ("retry",) and (getattr(c, "confidence", 0) or 0) >= clarify_below \
            and not starts_edit and command_supported(intent, core):
        return {}  # "no, show me the original": an ordinary command
    if last is None:
        if starts_edit:
            return _plan_edits(fragment, None, classify, clause_action(fragment, classify))
        return {"intent": "edit", "action": None, "clarify": "nothing_to_revise"}
    if starts_edit:
        instruction, unresolved = resolve_pronouns(fragment, last_object(last.instruction, last.action))
        action = clause_action(instruction, classify) or verb_action(instruction)
    else:
        instruction = revise_instruction(last.instruction, fragment, old)
        action = last.action
    edit: PlannedEdit = {"instruction": instruction, "action": action, "kind": "revise",
                         "parent": last.parent_id, "seed": None}
    return {"intent": "edit", "action": action, "edits": [edit]}


def _plan_relative(rel: Relative, last: Optional[LastEdit], base_text_scale: float) -> dict:
    """ "a bit more": the last edit again from the same parent, s_T scaled (see `agent.control`)."""
    if last is None:
        return {"intent": "edit", "action": None, "clarify": "nothing_to_adjust"}
    before = last.text_scale if last.text_scale is not None else base_text_scale
    edit: PlannedEdit = {"instruction": last.instruction, "action": last.action, "kind": "relative",
                         "parent": last.parent_id, "seed": last.seed, "text_scale": rel.scale(before, base_text_scale),
                         "direction": rel.direction if rel.direction != "other" else (
                             "weaker" if before >= base_text_scale else "stronger")}
    return {"intent": "edit", "action": last.action, "edits": [edit]}


def _plan_control(intent: str, text: str, core: str, last: Optional[LastEdit], out: dict) -> dict:
    """A control request (undo, redo, undo_all, retry) as a command or a retry edit."""
    if intent == "help":
        return {**out, "intent": "help", "action": None}
    if intent == "retry":
        if last is None:
            return {**out, "intent": "retry", "action": None, "clarify": "nothing_to_retry"}
        edit: PlannedEdit = {"instruction": last.instruction, "action": last.action, "kind": "retry",
                             "parent": last.parent_id, "seed": None}
        return {**out, "intent": "retry", "action": last.action, "edits": [edit]}
    cmd: Command = {"intent": intent}
    if intent in ("undo", "redo"):
        cmd["count"] = control_count(core)
    return {**out, "intent": intent, "action": None, "command": cmd}


def understand(text: str, last: Optional[LastEdit], classify: Classify, clarify_below: float = 0.5,
               base_text_scale: float = DEFAULT_TEXT_SCALE) -> dict:
    """Turn an utterance into a partial TurnState: planned `edits`, a `command`, or `clarify`.

    The order: explicit export paths and input checks; whole-request control frames ("undo it",
    "start over", "another variant") and relative follow-ups ("a bit more"); revisions ("red
    instead"); then commands the classifier finds *and* the words support; then the grammar's
    reading of the head verb (`agent.grammar`); then the classifier's own edit reading.

    Args:
        text: the utterance.
        last: the edit "it", "instead", "again" and "more" refer to (None at the original).
        classify: text -> object with intent, action, confidence (the learned classifier).
        clarify_below: ask instead of acting below this classifier confidence.
        base_text_scale: the default s_T relative follow-ups start from.
    """
    if _EXPLICIT_EXPORT.match(text.strip()):  # "save it as /some/long/path/final.ora": paths are not English
        return {"intent": "export", "action": None, "command": parse_command("export", text.strip())}
    reason = check_input(text)
    if reason:
        return {"intent": "unknown", "action": None, "clarify": reason}
    text = re.sub(r"\s+", " ", text.strip())
    core = strip_courtesy(text)
    if _REPEAT.match(text) or _REPEAT.match(core):
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
    with_fragment = _RETRY_WITH.match(text)
    control = None if with_fragment else read_control(core)
    if control:
        return _plan_control(control, text, core, last, {})
    rel = read_relative(core, last.instruction if last else None)
    if rel is not None:
        return _plan_relative(rel, last, base_text_scale)
    c = classify(text)
    info = _as_dict(c)
    out: dict = {"classification": info}
    own = read_edit(core)
    replacement = own is not None and (own.head == "no X in" or (  # "no people in the background please"
        not own.head.startswith("<") and re.search(r"\binstead\s+of\b", core) is not None))
    if with_fragment or (_REVISE.search(text) and info["intent"] != "help" and not replacement):
        plan = _plan_revision(with_fragment.group("frag") + " instead" if with_fragment else text,
                              last, classify, clarify_below)
        if plan:
            return {**out, "intent": plan.get("intent", "edit"), "action": plan.get("action"), **plan}
    if _BRANCH_FRAME.match(core):
        return {**out, "intent": "branch", "action": None, "command": parse_command("branch", text)}
    reading = read_edit(core)
    verb_reading = reading is not None and not reading.head.startswith("<") and reading.head not in COMMAND_HEADS
    intent = info["intent"] or "unknown"
    confident = (info["confidence"] if info["confidence"] is not None else 1.0) >= clarify_below
    supported = reading is None or command_supported(intent, core if intent == "show" else text.lower())
    if intent not in ("edit", "unknown") and confident and not verb_reading and supported and (
            intent != "show" or reading is None or is_show_request(core)):
        return _plan_command(intent, text, core, last, out)
    if reading is not None:
        if len(_WORD.findall(text)) < 2 and (reading.head in COLOURS or reading.head != "<verbless>" and
                                             not reading.head.endswith("er")):
            return {**out, "intent": "unknown", "action": None, "clarify": "unsure"}  # "blue", "make": which?
        return {**out, **_plan_edits(text, last, classify, reading.action)}
    if intent == "edit" and confident and len(_WORD.findall(text)) >= 2:
        return {**out, **_plan_edits(text, last, classify, info["action"])}
    reason = "unsure" if intent != "unknown" else "unsupported"
    return {**out, "intent": "unknown", "action": None, "clarify": reason}


def _plan_command(intent: str, text: str, core: str, last: Optional[LastEdit], out: dict) -> dict:
    """A command the classifier found and the words support (see `agent.control.command_supported`)."""
    if intent in ("retry", "undo", "redo", "undo_all"):
        return _plan_control(intent, text, core, last, out)
    if intent == "help":
        return {**out, "intent": "help", "action": None}
    cmd = parse_command(intent, text)
    if cmd["intent"] == "checkout" and "ref" not in cmd and "version_number" not in cmd:
        return {**out, "intent": "checkout", "action": None, "clarify": "which_version"}
    return {**out, "intent": cmd["intent"], "action": None, "command": cmd}
