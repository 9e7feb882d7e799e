"""Text features for the instruction classifier: hashed word and character n-grams, word classes (pure Python)."""

from __future__ import annotations

import re
import unicodedata
import zlib

# Bump when the feature definition changes: the model file records it and refuses a mismatch.
FEATURE_VERSION = 2

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[^\w\s]")
_HEX_ID = re.compile(r"^(?=.*\d)(?=.*[a-f])[0-9a-f]{4,40}$")
_TAG = re.compile(r"^\s*\[[^\]]{1,20}\]\s*")
CHAR_NGRAMS = (3, 4, 5)
CHAR_WEIGHT = 0.5  # a character n-gram counts half a word feature (v2): words decide, n-grams catch typos

# Word classes (v2): a word also fires its class, so a synonym never seen in training ("prior",
# "untouched") borrows what the model learned from the class's seen members ("previous", "original").
CONCEPTS = {
    "PREV": "previous prior earlier preceding former last",
    "ORIG": "original unedited untouched raw initial unmodified pristine unaltered untampered source",
    "UNDO": "undo revert reverse rollback rewind unapply retract",
    "REDO": "redo reapply reinstate undid undone",
    "NEG": "hate dislike regret ugly awful terrible bad worse wrong horrible ew eww yuck gross meh nope nah ugh yikes",
    "POS": "like love liked loved prefer preferred nicer rather",
    "FWD": "forward ahead onward",
    "AGAIN": "again another retry reroll regenerate variant variation alternative",
    "HELP": "help assist guide tutorial manual instructions docs documentation usage explain tips commands",
    "CONFUSED": "confused lost stuck clueless",
    "SEE": "show display view see look preview peek reveal",
    "SAVE": "export save download store",
    "FILE": "file png jpg jpeg ora openraster disk",
    "HIST": "history log timeline changelog versions progress recap summary",
    "BRANCH": "branch fork checkpoint bookmark",
    "ALL": "all everything every entire whole",
    "START": "start beginning scratch",
    "THANKS": "thanks thank thx ty cheers appreciate appreciated grateful",
    "GREET": "hi hello hey howdy greetings hiya",
    "EDIT": "edit edits change changes modification modifications adjustment tweak alteration",
}
_CONCEPT = {w: c for c, words in CONCEPTS.items() for w in words.split()}
_UNDO_WORDS = frozenset("undo undid undone undoing".split())


def normalize(text: str) -> str:
    """Return text in the form features are computed on: NFKC, lower case, plain quotes, single spaces.

    Args:
        text: the raw utterance.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Return the tokens of normalized text: words (with apostrophes), digit runs, punctuation marks.

    Version-id-like tokens (hex with a digit, e.g. "abc123") are merged into one token first.

    Args:
        text: normalized text (see `normalize`).
    """
    tokens: list[str] = []
    for chunk in text.split(" "):
        if _HEX_ID.match(chunk):
            tokens.append(chunk)
        else:
            tokens.extend(_TOKEN.findall(chunk))
    return tokens


def shape(token: str) -> str | None:
    """Return a coarse shape class for tokens whose identity matters less than their form.

    Args:
        token: one token.
    """
    if token.isdigit():
        return "<num>"
    if _HEX_ID.match(token):
        return "<hexid>"
    return None


def feature_strings(text: str) -> list[str]:
    """Return the feature strings of an utterance (with repeats; a repeat counts twice).

    Features: word unigrams (and shapes), word bigrams with sentence boundaries, skip-bigrams,
    punctuation marks, character 3-5-grams of each word padded with "<" and ">", the class of each
    word in `CONCEPTS` ("k:ORIG") and bigrams with classes in place of words ("kb:the ORIG"), and
    "k:UNDO_TWICE" when two undo words occur ("undo the undo", "un-undo": a redo).
    A leading forum tag like "[Specific]" is dropped.

    Args:
        text: the raw utterance.
    """
    norm = _TAG.sub("", normalize(text))
    tokens = tokenize(norm)
    words: list[str] = []
    feats: list[str] = []
    for tok in tokens:
        if tok[0].isalnum() or tok[0] == "'":
            kind = shape(tok)
            words.append(kind or tok)
            if kind:
                feats.append("u:" + kind)
            else:
                feats.append("u:" + tok)
                padded = f"<{tok}>"
                for n in CHAR_NGRAMS:
                    for i in range(len(padded) - n + 1):
                        feats.append("c:" + padded[i:i + n])
        else:
            feats.append("p:" + tok)
    seq = ["<s>"] + words + ["</s>"]
    for a, b in zip(seq, seq[1:]):
        feats.append(f"b:{a} {b}")
    for a, b in zip(seq, seq[2:]):
        feats.append(f"s:{a} {b}")
    classes = [_CONCEPT.get(w) for w in words]
    # "undo the undo", "undo what i undid", "un-undo": two undo words make a redo, which a bag of
    # words cannot see on its own.
    undos = sum(1 for w in words if w in _UNDO_WORDS) + sum(
        1 for a, b in zip(words, words[1:]) if a == "un" and b == "undo")
    if undos >= 2:
        feats.append("k:UNDO_TWICE")
    for cls in classes:
        if cls:
            feats.append("k:" + cls)
    kseq = ["<s>"] + [c or w for c, w in zip(classes, words)] + ["</s>"]
    for a, b in zip(kseq, kseq[1:]):
        if a.isupper() or b.isupper():
            feats.append(f"kb:{a} {b}")
    if not words:
        feats.append("e:nowords")
    return feats


def hash_feature(feature: str) -> int:
    """Return the 32-bit CRC of a feature string (stable across runs and platforms).

    Args:
        feature: a feature string.
    """
    return zlib.crc32(feature.encode("utf-8"))


def hashed_features(text: str) -> dict[int, float]:
    """Return {feature hash: weight}, L2-normalised, for an utterance (character n-grams weigh `CHAR_WEIGHT`).

    Args:
        text: the raw utterance.
    """
    counts: dict[int, float] = {}
    for feat in feature_strings(text):
        h = hash_feature(feat)
        counts[h] = counts.get(h, 0.0) + (CHAR_WEIGHT if feat.startswith("c:") else 1.0)
    norm = sum(v * v for v in counts.values()) ** 0.5 or 1.0
    return {h: v / norm for h, v in counts.items()}
