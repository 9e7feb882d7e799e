"""Errors the storage package raises for users: each carries a one-line message (kind "storage")."""

from __future__ import annotations

from common.errors import UserFacingError


class StorageError(UserFacingError):
    """Base class of the history store's errors for users."""

    kind = "storage"


class NotFoundError(StorageError):
    """A session, version, branch or file that was asked for does not exist."""


class CorruptBlobError(StorageError):
    """A stored blob no longer matches its SHA-256 address (or cannot be decoded)."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer Zone whose schema this program does not know."""


class DatabaseError(StorageError):
    """The database cannot be opened or used (not a database, locked, unreachable, ...)."""


class DiskFullError(DatabaseError):
    """A write to the history database failed for lack of space; nothing committed is lost."""


class DamagedHistoryError(StorageError):
    """A session's version graph is inconsistent (a parent cycle or a missing parent)."""


class InvalidOperationError(StorageError):
    """The operation makes no sense in the current state (nothing to undo, branch exists, ...)."""
