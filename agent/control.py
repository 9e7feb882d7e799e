"""Control requests in real phrasing: undo/redo/start over/try again, and relative follow-ups.

`read_control` recognises the history requests people actually type ("undo it", "go back to
before that", "no, I liked the previous one", "start over", "another variant") by the shape of
the whole request, so an edit that merely contains such a word ("add one more bag", "delete it")
is never mistaken for one. `read_relative` recognises follow-ups that re-run the previous edit
stronger or weaker ("a bit more", "increase by 40 more", "again but stronger", "the other way").

The relative rule (README, "Relative follow-ups"): each step multiplies the instruction guidance
s_T by `STEP` (stronger) or divides by it (weaker); "much"/"a lot" is two steps; "by N percent"
(or "by N") scales by 1 + N/100 stronger or 1 - N/100 weaker (a negative N is weaker); "the
other way" undoes one step of the last edit's direction relative to the base s_T (weaker when the
last edit was at or above it). The result is clamped to [`MIN_TEXT_SCALE`, `MAX_TEXT_SCALE`].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

STEP = 1.3
MIN_TEXT_SCALE = 2.0
MAX_TEXT_SCALE = 20.0

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "once": 1, "twice": 2, "thrice": 3}
_COUNT = r"(?:\s+(?:\d+|one|two|three|four|five|twice|thrice|once)(?:\s+(?:times|steps|edits|changes))?)?"
_NO = r"(?:(?:no+|nope|nah|oops|ugh|hmm+|ok(?:ay)?|oh|wait|actually|sorry|ew+|yuck)\b[\s,!.]*)*"
_THAT = r"(?:\s+(?:it|that|this|the\s+(?:last\s+|previous\s+)?(?:edit|change|step|one)|my\s+last\s+(?:edit|change|one)|" \
        r"one(?:\s+step)?|a\s+step|(?:the\s+)?last\s+(?:edit|change|step|one)))?"

_UNDO = re.compile(
    rf"^{_NO}(?:undo|revert|reverse|go\s+back|step\s+back|roll\s*back|take\s+(?:it|that)\s+back|cancel|scratch|"
    rf"never\s*mind|nevermind|back){_THAT}(?:\s+(?:please|again))?{_COUNT}$|"
    rf"^{_NO}(?:go\s+|take\s+me\s+|get\s+me\s+)?back\s+to\s+(?:before|how\s+it\s+was|the\s+(?:previous|last|earlier|prior|"
    rf"other|old)\s+(?:one|version|image|picture|photo))(?:\s+(?:that|this|it|the\s+last\s+(?:edit|change)))?$|"
    rf"^{_NO}(?:i\s+)?(?:liked|like|prefer|preferred|loved)\s+(?:it\s+better\s+before|(?:it\s+)?(?:the\s+)?"
    rf"(?:previous|last|earlier|prior|old|other|first)\s+(?:one|version|image|picture|photo|result)"
    rf"(?:\s+(?:better|more|instead))?|what\s+(?:it|we)\s+had\s+before)$|"
    rf"^{_NO}(?:it\s+was|that\s+was)\s+better\s+before$|^{_NO}the\s+(?:previous|last|old)\s+one\s+was\s+better$|"
    rf"^{_NO}(?:that'?s|this\s+is|it'?s)\s+(?:worse|wrong|bad|awful|terrible|horrible)[\s,!.]+(?:undo|go\s+back|revert)(?:\s+it)?$|"
    rf"^{_NO}(?:delete|remove|discard|drop|scrap|ditch|cancel|lose)\s+(?:that|this|the|my)\s+(?:last\s+|previous\s+)?"
    rf"(?:edit|change|step|version)$|"
    rf"^{_NO}(?:make|turn|change|set|get)\s+(?:it|this|that)\s+back(?:\s+to\s+(?:how\s+it\s+was|normal|before))?$|"
    rf"^{_NO}(?:make|put|change|set)\s+it\s+(?:back\s+)?(?:like|as|to\s+how)\s+(?:it\s+was\s+)?before$|"
    rf"^{_NO}(?:put|make|set|turn|get|change)\s+it\s+(?:back\s+)?(?:the\s+way|to\s+how|like|how|as)\s+it\s+was(?:\s+before)?$",
    re.I)
_REDO = re.compile(
    rf"^{_NO}(?:redo|re-do|undo\s+(?:the|that|my)\s+undo|un-?undo|go\s+forward|step\s+forward|forward)"
    rf"(?:\s+(?:it|that|this|the\s+(?:last\s+)?(?:edit|change|step|one)|one(?:\s+step)?|a\s+step))?{_COUNT}$",
    re.I)
_UNDO_ALL = re.compile(
    rf"^{_NO}(?:start\s+(?:over|again|afresh|fresh|from\s+scratch|from\s+the\s+(?:beginning|start|original))|"
    rf"from\s+scratch|begin\s+again|"
    rf"reset(?:\s+(?:it|everything|all|this|the\s+(?:image|photo|picture|edits|whole\s+thing)))?(?:\s+to\s+(?:the\s+)?original)?|"
    rf"(?:undo|revert|remove|clear|discard|drop|scrap|lose)\s+(?:all|everything|every\s+edit)(?:\s+(?:the\s+)?(?:edits|changes))?|"
    rf"(?:undo|revert|remove|clear|discard|drop|scrap|lose)\s+all\s+(?:of\s+)?(?:the\s+|my\s+)?(?:edits|changes)|"
    rf"(?:revert|go\s+back|get\s+back|return|back)\s+to\s+(?:the\s+)?(?:original|start|beginning|unedited\s+\w+)(?:\s+(?:image|photo|picture|version))?|"
    rf"restore\s+the\s+original(?:\s+(?:image|photo|picture))?|(?:the\s+)?original\s+(?:please|again)|"
    rf"take\s+me\s+back\s+to\s+the\s+(?:start|beginning|original)|(?:start\s+)?from\s+the\s+top|"
    rf"(?:go\s+)?back\s+to\s+(?:zero|square\s+one|step\s+(?:one|zero|0|1))|scrap\s+(?:everything|it\s+all|all\s+of\s+it))$",
    re.I)
_RETRY = re.compile(
    rf"^{_NO}(?:try\s+(?:it\s+|that\s+|this\s+)?(?:again|once\s+more)|retry|re-?roll|re-?generate|regen|redo\s+it\s+differently|"
    rf"(?:do|try)\s+(?:it|that)\s+(?:again\s+)?differently|"
    rf"(?:(?:give|show|get|make)\s+(?:me|us)\s+|(?:can|could|may)\s+(?:i|we)\s+(?:see|have|get)\s+|let\s+me\s+see\s+|"
    rf"generate\s+|make\s+|i\s+want\s+|how\s+about\s+)?(?:another|a\s+different|a\s+new|one\s+more|other)\s+"
    rf"(?:one|try|attempt|take|go|shot|variant|variation|version|option|result|seed|roll|pick|alternative)s?|"
    rf"(?:a\s+)?different\s+(?:one|variant|variation|version|seed|result|attempt|take)|"
    rf"try\s+(?:a\s+)?(?:different|new|another)\s+(?:seed|one|version|variation|variant)|"
    rf"not\s+(?:quite|that\s+one)[\s,!.]+try\s+again|new\s+(?:seed|variant|variation))"
    rf"(?:\s+(?:please|of\s+(?:that|it|this)))?$",
    re.I)


@dataclass(frozen=True)
class Relative:
    """A relative follow-up: re-run the previous edit with s_T scaled.

    Attributes:
        direction: "stronger", "weaker" or "other" (the other way).
        steps: number of x`STEP` steps (ignored when `percent` is set).
        percent: "by N percent": the amount, or None.
    """

    direction: str
    steps: int = 1
    percent: Optional[float] = None

    def scale(self, text_scale: float, base: float) -> float:
        """The new s_T from the previous edit's `text_scale` (clamped; `base` is the default s_T).

        Args:
            text_scale: s_T of the edit being re-run.
            base: the default s_T, which "the other way" steps back towards.
        """
        direction = self.direction
        if direction == "other":
            direction = "weaker" if text_scale >= base else "stronger"
        if self.percent is not None:
            amount = min(abs(self.percent), 90.0) / 100.0
            factor = 1.0 + amount if direction == "stronger" else 1.0 - amount
        else:
            factor = STEP ** self.steps if direction == "stronger" else STEP ** -self.steps
        return round(min(MAX_TEXT_SCALE, max(MIN_TEXT_SCALE, text_scale * factor)), 2)


_LEAD = (r"^(?:(?:now|ok(?:ay)?|and|hmm+|then|so|yes|yeah|good|nice|great|cool|perfect|ok\s+now)\b[\s,!.]*)*"
         r"(?:(?:do|try|make|change|apply|run|redo|repeat|same|again|edit|give\s+me|do\s+the\s+same)"
         r"(?:\s+(?:it|that|this|thing))?(?:\s+again)?(?:\s+(?:but|just|only|even))*[\s,]*)?")
_AMOUNT = r"(?:by\s+)?(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?:%|percent|per\s*cent|points?|units?)?(?:\s+(?P<numdir>more|less|stronger|weaker))?"
_BY_AMOUNT = r"(?:by\s+(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?:%|percent|per\s*cent|points?|units?)?|" \
             r"(?P<num_pct>[+-]?\d+(?:\.\d+)?)\s*(?:%|percent|per\s*cent))(?:\s+(?P<numdir>more|less|stronger|weaker))?"
_STRONG = r"more|stronger|harder|further|heavier|intenser|more\s+intense|more\s+extreme"
_WEAK = r"less|weaker|subtler|more\s+subtle|gentler"
_DEGREE = (r"(?:(?P<deg>(?:a\s+)?(?:little|tiny|wee|touch|smidge|tad|slightly|somewhat|bit)(?:\s+bit)?|"
           r"much|way|far|a\s+lot|lots|significantly|considerably|even|still|a\s+little\s+bit|even\s+more)\s+)?")
_RELATIVES = tuple(re.compile(p, re.I) for p in (
    # "a bit more", "again but stronger", "much less", "more by 20%"
    _LEAD + _DEGREE + rf"(?P<dir>{_STRONG}|{_WEAK})(?:\s+(?:than\s+(?:that|this|before)|still|again|please|"
    rf"of\s+(?:that|it|the\s+same)))?(?:\s+{_AMOUNT})?$",
    # "increase it by 40 more", "turn it down a bit", "tone it down"
    _LEAD + r"(?P<verb>increase|decrease|raise|lower|boost|reduce|bump|push|intensify|amplify|weaken|"
    r"strengthen|turn|crank|dial|tone|amp|pump)(?:\s+(?:it|that|this|the\s+(?:effect|strength|intensity|amount|edit|change)))?"
    r"(?:\s+(?P<updown>up|down|back))?(?:\s+(?:a\s+)?(?:bit|little|notch|touch|lot))?"
    rf"(?:\s+{_AMOUNT})?$",
    # "change it again by 30", "repeat that but by -20", "by 40 percent"
    _LEAD + _BY_AMOUNT + "$",
    r"^(?:now\s+|and\s+|ok(?:ay)?[\s,]+)?(?:(?:do|try|go)\s+(?:it\s+)?)?(?:the\s+)?(?P<other>other\s+way"
    r"(?:\s+(?:round|around))?|opposite(?:\s+(?:way|direction))?|reverse\s+direction)(?:\s+(?:now|please))?$",
    r"^(?:no[\s,]+)?(?:it'?s\s+|that'?s\s+)?(?P<toomuch>too\s+(?:much|strong|intense|extreme|far|heavy)|"
    r"not\s+(?:so|that|as)\s+(?:much|strong)|overdone|too\s+subtle|not\s+enough|barely\s+(?:visible|changed|noticeable))"
    r"(?:[\s,!.]+(?:tone\s+it\s+down|less|more|please))?$",
))
_WEAK_VERBS = frozenset("decrease lower reduce weaken soften dial tone".split())
_COMPARATIVE = re.compile(r"^(?:(?:now|and|ok(?:ay)?)\s+)?(?:even|still|much|a\s+bit|a\s+little|bit|way|more)\s+(?P<adj>[a-z]+er)$", re.I)
_OPPOSITE_PAIRS = (("brighter", "darker"), ("lighter", "darker"), ("bigger", "smaller"), ("larger", "smaller"),
                   ("warmer", "cooler"), ("warmer", "colder"), ("longer", "shorter"), ("taller", "shorter"),
                   ("wider", "narrower"), ("thicker", "thinner"), ("sharper", "softer"), ("older", "younger"),
                   ("higher", "lower"), ("happier", "sadder"), ("redder", "paler"))
_OPPOSITES: dict[str, set[str]] = {}
for _a, _b in _OPPOSITE_PAIRS:
    _OPPOSITES.setdefault(_a, set()).add(_b)
    _OPPOSITES.setdefault(_b, set()).add(_a)


_HELP = re.compile(r"^(?:help|help\s+me(?:\s+out)?|give\s+me\s+a\s+hand|i\s+need\s+(?:some\s+)?help|how\s+does\s+(?:this|it)\s+work|"
                   r"what\s+can\s+you\s+do|what\s+do\s+you\s+do|i'?m\s+(?:lost|confused|stuck)|what\s+are\s+the\s+commands)$", re.I)


def read_control(core: str) -> Optional[str]:
    """The intent of a whole control request (undo, redo, undo_all, retry, help), or None.

    Args:
        core: the request without courtesy (`agent.grammar.strip_courtesy`).
    """
    core = core.strip(" ,.!?")
    if _HELP.match(core):
        return "help"
    if _UNDO_ALL.match(core):
        return "undo_all"
    if _REDO.match(core):
        return "redo"
    if _UNDO.match(core):
        return "undo"
    if _RETRY.match(core):
        return "retry"
    return None


def control_count(core: str) -> int:
    """The repetition count of "undo twice", "go back 3 steps" (1 when none)."""
    m = re.search(r"\b(\d+|one|two|three|four|five|twice|thrice|once)(?:\s+(?:times|steps|edits|changes))?\s*$", core, re.I)
    if not m:
        return 1
    word = m.group(1).lower()
    return max(1, min(int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 1), 100))


def read_relative(core: str, last_instruction: Optional[str]) -> Optional[Relative]:
    """The relative follow-up in `core`, or None ("a bit more" -> stronger one step).

    Args:
        core: the request without courtesy.
        last_instruction: the previous edit's instruction (comparatives like "even brighter"
            are relative only when they go along or against it); None when there is none.
    """
    core = core.strip(" ,.!?")
    for pattern in _RELATIVES:
        m = pattern.match(core)
        if m:
            return _relative_from(m)
    c = _COMPARATIVE.match(core)
    if c and last_instruction:
        adj = c.group("adj").lower()
        last = last_instruction.lower()
        if adj in last or adj[:-2] in last.split():
            return Relative("stronger")
        if any(o in last or o[:-2] in last.split() for o in _OPPOSITES.get(adj, ())):
            return Relative("weaker")
    return None


def _relative_from(m: re.Match) -> Relative:
    """Build a `Relative` from a match of one of `_RELATIVES`."""
    groups = m.groupdict()
    if groups.get("other"):
        return Relative("other")
    if groups.get("toomuch"):
        weak = not re.match(r"too\s+subtle|not\s+enough|barely", groups["toomuch"], re.I)
        return Relative("weaker" if weak else "stronger")
    direction = "stronger"
    word = (groups.get("dir") or "").lower()
    verb = (groups.get("verb") or "").lower()
    updown = (groups.get("updown") or "").lower()
    if re.match(_WEAK + "$", word) or verb in _WEAK_VERBS or updown in ("down", "back"):
        direction = "weaker"
    numdir = (groups.get("numdir") or "").lower()
    if numdir in ("less", "weaker"):
        direction = "weaker"
    percent = None
    num = groups.get("num") or groups.get("num_pct")
    if num:
        percent = float(num)
        if percent < 0:
            direction = "weaker" if direction == "stronger" else "stronger"
            percent = -percent
    deg = (groups.get("deg") or "").lower()
    steps = 2 if re.match(r"much|way|far|a\s+lot|lots|significantly|considerably|even\s+more", deg) else 1
    return Relative(direction, steps, percent)


_SUPPORT = {
    "undo": r"undo|revert|back|previous|before|prior|earlier|liked|prefer|cancel|scratch|never\s*mind|oops|mistake|"
            r"wrong|worse|roll\s*back|reverse|restore|last|un-?do",
    "redo": r"redo|re-do|forward|re-?apply|bring|put\s+it\s+back|undid|undone|un-?undo",
    "undo_all": r"start|original|scratch|reset|beginning|everything|all|over|fresh",
    "retry": r"again|another|different|retry|variant|variation|re-?roll|regenerate|new|other|seed|attempt|try",
    "branch": r"branch|fork|bookmark|checkpoint",
    "checkout": r"checkout|check\s+out|switch|go\s+to|jump|version|v\d+|back\s+to|return|open|head|branch|"
                r"[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*|[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*",
    "history": r"history|log|versions|timeline|so\s+far|what\s+(?:have|did|has)|list|changes|steps|recap|summary|edits",
    "export": r"save|export|download|write|png|jpe?g|ora|openraster|file|disk",
    "help": r"help|how|what\s+can|commands|options|instructions|tutorial|guide|usage|confused|stuck|lost|manual|"
            r"support|what\s+kind|able\s+to|features|capabilities|what\s+do\s+you\s+do|\?",
}
_SEE = re.compile(r"^(?:(?:show|display|view|see|preview|compare|toggle|reveal|peek\s+at|look\s+at)|let\s+me\s+(?:see|view)|"
                  r"i\s+want\s+to\s+see|(?:can|could|may)\s+i\s+see)\b", re.I)
_SHOW_WORDS = frozenset(
    """me us the my it this that again now please version image photo picture of what you did changed edited
    part area and just before after original source untouched unedited mask masks selection region where layer
    layers overlay diff difference differences changes change compare comparison result current final
    render edit edits side by with vs versus between how looks look like""".split())


def command_supported(intent: str, core: str) -> bool:
    """True when the words of `core` support the classifier's command `intent`.

    The learned classifier sometimes answers a command for an edit it has never seen phrased
    that way ("change the cat into a dog" as checkout); a command needs its own words.

    Args:
        intent: a command intent from the classifier.
        core: the request without courtesy.
    """
    if intent == "show":
        return is_show_request(core)
    pattern = _SUPPORT.get(intent)
    return pattern is None or re.search(rf"(?:^|\b)(?:{pattern})(?:\b|$)", core, re.I) is not None


def is_show_request(core: str) -> bool:
    """True for "show me the mask", "let me see the original"; False for "show it at night".

    Args:
        core: the request without courtesy.
    """
    m = _SEE.match(core.strip(" ,.!?"))
    if not m:
        return False
    rest = re.findall(r"[a-z']+", core[m.end():].lower())
    return all(w in _SHOW_WORDS for w in rest)
