"""The agent's one-sentence replies: what changed, where, and the version id; or a short question."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from common.text import short_id

HELP = (
    "Describe an edit ('make the sky purple', 'give the dog a hat', 'remove the car'), or say undo, "
    "redo, try again, 'red instead', go back to the start, branch here as NAME, go to version N, "
    "show the original/mask/layer/diff, history, or save it as final.png."
)

CLARIFY = {
    "empty": "What should I change? For example: 'make the sky purple'.",
    "too_long": "That is too long for one instruction; what is the one change you want, in a short sentence?",
    "not_english": "I only understand short English instructions; what should I change, e.g. 'make the tie blue'?",
    "unsupported": "I didn't understand that as an edit or a command; what should I change, e.g. 'remove the car'?",
    "unsure": "I'm not sure what you mean; could you rephrase it as an edit like 'add a hat to the man'?",
    "unresolved_reference": "What does 'it' refer to? Please name the object, e.g. 'make the hat bigger'.",
    "nothing_to_revise": "There is no edit to revise yet; what should I change?",
    "nothing_to_retry": "There is no edit to try again yet; what should I change?",
    "nothing_to_repeat": "There is no edit to repeat yet; what should I change?",
    "nothing_to_adjust": "There is no edit to make stronger or weaker yet; what should I change?",
    "empty_revision": "Instead of what? Tell me the new colour or object, e.g. 'red instead'.",
    "which_version": "Which version? Say e.g. 'go to version 2', 'switch to branch NAME' or 'checkout abc123'.",
    "not_an_edit": "That does not read as an edit; say what to change, e.g. 'make the tie blue'.",
}

# What the engine's notes (EditResult.warnings) mean for someone editing a photo, by the note's
# opening words (the engine's own wording, which it keeps stable); anything else gets GENERIC_NOTE.
ENGINE_NOTES: tuple[tuple[str, str], ...] = (
    ("the smoothed mask covered", "the edit covered almost the whole photo, so I kept it to the region I found"),
    ("the edge smoother found no visible change", "the edit barely changed anything around its region"),
    ("the edit could not be localized", "I could not tell where the edit belongs, so it may spread too far"),
    ("the rough edit mask was empty", "I placed the edit where the picture changed most"),
    ("the segmenter found no segments", "I could not outline an object there, so the edges may be rough"),
    ("no segment overlaps the rough mask", "I could not outline an object there, so the edges may be rough"),
    ("the best segment is smaller", "the object I found was very small, so I kept the rough region"),
    ("no region was edited", "nothing in the photo changed"),
)
GENERIC_NOTE = "the edit may not sit exactly where you meant; 'show the mask' shows where it went"


def short(version_id: Optional[str]) -> str:
    return short_id(version_id or "")


def label(number: Optional[int]) -> str:
    """A version's name for people: 'v3' (v0 is the original)."""
    return f"v{number}" if number is not None else "a new version"


def user_note(warning: str) -> str:
    """The engine's note `warning` in words for the user ('the edit covered almost the whole photo')."""
    text = " ".join(str(warning).split()).lower()
    for start, words in ENGINE_NOTES:
        if text.startswith(start):
            return words
    return GENERIC_NOTE


def where(mask: Optional[np.ndarray], offset: tuple[int, int] = (0, 0),
          full_size: Optional[tuple[int, int]] = None) -> str:
    """Where the mask lies, in words: "in the centre", "at the top left", "nowhere".

    Args:
        mask: [h, w] bool, the whole photo or a crop of it.
        offset: (top, left) of the crop in the photo.
        full_size: the photo's (H, W); None: the mask is the whole photo.
    """
    if mask is None or not mask.any():
        return "nowhere"
    h, w = full_size or mask.shape
    rows, cols = mask.sum(axis=1, dtype=np.int64), mask.sum(axis=0, dtype=np.int64)  # no index arrays
    total = float(rows.sum())
    cy = (float(rows @ np.arange(mask.shape[0])) / total + offset[0]) / h
    cx = (float(cols @ np.arange(mask.shape[1])) / total + offset[1]) / w
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else ""
    col = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else ""
    if not row and not col:
        return "in the centre"
    if row and col:
        return f"at the {row} {col}"
    return f"at the {row or col}"


def clarify(reason: str) -> str:
    return CLARIFY.get(reason, CLARIFY["unsure"])


