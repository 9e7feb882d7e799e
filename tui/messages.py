"""Errors in words for the chat and for `zone chat`'s one-line exit: what went wrong, what to do.

The remedy follows the failure's kind (`common.errors.error_kind`), never its class name or words.
"""

from __future__ import annotations

from common.errors import UserFacingError, error_kind

REMEDIES = {
    "weights": "run `zone models download`, or start with --engine tiny to try the app",
    "out_of_memory": "try a smaller photo or --device cpu",
    "input": "check the file and try another photo",
}
INTERNAL = "Something went wrong inside Zone (run with ZONE_DEBUG=1 to see the details)."


def friendly_error(exc: BaseException) -> str:
    """One line for the chat: what went wrong and what to do about it (never a class name)."""
    kind = error_kind(exc)
    text = " ".join(str(exc).split())
    if kind == "out_of_memory":
        return f"Out of memory{f' ({text})' if text else ''} — {REMEDIES[kind]}."
    if kind in REMEDIES:
        return f"{text} — {REMEDIES[kind]}."
    if text and (kind != "internal" or isinstance(exc, (UserFacingError, ValueError))):
        return text[:1].upper() + text[1:]
    return INTERNAL
