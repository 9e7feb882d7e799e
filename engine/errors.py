"""Errors the engine raises for users: each carries a one-line message and its kind (common.errors)."""

from __future__ import annotations

from common.errors import UserFacingError


class ZoneError(UserFacingError):
    """Base class of the engine's (and the agent's) errors for users."""


class ZoneInputError(ZoneError):
    """The input (image file, instruction, parameters) cannot be used."""

    kind = "input"


class WeightsMissingError(ZoneError):
    """Model weights are not on this machine and cannot be downloaded now."""

    kind = "weights"


class EditCancelled(ZoneError):
    """The caller cancelled the edit; nothing was produced."""

    kind = "cancelled"


class DeviceOutOfMemoryError(ZoneError):
    """The device ran out of memory during an edit."""

    kind = "out_of_memory"
