"""Errors the engine raises for users: each carries a one-line message."""

from __future__ import annotations


class ZoneError(Exception):
    """Base class: an error whose message is a complete one-line explanation for the user."""


class ZoneInputError(ZoneError):
    """The input (image file, instruction, parameters) cannot be used."""


class WeightsMissingError(ZoneError):
    """Model weights are not on this machine and cannot be downloaded now."""


class EditCancelled(ZoneError):
    """The caller cancelled the edit; nothing was produced."""


class DeviceOutOfMemoryError(ZoneError):
    """The device ran out of memory during an edit."""
