"""A shallow grammar of edit requests: the command verb and its particle decide the ZONE action.

People phrase the same edit in endless ways ("photoshop my friend out", "get rid of the cup",
"can someone please edit the dock out?"), but the action is carried by the head verb and its
particle, never by words after the object ("remove the man *wearing* a hat" is a removal).
`read_edit` finds that head (after courtesy like "could someone please") and returns the action,
or None when the text has no head it knows; terse verbless requests that name a visual result
("black and white", "oil painting", "brighter photo") are CHANGE edits (`is_visual_phrase`).
Pure Python, no model: the learned classifier (`agent.classifier`) covers what this does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from agent.lexicon import COLOURS, COLOUR_MODIFIERS

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
_TAG = re.compile(r"^\s*\[[^\]]{1,20}\]\s*")
_COURTESY = re.compile(
    r"^(?:(?:hi|hey|hello|hiya|yo|na|nah|ok(?:ay)?|so|yes|yeah|alright|well|um+|uh+|hmm+|now|then|also|and|just|"
    r"please|pls|plz|kindly|quickly|chatbot|zone|guys|all|everyone|folks|there)\b[\s,!.:-]*|"
    r"(?:photoshop|ps|editing)\s+(?:wizards?|gurus?|experts?|pros?|masters?|people|folks|friends|gods?)\b[\s,!.:-]*|"
    r"(?:can|could|would|will|may)\s+(?:you|u|someone|somebody|anyone|anybody|we|i|one\s+of\s+you)"
    r"(?:\s+(?:please|pls|kindly|possibly|maybe|just|also))*\s+|"
    r"(?:is|would)\s+(?:it|there)\s+(?:be\s+)?(?:possible|a\s+way)\s+(?:for\s+(?:you|someone)\s+)?to\s+|"
    r"(?:i|we)(?:'d\s+love|\s+would\s+love|'d|\s+would|\s+want|\s+wanna|\s+need|\s+wish|\s+hope|\s+was\s+wondering\s+if\s+you\s+could)"
    r"(?:\s+like)?(?:\s+(?:you|someone|somebody|u))?(?:\s+to)?\s+|"
    r"(?:i|we)\s+(?:want|need)\s+(?:you|someone|somebody)\s+to\s+|"
    r"let'?s\s+|let\s+us\s+|help\s+me\s+|try\s+to\s+|go\s+ahead\s+and\s+|"
    r"(?:looking|searching)\s+for\s+(?:someone|somebody)\s+to\s+|"
    r"(?:someone|somebody|anyone)\s+(?:please\s+)?(?:to\s+)?)+",
    re.I)
_TAIL = re.compile(r"(?:[\s,]+(?:please|pls|plz|thanks|thank\s+you|thx|ty|for\s+me|if\s+possible|"
                   r"if\s+you\s+can|asap|:\)|:d))+[\s?!.]*$|[\s?!.:;]+$", re.I)
_WORD = re.compile(r"[a-z][a-z'-]*|\d+")

REMOVE_HEADS = frozenset(
    """remove delete erase eliminate rid wipe scrub strip ditch lose hide clear vanish exclude omit
    expunge extract unpaint declutter""".split())
ADD_HEADS = frozenset("add insert put place draw include attach stick plant paste embed throw drop".split())
# Verbs that start an edit but never decide add/remove by themselves.
CHANGE_HEADS = frozenset(
    """make turn change convert transform replace swap switch exchange substitute colour color recolor
    recolour paint dye tint brighten darken lighten whiten blacken redden enlarge shrink widen lengthen
    shorten narrow thicken thin soften sharpen blur unblur crop rotate flip mirror move shift resize
    scale zoom increase decrease raise lower reduce boost enhance improve fix adjust set tone tweak
    modify alter edit render restyle straighten level align tilt center centre stretch warp distort reposition
    despeckle denoise dehaze deblur defog retouch stylize stylise colorize colourize desaturate saturate posterize
    invert intensify fade warm cool morph shape age de-age beautify retouch smooth brighter darker
    apply highlight photoshop shop cover fill dress wear give cut clean show""".split())
BODY_PARTS = frozenset("hair eyes eye skin lips teeth face eyebrows nails cheeks complexion skintone".split())
WEAR_VERBS = frozenset("wear wearing hold holding have having carry carrying ride riding".split())
# Things that are not objects: taking them away is a CHANGE ("remove the glare").
NON_OBJECTS = frozenset(
    """darkness blur blurriness noise grain graininess tint color colour colors colours effect effects filter
    filters haze redness yellowing cast lighting light exposure saturation contrast brightness hue lightness
    warmth vignette sharpness distortion pixelation jpeg compression artifacts artefacts tone tones hues fog
    mist smog rain snow overcast appearance look feel shadowing shading coloring colouring toning grading
    speckles speckle""".split()) | COLOURS
# Visible things a remove verb erases even though they are not solid objects: REMOVE, like the
# project's own labels ("remove the glare", "remove the red eye", "remove the reflection").
# Nouns that make "add X" / "give it X" a CHANGE: a property of the picture, not a new object.
ATTRIBUTES = NON_OBJECTS | frozenset(
    """background backdrop look feel style vibe mood tone tones texture clarity depth drama vibrance
    vibrancy value level levels amount touch hint bit sepia bokeh hdr detail details polish finish
    aesthetic atmosphere sparkle shine""".split())
# Words that make a verbless phrase a visual result ("oil painting", "at night", "black and white").
VISUAL = COLOURS | COLOUR_MODIFIERS | ATTRIBUTES | frozenset(
    """painting sketch drawing cartoon anime watercolor watercolour oil pencil charcoal pixel pop art
    comic noir vintage retro sepia monochrome grayscale greyscale cinematic dramatic moody surreal
    night day dusk dawn sunset sunrise evening morning winter summer autumn fall spring snow snowy
    rain rainy fog foggy storm stormy cloudy sunny golden hour bright brighter darker lighter warmer
    cooler colder sharper softer bigger smaller larger taller shorter wider thinner fatter older
    younger happier sadder blurry blurrier sharp crisp vivid vibrant pastel neon glowing shiny
    metallic wooden glass gold silver marble stone cyberpunk steampunk gothic medieval futuristic
    renaissance baroque impressionist cubist ukiyo-e mosaic origami claymation lego minecraft
    underwater space mars moon forest beach desert city style version look portrait landscape
    sky background eyes hair face position pose angle orientation perspective size shape""".split())
_PASSIVE_REMOVE = re.compile(
    r"\b(?:removed|deleted|erased|eliminated|gone|taken\s+(?:out|off|away)|edited\s+out|cut\s+out|"
    r"photoshopped\s+out|cropped\s+out|got\s+rid\s+of|disappear(?:ed|s)?|vanish(?:ed|es)?|"
    r"(?:needs?|has|have|had|got)\s+to\s+go|(?:is|are|was|were)\s*n[o']?t\s+(?:there|in\s+(?:it|the\s+\w+))|"
    r"not\s+(?:be\s+)?there|no\s+longer\s+there)\b", re.I)
_FILL_WHERE = re.compile(r"^(?:fill|paint|patch)\s+(?:in|over)\s+(?:where|the\s+(?:spot|area|place)\s+where)\b", re.I)
_THERE_BE = re.compile(r"^(?:make|let|have)\s+there\s+be\b", re.I)
_INDEFINITE_THING = re.compile(
    r"^(?:a|an|some|more|two|three|a\s+few|a\s+couple\s+of)\s+(?:[a-z'-]+\s+){0,3}?[a-z'-]+"
    r"(?:\s+(?:in|on|at|near|behind|above|over|under|beside|next\s+to|to|into|onto|flying|sitting|standing)\b.*)?$",
    re.I)
_PASSIVE_ADD = re.compile(r"\b(?:added|inserted|put\s+in|placed)\b", re.I)
_TO_BACKGROUND = re.compile(
    r"\b(?:with|by)\s+(?:the\s+|more\s+|some\s+)?(?:background|backdrop|nothing|empty\s+space|blank\s+space|"
    r"what(?:'s|\s+is)\s+behind|surrounding\s+\w+)\b", re.I)


@dataclass(frozen=True)
class EditReading:
    """What the grammar reads in an edit request.

    Attributes:
        action: add, remove or change.
        head: the word that decided it ("remove", "photoshop...out", "<verbless>").
        core: the request without courtesy ("could someone please" ...) and trailing punctuation.
    """

    action: str
    head: str
    core: str


_SPELLING = ((re.compile(r"\bback\s+ground\b"), "background"), (re.compile(r"\bred[\s-]eyes?\b"), "redeye"),
             (re.compile(r"\bback(?:rou|gou|gro|grou)n?d\b"), "background"))


def normalise(text: str) -> str:
    """Lower case, plain quotes, one space, no forum tag ("[Specific]"), common misspellings fixed."""
    text = " ".join(_TAG.sub("", text.translate(_QUOTES).lower()).split())
    for pattern, fixed in _SPELLING:
        text = pattern.sub(fixed, text)
    return text


def strip_courtesy(text: str) -> str:
    """The request without leading courtesy and trailing "please"/punctuation.

    Args:
        text: the utterance (any case).
    """
    core = normalise(text)
    for _ in range(4):
        stripped = _TAIL.sub("", _COURTESY.sub("", core)).strip(" ,.!?")
        if stripped == core:
            break
        core = stripped
    return core


def words_of(text: str) -> list[str]:
    """The lower-case words and numbers of text."""
    return _WORD.findall(text.lower())


def _object_words(words: list[str], start: int) -> list[str]:
    """The words of the noun phrase after the head (up to a preposition or conjunction)."""
    out: list[str] = []
    for w in words[start:]:
        if w == "of" and out and set(out) <= {"some", "all", "most", "part", "parts", "bit", "bits", "any", "much",
                                                "a", "lot", "lots", "none", "each", "both", "one", "two", "few"}:
            out = []  # "some of the brown": the brown
            continue
        if w in ("here", "there", "now", "please", "too", "again"):
            continue
        if w in ("on", "in", "at", "to", "into", "onto", "with", "from", "of", "for", "by", "over", "and",
                 "or", "but", "so", "that", "which", "who", "wearing", "behind", "near", "next", "under", "around",
                 "across", "above", "below", "beside", "inside", "through", "along", "instead", "where", "if", "out",
                 "off", "away", "up", "down", "so", "leaving", "except", "as", "like"):
            break
        out.append(w)
    return out


def _remove_or_change(words: list[str], start: int) -> str:
    """REMOVE unless what goes away is a property of the picture ("the glare", "the red tint")."""
    obj = _object_words(words, start)
    nouns = [w for w in obj if w not in ("the", "a", "an", "all", "any", "this", "that", "these", "those", "some")]
    if nouns and nouns[-1] in NON_OBJECTS and not any(w in ("text", "logo", "watermark") for w in nouns):
        return "change"
    return "remove"


def _add_or_change(words: list[str], start: int) -> str:
    """ADD unless the thing added is a property of the picture ("add contrast", "add a white background")."""
    obj = _object_words(words, start)
    rest = [w for w in obj if w not in ("a", "an", "the", "some", "more", "even", "extra", "little", "bit", "of",
                                        "lot", "lots", "touch", "few", "tiny", "slight", "slightly", "much")]
    if not rest:
        return "add"
    if rest[-1] in ATTRIBUTES and not (rest[-1] in COLOURS and len(rest) > 1):
        return "change"
    if all(w in COLOURS | COLOUR_MODIFIERS for w in rest):
        return "change"  # "add some red"
    return "add"


def _wear_action(words: list[str], k: int) -> str:
    """ "make them wear top hats": ADD; "make him wear red" / "wear blue clothes": CHANGE."""
    skip = ("a", "an", "some", "the", "him", "her", "them", "it", "us", "me", "more")
    after = [w for w in words[k + 1:] if w not in skip]
    if not after or after[0] in COLOURS | COLOUR_MODIFIERS:
        return "change"
    return _add_or_change(words, k + 1)


def _near(word: str, known: frozenset[str]) -> Optional[str]:
    """The known word `word` is a one-letter typo of ("chage" -> "change", "remvoe" -> "remove"), or None."""
    if len(word) < 4 or word in known:
        return None
    for k in sorted(known):
        if k[0] != word[0] or abs(len(k) - len(word)) > 1 or len(k) < 4:
            continue
        if len(k) == len(word):
            diff = [i for i in range(len(k)) if k[i] != word[i]]
            if len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and k[diff[0]] == word[diff[1]]
                                  and k[diff[1]] == word[diff[0]]):
                return k
        else:
            short, long_ = (word, k) if len(word) < len(k) else (k, word)
            if any(long_[:i] + long_[i + 1:] == short for i in range(len(long_))):
                return k
    return None


def _head_action(words: list[str]) -> Optional[tuple[str, str]]:
    """(action, head) from the head verb and its particle, or None when the first word is no known verb."""
    if not words:
        return None
    fixed = _near(words[0], _HEADS)
    if fixed:
        words = [fixed] + words[1:]
    head = words[0]
    rest = " ".join(words[1:])
    particle_out = re.search(r"\b(?:out|off|away)\b", rest.split(" . ")[0]) is not None and not re.search(
        r"\b(?:into|onto|in\s+to)\b", rest.split(" out")[0])
    if head == "get" and rest.startswith("rid of"):
        return "remove", "get rid of"
    if head in ("photoshop", "shop", "edit", "paste", "superimpose") and re.search(
            r"\b(?:into|onto|in\s+to)\s+(?:this|the|my|our|that)\s+(?:\w+\s+)?(?:photo|picture|image|pic|shot|one)\b", rest):
        return "add", f"{head} into the photo"  # "photoshop my dog into this picture"
    if head in ("edit", "photoshop", "shop", "paste", "drop", "put") and words[1:2] == ["in"] and len(words) > 2:
        return _add_or_change(words, 2), f"{head} in"  # "edit in a sword", "photoshop in a UFO"
    if head in ("clear", "clean", "tidy", "fix") and words[1:2] == ["up"]:
        return "change", f"{head} up"  # "clear up the image": a clean-up, nothing named goes
    if head in ("get", "take", "cut", "crop", "edit", "photoshop", "shop", "clone", "paint", "clean", "wipe",
                "brush", "cover", "blend", "heal", "smudge", "fade", "scrub", "airbrush", "knock", "lift", "pull", "move") and (
            particle_out or (head in ("paint", "cover") and words[1:2] == ["over"])):
        if head == "move" and not re.search(r"\bout\s+of\s+(?:the\s+)?(?:frame|picture|photo|image|shot)\b", rest):
            return "change", head
        if head in ("take", "get") and re.search(r"\b(?:photo|picture|shot|look)\b", rest) and not particle_out:
            return None
        return _remove_or_change(words, 2 if words[1:2] in (["out"], ["off"], ["away"], ["over"]) else 1), \
            f"{head}...out"
    if head in REMOVE_HEADS:
        return _remove_or_change(words, 1), head
    if head in ("replace", "swap", "fill", "cover", "paint") and _TO_BACKGROUND.search(rest):
        return "remove", f"{head} with background"
    if head == "fill" and re.search(r"\bwith\b", rest):
        return "add", "fill with"
    if head == "cover":
        return ("change" if re.search(r"\bwith\b", rest) else "remove"), head
    if head in ("make", "let", "have", "get") and len(words) > 2:
        if re.search(r"\bwithout\b", rest) or _PASSIVE_REMOVE.search(rest):
            return "remove", f"{head} X gone"  # "make it so the pole isn't there", "the photo without him"
        if head == "have" and words[1] in ("a", "an", "some"):
            return _add_or_change(words, 2), "have a"  # "now have a moon in the lake"
        for k in range(1, min(len(words), 6)):
            if words[k] in WEAR_VERBS:
                return _wear_action(words, k), f"{head} X {words[k]}"
        if re.search(r"\b(?:disappear|vanish|go\s+away|gone|invisible)\b", rest):
            return "remove", f"{head} X disappear"
    if head in ("wear", "dress"):
        return _wear_action(words, 0) if head == "wear" else "add", head
    if head in ("put", "place", "set", "throw") and re.search(
            r"^(?:it|this|that|them|the\s+(?:image|photo|picture|scene|whole|entire|bottom|top|left|right)\b|"
            r"everything)", rest):
        return "change", head  # "put it in black and white", "put the top side at night"
    if head in ("put", "place", "set", "drop", "paste") and re.search(
            r"\b(?:in|into|on|onto|against|in\s+front\s+of)\s+(?:a|an|the|some)?\s*(?:[a-z-]+\s+){0,2}"
            r"(?:background|backdrop|setting|scene|landscape)\b", rest):
        return "change", f"{head} into a background"  # "put her face in a different background"
    if head in ADD_HEADS:
        if re.search(r"\binstead\s+of\b", rest):
            return "change", f"{head} instead of"  # "add a fork instead of the gavel": a replacement
        return _add_or_change(words, 1), head
    if head == "give":
        return _give_action(words), head
    if head in CHANGE_HEADS:
        return "change", head
    return None


_HEADS = REMOVE_HEADS | ADD_HEADS | CHANGE_HEADS | frozenset("get take".split())


def _give_action(words: list[str]) -> str:
    """ "give the dog a hat": ADD; "give it a vintage look", "give him red hair": CHANGE."""
    if re.match(r"(?:it|this|that|the|everything)\b(?:\s+(?:whole|entire))?(?:\s+(?:image|photo|picture|shot|scene))?\s",
                " ".join(words[1:]) + " ") and (words[1] in ("it", "everything") or
                                                 set(words[1:5]) & {"image", "photo", "picture", "shot", "scene"}):
        return "change"  # "give this whole image a green cast": the picture itself
    obj = _object_words(words, 2)
    if obj and obj[-1] in BODY_PARTS:
        return "change"  # "give her long curly blonde hair": she had hair
    for k in range(1, len(words)):
        if words[k] in ("a", "an", "some", "more", "extra"):
            return _add_or_change(words, k + 1)
    tail = [w for w in words[2:] if w not in ("the", "his", "her", "their")]
    if tail and tail[0] in COLOURS | COLOUR_MODIFIERS:
        return "change"
    return _add_or_change(words, 2)


_HISTORY_OBJECT = re.compile(
    r"\b(?:(?:the|that|this|my|last|previous|all|every|those|these)\s+(?:\w+\s+)?(?:edits?|changes?|steps?|versions?|undo)"
    r"|edits|versions|branch(?:es)?|version\s+\d+|v\d+|(?:the|my)\s+(?:original|untouched|unedited|unmodified|initial|raw)"
    r"(?:\s+(?:image|photo|picture|one|version))?(?:\s+back)?|(?:a|the|one)\s+file|"
    r"(?:a|the)\s+(?:list|summary|log|history|preview)|history|what\s+you\s+(?:just\s+)?did|a\s+hand|"
    r"(?:png|jpe?g|ora)(?:\s+file)?|the\s+last\s+one|back\s+the\s+edit|the\s+edit\s+back)\b", re.I)
_CHIT_CHAT = re.compile(r"^(?:good\s+(?:morning|night|evening|afternoon|day)|have\s+a\s+nice|nice\s+to\s+meet|"
                        r"see\s+you|how\s+are\s+you|bye)\b", re.I)


def names_history(core: str) -> bool:
    """True when the request's object is the history itself ("get rid of the last edit", "fork this version")."""
    return _HISTORY_OBJECT.search(core) is not None


