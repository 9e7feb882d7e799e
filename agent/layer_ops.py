"""Recognising layer operations in words: hide, show, opacity, move, scale, reshape, point.

A small rule-based parser, consulted by the graph before the classifier (which it does not
change). It returns a `LayerRequest`: the operation, the words naming the layer (resolved against
the history by `agent.layer_refs`) and the arguments. `strong` is False for phrasings that are
also ordinary edits ("hide the cup", "make the dog bigger", "move the car left"): those are
layer operations only when the words name an existing layer, otherwise the utterance goes on to
the classifier as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

# Steps relative to the image: a move is this fraction of the image's side along the move.
MOVE_STEPS = {"small": 0.02, "default": 0.05, "large": 0.15}
SCALE_STEPS = {"small": 1.1, "default": 1.25, "large": 1.5}
OPACITY_STEP = 0.25


@dataclass(frozen=True)
class LayerRequest:
    """One layer operation asked for in words.

    op: hide, show, opacity, move, scale, reshape or point. ref: the words naming the layer
    ("" when none: the layer talked about last). args: opacity {"opacity"} or {"delta"};
    move {"direction", "step"} or {"direction", "pixels"}; scale {"factor"}; reshape {"mode"}.
    """

    op: str
    ref: str
    args: dict[str, Any] = field(default_factory=dict)
    strong: bool = True


_LEAD = re.compile(r"^(?:(?:please|now|ok(?:ay)?|and|then|also|(?:can|could|would|will)\s+you(?:\s+please)?)[,\s]+)+", re.I)
_TAIL = re.compile(r"(?:[,\s]+(?:please|thanks|thank you))?[\s?!.]*$", re.I)
_LAYERISH = re.compile(r"^(?:it|that|this|them|(?:the\s+)?(?:last|latest|previous|first|second|third|fourth|fifth|"
                       r"sixth|seventh|eighth|ninth|tenth|top|bottom)\s+(?:edit|layer|change|one)|"
                       r"(?:the\s+)?(?:edit|layer|change|region|mask|selection)(?:\s+\d+)?|v\d+|version\s+\d+)$", re.I)

_HIDE = re.compile(r"^(?:hide|drop|mute|disable|turn\s+off|switch\s+off|toggle\s+off)\s+(?P<ref>.+?)(?:\s+layer)?$", re.I)
_HIDE_OFF = re.compile(r"^(?:turn|switch)\s+(?P<ref>.+?)\s+off$", re.I)
_SHOW = (
    re.compile(r"^(?:bring|put|get)\s+back\s+(?P<ref>.+)$", re.I),
    re.compile(r"^(?:bring|put|get)\s+(?P<ref>.+?)\s+back(?:\s+again)?$", re.I),
    re.compile(r"^(?:unhide|re-?enable|unmute)\s+(?P<ref>.+?)(?:\s+again)?$", re.I),
    re.compile(r"^(?:show|restore)\s+(?P<ref>.+?)\s+again$", re.I),
    re.compile(r"^(?:turn|switch)\s+(?P<ref>.+?)\s+(?:back\s+)?on(?:\s+again)?$", re.I),
    re.compile(r"^(?:turn|switch)\s+(?:back\s+)?on\s+(?P<ref>.+)$", re.I),
)
_PERCENT = r"(?P<pct>\d{1,3})\s*(?:%|percent)"
_FULL = re.compile(r"^(?:(?:make|set|put|bring|restore|turn)\s+(?P<ref>.+?)\s+(?:back\s+)?(?:to\s+|at\s+)?|"
                   r"(?:back\s+to\s+)?)(?:full\s+(?:strength|opacity)|fully\s+opaque|100\s*%(?:\s+opacity)?|opaque)"
                   r"(?:\s+again)?$", re.I)
_FULL_REF = re.compile(r"^(?P<ref>.+?)\s+(?:at\s+|to\s+)?full\s+(?:strength|opacity)(?:\s+again)?$", re.I)
_TRANSPARENT = re.compile(r"^make\s+(?P<ref>.+?)\s+(?:(?:" + _PERCENT + r")|(?P<half>half)|(?P<rel>more|less|a\s+bit\s+more|"
                          r"a\s+bit\s+less|a\s+bit|slightly))?\s*(?P<word>transparent|see-?through|translucent|opaque)$", re.I)
_OPACITY_OF = re.compile(r"^(?:set\s+|change\s+)?(?:the\s+)?opacity\s+of\s+(?P<ref>.+?)\s+to\s+" + _PERCENT + "$", re.I)
_OPACITY_AT = re.compile(r"^(?:set\s+|put\s+|make\s+)?(?P<ref>.+?)\s+(?:to\s+|at\s+)" + _PERCENT + r"(?:\s+opacity)?$", re.I)
_FADE = re.compile(r"^fade\s+(?:out\s+)?(?P<ref>.+?)(?:\s+(?:(?:to|by)\s+)?(?:(?P<half>half(?:way)?)|" + _PERCENT +
                   r"|(?P<bit>a\s+bit|a\s+little|slightly|more)))?$", re.I)
_DIRS = r"(?P<dir>left|right|up|down|upwards|downwards|higher|lower)"
_AMOUNT = r"(?:\s+(?:(?P<px>\d{1,5})\s*(?:pixels?|px)|(?P<small>a\s+(?:little\s+)?bit|a\s+little|slightly|a\s+touch)|" \
          r"(?P<large>a\s+lot|far|much\s+more|way)))?"
_MOVE = re.compile(r"^(?:move|shift|nudge|slide|push|drag)\s+(?P<ref>.+?)" + _AMOUNT + r"\s+(?:to\s+the\s+)?" + _DIRS +
                   _AMOUNT.replace("?P<px>", "?P<px2>").replace("?P<small>", "?P<small2>").replace("?P<large>", "?P<large2>")
                   + "$", re.I)
_SCALE = re.compile(r"^(?:make|scale)\s+(?P<ref>.+?)\s+(?:(?P<small>a\s+(?:little\s+)?bit|a\s+little|slightly)\s+|"
                    r"(?P<large>much|a\s+lot|way)\s+|(?P<pct>\d{1,3})\s*%\s+)?(?P<dir>bigger|larger|smaller|tinier|up|down)$", re.I)
_SCALE_TWICE = re.compile(r"^make\s+(?P<ref>.+?)\s+(?:(?P<twice>twice|two\s+times)\s+as\s+(?:big|large)|"
                          r"(?P<half>half)\s+(?:the\s+size|as\s+(?:big|large)))$", re.I)
_SCALE_BY = re.compile(r"^(?:scale|resize)\s+(?P<ref>.+?)\s+(?:by|to)\s+(?:(?P<f>\d+(?:\.\d+)?)(?:\s*x)?|" + _PERCENT + ")$", re.I)
_BARE_SCALE = re.compile(r"^(?:(?P<small>a\s+(?:little\s+)?bit|a\s+little|slightly)\s+|(?P<large>much|a\s+lot)\s+)?"
                         r"(?P<dir>bigger|larger|smaller)(?:\s+(?:still|again|please))?$", re.I)
_ENLARGE = re.compile(r"^(?P<verb>enlarge|upscale)\s+(?P<ref>.+)$", re.I)
_REGION = r"(?:the\s+)?(?:edit(?:ed)?(?:\s+(?:region|area))?|region|mask|selection|area)"
_GROW = re.compile(r"^(?P<verb>grow|expand|widen|dilate|shrink|contract|tighten|erode)\s+(?P<ref>.+?)"
                   r"(?:\s+(?:a\s+(?:little\s+)?bit|a\s+little|slightly|more))?$", re.I)
_WHOLE = re.compile(r"^(?:use|apply|keep|take|show)\s+(?:the\s+)?(?:whole|entire|full|complete)\s+(?:edit|result|change|image|picture|photo)"
                    r"(?:\s+of\s+(?P<ref>.+?))?(?:\s+(?:everywhere|without\s+(?:a\s+|the\s+)?mask))?$|"
                    r"^(?:apply\s+)?(?P<ref2>.+?)\s+everywhere$|^(?:no|drop\s+the|without\s+(?:a|the))\s+mask$", re.I)
_LARGEST = re.compile(r"^(?:(?:keep|use|leave)\s+)?(?:only|just)\s+the\s+(?:largest|biggest|main)\s+(?:part|piece|region|blob|area|bit)"
                      r"(?:\s+of\s+(?P<ref>.+?))?$|^(?:drop|remove)\s+the\s+(?:small|little|stray)\s+(?:bits|parts|pieces|blobs)"
                      r"(?:\s+of\s+(?P<ref2>.+?))?$", re.I)
_POINT = re.compile(r"^(?:edit\s+)?(?:only|just)\s+(?:here|there|this\s+(?:part|spot|region|bit))(?:\s+of\s+(?P<ref>.+?))?$|"
                    r"^(?:use|pick|select)\s+(?:the\s+segment\s+)?(?:here|there|this\s+(?:part|spot|segment))$", re.I)


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip())
    return _TAIL.sub("", _LEAD.sub("", text)).strip()


def _ref(match: re.Match, *names: str) -> str:
    for name in names or ("ref",):
        try:
            value = match.group(name)
        except IndexError:
            continue
        if value:
            return value.strip()
    return ""


def _pct(match: re.Match) -> Optional[float]:
    value = match.groupdict().get("pct")
    return None if value is None else min(100, int(value)) / 100.0


def _weak(ref: str) -> bool:
    """True when `ref` is an object phrase ("the cup"), not a layer word ("it", "the second edit")."""
    return not _LAYERISH.match(ref.strip())


def _opacity(text: str) -> Optional[LayerRequest]:
    m = _FULL.match(text)
    if m:
        return LayerRequest("opacity", _ref(m), {"opacity": 1.0})
    m = _FULL_REF.match(text)
    if m:
        return LayerRequest("opacity", _ref(m), {"opacity": 1.0})
    m = _TRANSPARENT.match(text)
    if m:
        word, rel, pct = m.group("word").lower(), (m.group("rel") or "").lower(), _pct(m)
        opaque = word == "opaque"
        if pct is not None:
            return LayerRequest("opacity", _ref(m), {"opacity": pct if opaque else 1.0 - pct})
        if m.group("half"):
            return LayerRequest("opacity", _ref(m), {"opacity": 0.5})
        if opaque and not rel:
            return LayerRequest("opacity", _ref(m), {"opacity": 1.0})
        sign = 1.0 if ("less" in rel) != opaque else -1.0
        if not rel and not opaque:
            return LayerRequest("opacity", _ref(m), {"opacity": 0.5})
        return LayerRequest("opacity", _ref(m), {"delta": sign * OPACITY_STEP})
    m = _OPACITY_OF.match(text) or _OPACITY_AT.match(text)
    if m:
        return LayerRequest("opacity", _ref(m), {"opacity": _pct(m)}, strong=not _weak(_ref(m)) or "opacity" in text.lower())
    m = _FADE.match(text)
    if m:
        if m.group("half"):
            return LayerRequest("opacity", _ref(m), {"opacity": 0.5})
        if _pct(m) is not None:
            return LayerRequest("opacity", _ref(m), {"opacity": _pct(m)})
        if m.group("bit"):
            return LayerRequest("opacity", _ref(m), {"delta": -OPACITY_STEP})
        return LayerRequest("opacity", _ref(m), {"opacity": 0.5})
    return None


def _geometry(text: str) -> Optional[LayerRequest]:
    m = _MOVE.match(text)
    if m:
        d = m.group("dir").lower()
        d = {"upwards": "up", "higher": "up", "downwards": "down", "lower": "down"}.get(d, d)
        px = m.group("px") or m.group("px2")
        args: dict[str, Any] = {"direction": d}
        if px:
            args["pixels"] = int(px)
        else:
            args["step"] = "small" if (m.group("small") or m.group("small2")) else \
                "large" if (m.group("large") or m.group("large2")) else "default"
        return LayerRequest("move", _ref(m), args, strong=not _weak(_ref(m)))
    m = _SCALE_TWICE.match(text)
    if m:
        return LayerRequest("scale", _ref(m), {"factor": 2.0 if m.group("twice") else 0.5}, strong=not _weak(_ref(m)))
    m = _SCALE_BY.match(text)
    if m:
        factor = float(m.group("f")) if m.group("f") else (_pct(m) or 1.0)
        return LayerRequest("scale", _ref(m), {"factor": factor})
    m = _SCALE.match(text)
    if m:
        up = m.group("dir").lower() in ("bigger", "larger", "up")
        if m.group("pct"):
            step = 1.0 + int(m.group("pct")) / 100.0
        else:
            step = SCALE_STEPS["small" if m.group("small") else "large" if m.group("large") else "default"]
        return LayerRequest("scale", _ref(m), {"factor": step if up else 1.0 / step}, strong=not _weak(_ref(m)))
    m = _BARE_SCALE.match(text)
    if m:
        step = SCALE_STEPS["small" if m.group("small") else "large" if m.group("large") else "default"]
        return LayerRequest("scale", "", {"factor": step if m.group("dir").lower() != "smaller" else 1.0 / step})
    m = _ENLARGE.match(text)
    if m:
        return LayerRequest("scale", _ref(m), {"factor": SCALE_STEPS["default"]}, strong=not _weak(_ref(m)))
    return None


def _region(text: str) -> Optional[LayerRequest]:
    m = _WHOLE.match(text)
    if m:
        return LayerRequest("reshape", _ref(m, "ref", "ref2"), {"mode": "whole"},
                            strong=not m.group("ref2") or not _weak(m.group("ref2")))
    m = _LARGEST.match(text)
    if m:
        return LayerRequest("reshape", _ref(m, "ref", "ref2"), {"mode": "largest"})
    m = _POINT.match(text)
    if m:
        return LayerRequest("point", _ref(m), {"mode": "point"})
    m = _GROW.match(text)
    if m:
        verb = m.group("verb").lower()
        mode = "grow" if verb in ("grow", "expand", "widen", "dilate") else "shrink"
        ref = _ref(m)
        region = re.match(r"^" + _REGION + r"(?:\s+of\s+(?P<of>.+))?$", ref, re.I)
        if region:
            return LayerRequest("reshape", (region.group("of") or "").strip(), {"mode": mode})
        return LayerRequest("reshape", ref, {"mode": mode}, strong=not _weak(ref))
    return None


def parse_layer_request(text: str) -> Optional[LayerRequest]:
    """The layer operation `text` asks for, or None when it is not one.

    Args:
        text: one utterance ("hide the hat", "fade it to half", "move it up 20 pixels").
    """
    text = _clean(text)
    if not text or len(text) > 200:
        return None
    for pattern in (_HIDE, _HIDE_OFF):
        m = pattern.match(text)
        if m and not re.match(r"^(?:the\s+)?(?:mask|original|layers?\s+panel)$", _ref(m), re.I):
            return LayerRequest("hide", _ref(m), strong=not _weak(_ref(m)))
    for pattern in _SHOW:
        m = pattern.match(text)
        if m:
            return LayerRequest("show", _ref(m))
    for parse in (_opacity, _region, _geometry):
        request = parse(text)
        if request is not None:
            return request
    return None
