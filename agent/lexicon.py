"""Small English word lists the dialogue rules rely on: edit verbs, colours, determiners."""

from __future__ import annotations

import re

# First word of an edit clause ("give the dog a hat and remove the leash" splits before "remove").
EDIT_VERBS = frozenset(
    """add remove delete erase make turn change give put replace let place paint colour color
    recolor recolour wear take get swap convert transform insert draw brighten darken dress fill
    cover hide clear eliminate dye lighten whiten blacken enlarge shrink move rotate flip sharpen
    blur crop stick attach set""".split()
)

ADD_VERBS = frozenset("add give put place insert draw wear attach stick dress".split())
REMOVE_VERBS = frozenset("remove delete erase eliminate clear hide".split())

COLOURS = frozenset(
    """red blue green yellow orange purple violet pink brown black white grey gray gold golden
    silver beige cyan magenta teal turquoise navy maroon crimson scarlet lime olive indigo
    lavender tan cream ivory bronze copper khaki coral mint peach burgundy""".split()
)
COLOUR_MODIFIERS = frozenset("light dark bright pale deep pastel neon vivid hot baby royal sky".split())

INDEFINITE = frozenset("a an some".split())
DETERMINERS = frozenset("a an some the his her their its my your our this that these those".split())
# Words that end a noun phrase.
NP_STOP = frozenset(
    """on in at to into with from of for by over under near behind around and or but then as
    like onto off out up down is are be instead please""".split()
)

# Words that show an utterance is English (function words, editor words, edit verbs, colours).
_ENGLISH = frozenset(
    """a an the his her him he she it its they them their this that these those my your our me
    i we you us is are be was were should could would can will do does did please to into with
    from of for on in at by over under and or not no yes now all again instead actually just
    more less bit little very too so what which where how why here there back up down off out
    undo redo retry try branch checkout check switch version go jump return show see view display
    save export write history log help start beginning original mask layer diff difference result
    previous last first next new another one two three time times twice step steps edit edits
    image photo picture bigger smaller larger brighter darker man woman dog cat sky hat tie face
    hair person people background tree car house water shirt dress glasses revert reset compare
    list versions oops ok okay thanks hello hi hey""".split()
) | EDIT_VERBS | COLOURS | COLOUR_MODIFIERS

_WORD = re.compile(r"[a-z']+")


def is_edit_verb(word: str) -> bool:
    """True for the first word of an edit clause ("add", "remove", "make", ...)."""
    return word.lower().strip(",.;:!?") in EDIT_VERBS


def verb_action(clause: str) -> str:
    """The ZONE action implied by a clause's verb: add, remove or change."""
    words = clause.lower().split()
    lead = words[0] if words else ""
    if lead in ("please", "can", "could", "now", "also") and len(words) > 1:
        lead = words[1]
    if lead in REMOVE_VERBS or "get rid of" in clause.lower() or lead == "take" and " off" in clause.lower():
        return "remove"
    if lead in ADD_VERBS:
        return "add"
    return "change"


def looks_english(text: str) -> bool:
    """True when at least one word is a known English word (rejects "haz la corbata azul")."""
    return any(w.strip("'") in _ENGLISH for w in _WORD.findall(text.lower()))