def read_edit(text: str) -> Optional[EditReading]:
    """The ZONE action of an edit request from its head verb, passive form or visual phrase; None if unsure.

    Args:
        text: one clause of an utterance.
    """
    core = strip_courtesy(text)
    words = words_of(core)
    if not words:
        return None
    if re.match(r"^\w+\s+(?:it|that|this|them)\s+back$", core):
        return None  # "put it back", "take it back": a history command, not an edit
    if names_history(core) or _CHIT_CHAT.match(core):
        return None  # a history or chat request in edit words: the classifier decides
    if _FILL_WHERE.match(core):
        return EditReading("remove", "fill in where", core)  # "fill in where my thumb is"
    if _THERE_BE.match(core):
        return EditReading(_add_or_change(words, 3), "make there be", core)
    if re.match(r"^no\s+(?:more\s+)?(?:[a-z'-]+\s+){0,3}?(?:in|on|at|near|behind|anywhere)\b", core):
        return EditReading("remove", "no X in", core)  # "no people in the background"
    head = _head_action(words)
    if head is not None:
        return EditReading(head[0], head[1], core)
    if _PASSIVE_REMOVE.search(core) and not re.search(r"\b(?:undo|redo|revert|back)\b", core):
        return EditReading(_remove_or_change(words, 0), "<passive remove>", core)
    if _PASSIVE_ADD.search(core):
        return EditReading("add", "<passive add>", core)
    if re.match(r"^(?:without|no\s+more|lose)\b", core):
        return EditReading("remove", "without", core)
    if _INDEFINITE_THING.match(core) and not re.match(r"^(?:a|an)\s+(?:bit|little|lot|touch|tad)\b", core):
        obj = _object_words(words, 0)
        action = _add_or_change(words, 0)
        if action == "add" and not (obj and obj[-1] in VISUAL - COLOURS):
            return EditReading("add", "<a thing>", core)  # "a hot air balloon in the sky", "an owl"
    if is_visual_phrase(core):
        return EditReading("change", "<verbless>", core)
    return None


