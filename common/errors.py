"""The one root of Zone's errors, their kinds, and the one-line formatter every layer uses.

Every error Zone raises for a user derives from `UserFacingError`: its message is a complete
one-line explanation. Each package keeps its own subclasses (engine.errors.ZoneError,
storage.errors.StorageError, common.safe_write.OutputError, the CLI's UserError); each class says
its `kind`, so code that reacts to a failure asks `error_kind(exc)` where it catches the
exception, once, and never reads the message or the class name.
"""

from __future__ import annotations

from typing import Literal, get_args

ErrorKind = Literal["cancelled", "input", "weights", "out_of_memory", "storage", "internal"]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
OUT_OF_MEMORY = "out of memory; try a smaller image or --device cpu"
INTERNAL = "an internal error stopped it (run with ZONE_DEBUG=1 to see the details)"


class UserFacingError(Exception):
    """Root of every error whose message is a complete one-line explanation for the user."""

    kind: ErrorKind = "input"


def error_kind(exc: BaseException) -> ErrorKind:
    """What kind of failure `exc` is: its class's `kind`, out_of_memory, or internal (a bug)."""
    if isinstance(exc, UserFacingError):
        return exc.kind
    if isinstance(exc, MemoryError):  # the engine turns the GPU's into DeviceOutOfMemoryError
        return "out_of_memory"
    if isinstance(exc, OSError):  # a file or a disk the system refused
        return "storage"
    return "internal"


def one_line(exc: BaseException) -> str:
    """The exception as one line for people: a user error (or a refused file) by its message, out of
    memory with the remedy, a bug as INTERNAL (no class names; the CLI adds the type itself)."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    kind = error_kind(exc)
    if isinstance(exc, (UserFacingError, OSError)):
        return msg
    if kind == "out_of_memory":
        return OUT_OF_MEMORY
    return INTERNAL
