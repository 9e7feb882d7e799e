"""Generate the classifier's templated train and held-out JSONL files (deterministic).

Usage: python scripts/gen_classifier_data.py [--out agent/data] [--seed 7]

Templates, fillers and forum wrappers are each split by a stable hash: one in five goes to the
held-out side only (and `HELDOUT_ONLY_TEMPLATES` / `HELDOUT_ONLY_UNKNOWN` always go there), so
held-out utterances use phrasings (templates), objects and forum framings never seen in training
(politeness prefixes and suffixes are shared). Writes `classifier_train.jsonl` and
`classifier_heldout.jsonl`, one
`{"text", "intent", "action", "family"}` object per line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classifier_templates as T  # noqa: E402

HELD_OUT_MOD = 5
EDIT_COUNTS = {"train": 2600, "heldout": 700}      # per action
INTENT_COUNTS = {"train": 1000, "heldout": 300}     # per non-edit intent
UNKNOWN_COUNTS = {"train": 1800, "heldout": 400}
PER_TEMPLATE_CAP = {"train": 10**9, "heldout": 15}  # held-out: many templates, few copies of each
NON_IMPERATIVE = ("{", "i ", "i'd", "what", "there", "it ", "could", "can ", "is ", "no ", "the ")
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def is_held_out(key: str) -> bool:
    """Return whether a template, filler or wrapper belongs to the held-out side.

    Args:
        key: the string that is split (its CRC32 decides, so the split is stable).
    """
    return zlib.crc32(key.encode("utf-8")) % HELD_OUT_MOD == 0


def split_list(items: list[str], side: str) -> list[str]:
    """Return the items of one side of the split (all items if that side would be empty).

    Args:
        items: strings to split.
        side: "train" or "heldout".
    """
    chosen = [x for x in items if is_held_out(x) == (side == "heldout")]
    return chosen or list(items)


def add_typo(text: str, rng: random.Random) -> str:
    """Return text with one realistic typo (swap, drop, double or neighbour key) in a long word.

    Args:
        text: the utterance.
        rng: the random source.
    """
    words = text.split(" ")
    long_idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long_idx:
        return text
    i = rng.choice(long_idx)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    elif kind == 2:
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j] + rng.choice(KEYBOARD) + w[j + 1:]
    words[i] = w
    return " ".join(words)


def fill(template: str, fillers: dict[str, list[str]], rng: random.Random) -> str:
    """Return the template with every {slot} replaced by a random filler of that slot.

    Args:
        template: a template string from classifier_templates.
        fillers: slot name -> candidate strings.
        rng: the random source.
    """
    text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(fillers[m.group(1)]), template)
    return re.sub(r"\s+", " ", text).strip()


def style(text: str, rng: random.Random) -> str:
    """Return text in a random casing (lower, sentence or capitalised words).

    Args:
        text: the utterance.
        rng: the random source.
    """
    r = rng.random()
    if r < 0.3:
        return text[:1].upper() + text[1:]
    if r < 0.35:
        return text.upper()
    return text


class Generator:
    """Produces utterances for one side of the split from the templates module."""

    def __init__(self, side: str, seed: int):
        """Create a generator.

        Args:
            side: "train" or "heldout".
            seed: random seed (the side is mixed into it).
        """
        self.side = side
        self.rng = random.Random(f"{seed}-{side}")
        self.fillers = {k: split_list(v, side) for k, v in T.FILLERS.items()}
        self.fillers["n"] = [str(i) for i in range(1, 30)]
        # Politeness wrappers are shared (they are not the phrasing under test); forum ones are split.
        self.prefixes = T.PREFIXES
        self.suffixes = T.SUFFIXES
        self.forum = split_list(T.FORUM_WRAPPERS, side)
        self.simple_prefixes = T.SIMPLE_PREFIXES
        self.simple_suffixes = T.SIMPLE_SUFFIXES
        self.terse_prefixes = T.COMMAND_TERSE_PREFIXES
        self.extra_suffixes = T.COMMAND_EXTRA_SUFFIXES

    def random_id(self) -> str:
        """Return a random hexadecimal version id of 4 to 12 characters."""
        n = self.rng.randrange(4, 13)
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def edit(self, template: str) -> str:
        """Return one edit utterance from a template, with wrappers and maybe a typo.

        Args:
            template: an edit template.
        """
        rng = self.rng
        text = fill(template, self.fillers, rng)
        if not template.startswith(NON_IMPERATIVE):
            text = rng.choice(self.prefixes) + text
        text = text + rng.choice(self.suffixes)
        if rng.random() < 0.15:
            text = add_typo(text, rng)
        if rng.random() < 0.1:
            text = add_typo(text, rng)
        text = style(text, rng)
        if rng.random() < 0.12:
            text = rng.choice(self.forum).replace("{u}", text)
        return text

    def command(self, template: str) -> str:
        """Return one non-edit utterance from a template, with light wrappers and maybe a typo.

        Args:
            template: a non-edit template.
        """
        rng = self.rng
        fillers = dict(self.fillers, id=[self.random_id()])
        text = fill(template, fillers, rng)
        r = rng.random()
        if r < 0.15:  # terse chat: "nah undo", "hmm, try again"
            text = rng.choice(self.terse_prefixes) + text
        elif len(text.split()) > 1 and not template.startswith(NON_IMPERATIVE):
            text = rng.choice(self.simple_prefixes) + text
        if rng.random() < 0.2:
            text = text + rng.choice(self.extra_suffixes)
        else:
            text = text + rng.choice(self.simple_suffixes)
        if rng.random() < 0.15:
            text = add_typo(text, rng)
        if rng.random() < 0.1:  # no punctuation, as typed in a hurry
            text = text.rstrip("?!. ") or text
        return style(text, rng)

    def nonsense(self) -> str:
        """Return a keyboard mash, word salad, digits or symbols."""
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            return "".join(rng.choice(KEYBOARD) for _ in range(rng.randrange(3, 15)))
        if kind == 1:
            return " ".join(rng.choice(T.NONSENSE_WORDS) for _ in range(rng.randrange(1, 6)))
        if kind == 2:
            return " ".join(str(rng.randrange(10 ** rng.randrange(1, 6))) for _ in range(rng.randrange(1, 4)))
        return "".join(rng.choice("!?.,;:-_*#@$%&()[]") for _ in range(rng.randrange(1, 8)))

    def unknown(self) -> str:
        """Return one utterance that is not a command (chit-chat, foreign, nonsense)."""
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            pool = split_list(T.UNKNOWN, self.side)
            if self.side == "heldout":
                pool = pool + T.HELDOUT_ONLY_UNKNOWN
            text = rng.choice(pool)
            return style(text + rng.choice(self.simple_suffixes), rng)
        if r < 0.55:  # code, URLs, numbers, emoji
            return rng.choice(split_list(T.UNKNOWN_SNIPPETS, self.side))
        if r < 0.75:
            return rng.choice(split_list(T.FOREIGN, self.side))
        return self.nonsense()


def generate(side: str, seed: int, exclude: set[str] = frozenset()) -> list[dict]:
    """Return the deduplicated labelled rows of one side of the split.

    Args:
        side: "train" or "heldout".
        seed: random seed.
        exclude: lower-cased texts never to emit (the training texts, for the held-out side).
    """
    gen = Generator(side, seed)
    rows: dict[str, dict] = {key: {} for key in exclude}
    per_family: dict[str, int] = {}
    cap = PER_TEMPLATE_CAP[side]

    def emit(text: str, intent: str, action: str | None, family: str, budget: int) -> None:
        key = text.strip().lower()
        used = per_family.get(family, 0)
        if key and key not in rows and len(rows) - len(exclude) < budget and (used < cap or family == "unknown"):
            rows[key] = {"text": text, "intent": intent, "action": action, "family": family}
            per_family[family] = used + 1

    total = 0
    for action, templates in (("remove", T.REMOVE), ("add", T.ADD), ("change", T.CHANGE)):
        mine = split_list(templates, side)
        total += EDIT_COUNTS[side]
        for _ in range(EDIT_COUNTS[side] * 3):
            template = gen.rng.choice(mine)
            emit(gen.edit(template), "edit", action, template, total)
    for intent, templates in T.INTENT_TEMPLATES.items():
        mine = split_list(templates, side)
        if side == "heldout":
            mine = mine + T.HELDOUT_ONLY_TEMPLATES.get(intent, [])
        total += INTENT_COUNTS[side]
        for _ in range(INTENT_COUNTS[side] * 6):
            template = gen.rng.choice(mine)
            emit(gen.command(template), intent, None, template, total)
    total += UNKNOWN_COUNTS[side]
    for _ in range(UNKNOWN_COUNTS[side] * 4):
        emit(gen.unknown(), "unknown", None, "unknown", total)
    return [row for row in rows.values() if row]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as JSON lines (UTF-8, keys in a fixed order).

    Args:
        path: destination file.
        rows: the labelled rows.
    """
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Generate both files; print their sizes per label."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "agent" / "data"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--handwritten", default=str(Path(__file__).resolve().parent.parent / "agent" / "data"
                                                     / "classifier_handwritten.jsonl"),
                        help="hand-written training rows the held-out side must not repeat")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    handwritten = Path(args.handwritten)
    if handwritten.exists():
        with handwritten.open(encoding="utf-8") as fh:
            seen |= {json.loads(line)["text"].strip().lower() for line in fh if line.strip()}
    for side in ("train", "heldout"):
        rows = generate(side, args.seed, exclude=seen)
        seen |= {row["text"].strip().lower() for row in rows}
        write_jsonl(out / f"classifier_{side}.jsonl", rows)
        counts: dict[str, int] = {}
        for row in rows:
            label = row["action"] or row["intent"]
            counts[label] = counts.get(label, 0) + 1
        print(side, len(rows), dict(sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