_NOT_EDITS = frozenset(
    """hi hello hey thanks thank you thx ok okay cool nice great good awesome perfect wow yes no yep nope
    sure fine lol what why how who when where huh bye goodbye""".split())


def is_visual_phrase(core: str) -> bool:
    """True for a short verbless phrase that names a visual result ("oil painting", "the car from grey to black").

    Args:
        core: a request without courtesy (see `strip_courtesy`).
    """
    words = words_of(core)
    if not words or len(words) > 12 or all(w in _NOT_EDITS for w in words):
        return False
    if re.match(r"^(?:what|why|how|who|when|where|which|is|are|do|does|did|can|i|i'm|im|we|you|he|she|they)"
                r"(?:'s|s|'re|'ve|'d)?\b", core):
        return False  # a question or a sentence about someone, not a visual result
    return any(w in VISUAL or (w.endswith("er") and w[:-2] in VISUAL) or w.endswith("ish") for w in words) or (
        re.search(r"\bfrom\s+\w+\s+to\s+\w+", core) is not None) or re.match(r"^(?:as|in|at|like)\s+\w+", core) is not None


def known_words() -> frozenset[str]:
    """Every word this grammar knows (used to tell English from other languages)."""
    return REMOVE_HEADS | ADD_HEADS | CHANGE_HEADS | WEAR_VERBS | VISUAL | frozenset(
        "rid out off away over more less stronger weaker brightness".split())
