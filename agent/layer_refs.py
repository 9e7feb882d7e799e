"""Which layer an utterance means, resolved from the history (the version's layer stack).

* "it", "that", "the edit", "" (no words): the layer talked about last: the target of HEAD's
  layer operation when HEAD is one ("fade the snow to half", then "full strength again"),
  otherwise the last edit (the top of the stack).
* "the second edit", "the first layer", "the last one", "edit 2", "layer 2": by order in the stack
  (bottom = first); "v3", "version 3": by version number.
* "the hat", "the red hat": the edits whose instruction names the head noun ("hat"); when
  several do, those naming every word; when still several, the agent asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from agent.lexicon import DETERMINERS

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "bottom": 1}
_PRONOUN = re.compile(r"^(?:it|that|this|them|the\s+same(?:\s+one)?)$", re.I)
_GENERIC = re.compile(r"^(?:the\s+)?(?:(?:last|latest|top|most\s+recent)\s+)?(?:edit(?:ed)?(?:\s+(?:region|area))?|layer|change|"
                      r"one|region|mask|selection|area)$", re.I)
_ORDINAL = re.compile(r"^(?:the\s+)?(?P<ord>" + "|".join(ORDINALS) + r"|last|latest|top|previous)\s+"
                      r"(?:edit|layer|change|one)$", re.I)
_NUMBERED = re.compile(r"^(?:the\s+)?(?:edit|layer|change)\s+(?:number\s+)?#?(?P<n>\d+)$", re.I)
_VERSION = re.compile(r"^(?:the\s+)?(?:v|version\s+)(?P<n>\d+)(?:\s+(?:edit|layer))?$", re.I)
_FILLER = frozenset("edit layer change one please again".split())
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Resolution:
    """The layers a reference may mean: exactly one (`layer`), several (ask) or none."""

    candidates: list = field(default_factory=list)  # LayerInfo
    by_object: bool = False  # resolved by naming an object (not "it" or an ordinal)

    @property
    def layer(self):
        return self.candidates[0] if len(self.candidates) == 1 else None


def _stem(word: str) -> str:
    """A crude singular: hats -> hat, glasses -> glass, leaves stay (good enough to match instructions)."""
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


def resolve_layer(ref: str, stack: Sequence, recent: Optional[str] = None) -> Resolution:
    """Resolve the words `ref` against a layer stack (LayerInfo items, bottom-most first).

    Args:
        ref: the words naming the layer ("" for none).
        stack: the current version's layers.
        recent: the edit id HEAD's layer operation targeted, if HEAD is one.
    """
    ref = (ref or "").strip()
    layers = list(stack)
    if not layers:
        return Resolution([])
    if not ref or _PRONOUN.match(ref) or _GENERIC.match(ref):
        if recent is not None and (not ref or _PRONOUN.match(ref)):
            hit = [l for l in layers if l.edit_id == recent]
            if hit:
                return Resolution(hit)
        return Resolution([layers[-1]])
    m = _ORDINAL.match(ref)
    if m:
        word = m.group("ord").lower()
        if word in ("last", "latest", "top"):
            return Resolution([layers[-1]])
        if word == "previous":
            return Resolution([layers[-2]] if len(layers) > 1 else [])
        n = ORDINALS[word]
        return Resolution([layers[n - 1]] if n <= len(layers) else [])
    m = _NUMBERED.match(ref)
    if m:
        n = int(m.group("n"))
        return Resolution([layers[n - 1]] if 1 <= n <= len(layers) else [])
    m = _VERSION.match(ref)
    if m:
        n = int(m.group("n"))
        return Resolution([l for l in layers if l.number == n])
    words = [w for w in _words(ref) if w not in DETERMINERS and w not in _FILLER]
    if not words:
        return Resolution([layers[-1]])
    head = words[-1]
    named = [l for l in layers if head in _words(l.instruction)]
    if len(named) > 1 and len(words) > 1:
        every = [l for l in named if set(words) <= set(_words(l.instruction))]
        named = every or named
    return Resolution(named, by_object=True)