def edited(results: Sequence[dict], meaningful: bool = True) -> str:
    """One sentence for the committed edits of a turn."""
    parts = []
    for r in results:
        what = f"'{r['instruction']}'"
        place = r.get("where", "")
        pct = f"{100 * float(r.get('mask_fraction', 0.0)):.0f}% of the photo"
        version = f"{label(r.get('number'))} ({short(r['version_id'])})"
        kind = r.get("kind", "new")
        if kind == "relative":
            parts.append(f"re-ran {what} {r.get('direction', 'again')} (text guidance {float(r['text_scale']):.1f}) "
                         f"({place}, {pct}) as a sibling: {version}")
        elif kind == "retry":
            parts.append(f"tried {what} again with seed {r['seed']} ({place}, {pct}) as a sibling: {version}")
        elif kind == "revise":
            base = "the original" if r.get("depth") == 1 else label(r.get("parent_number"))
            parts.append(f"revised it to {what} ({place}, {pct}) on a new branch from {base}: {version}")
        else:
            again = " again" if kind == "repeat" else ""
            parts.append(f"{what}{again} ({r.get('action', 'edit')}, {place}, {pct}) is {version}")
    sentence = "; ".join(parts)
    if results and results[0].get("kind", "new") in ("new", "repeat"):
        sentence = "Done: " + sentence
    sentence = sentence[:1].upper() + sentence[1:] + "."
    notes = [user_note(w) for r in results for w in r.get("warnings", [])]
    if results and all(float(r.get("mask_fraction", 0.0)) == 0.0 for r in results):
        sentence += " The edit changed nothing visible; try rephrasing or 'try again'."
    elif notes:
        sentence += f" Note: {notes[0]}."
    if not meaningful:
        sentence += " (tiny test engine: the pixels are meaningless)"
    return sentence


def failed(message: str, committed: int = 0, kind: Optional[str] = None) -> str:
    """The reply to an edit that raised or was cancelled: what happened and what to do.

    Args:
        kind: the failure's `common.errors.ErrorKind` ("cancelled", "weights", ...).
    """
    kept = f" ({committed} earlier edit{'s' if committed != 1 else ''} of this turn kept)" if committed else ""
    msg = message.rstrip(".")
    if kind == "cancelled":
        return f"Edit cancelled; nothing was committed{kept}."
    return f"The edit failed: {msg}; nothing else changed{kept}. Try rephrasing, or 'try again'."


def _version_words(v: dict) -> str:
    if not v:
        return "HEAD"
    if v.get("parent_id") is None:
        return f"the original, v0 ({short(v['id'])})"
    return f"{label(v.get('number'))} ({short(v['id'])}, '{v['instruction']}')"


def command(done: dict, error: Optional[str]) -> str:
    """One sentence for a history command (or its error)."""
    intent = done.get("intent", "")
    if error:
        msg = error.rstrip(".")
        return msg[:1].upper() + msg[1:] + "."
    here = _version_words(done.get("version", {}))
    if intent in ("undo", "redo"):
        moved = done.get("moved", [])
        verb = "Undid" if intent == "undo" else "Redid"
        what = ", ".join(f"'{m}'" for m in moved if m) or "one step"
        return f"{verb} {what}; now at {here}."
    if intent == "undo_all":
        return f"Back to the original photo ({short(done['version']['id'])}); every edit is still in the history, say redo to step forward."
    if intent == "checkout":
        branch = done.get("branch")
        on = f" on branch '{branch}'" if branch else ""
        return f"Switched to {here}{on}."
    if intent == "branch":
        return f"Created branch '{done['name']}' at {here}; new edits go there."
    if intent == "export":
        return f"Saved {_version_words(done.get('exported') or done.get('version', {}))} to {done['path']}."
    if intent == "history":
        log = done.get("log", [])
        steps = " > ".join(f"{label(v.get('number'))} '{v['instruction']}'" for v in log[1:]) or "no edits yet"
        return (f"{done.get('count', len(log))} versions in {len(done.get('branches', []))} branch(es); "
                f"this line: {steps}; HEAD at {here}.")
    if intent == "show":
        view = done.get("view", "result")
        shown = {"result": "the result", "original": "the original photo", "layer": "the layer",
                 "mask": "the mask", "diff": "the difference from the original"}.get(view, view)
        extra = f" ({100 * done['mask_fraction']:.0f}% of the photo)" if "mask_fraction" in done else ""
        return f"Showing {shown} of {here}{extra}."
    return f"Done; now at {here}."
