"""Errors in words for the chat and for `zone chat`'s one-line exit: what went wrong, what to do."""

from __future__ import annotations


def friendly_error(exc: BaseException) -> str:
    """One line for the chat: what went wrong and what to do about it (never a class name)."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if name == "WeightsMissingError":
        return f"{text} — run `zone models download`, or start with --engine tiny to try the app."
    if name in ("DeviceOutOfMemoryError", "MemoryError", "OutOfMemoryError"):
        return f"Out of memory{f' ({text})' if text else ''} — try a smaller photo or --device cpu."
    if name == "ZoneInputError":
        return f"{text} — check the file and try another photo."
    if text and (isinstance(exc, (OSError, ValueError)) or _is_user_error(exc)):
        return text[:1].upper() + text[1:]
    return "Something went wrong inside Zone (run with ZONE_DEBUG=1 to see the details)."


def _is_user_error(exc: BaseException) -> bool:
    """True for the engine's and the store's own errors, whose messages are written for people."""
    return any(cls.__name__ in ("ZoneError", "StorageError") for cls in type(exc).__mro__)
