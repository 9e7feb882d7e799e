"""Where an export may go: the one check the chat ("save it as x.png") and the export dialog share."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from common.text import printable


def missing_folder(path: str | Path) -> Optional[str]:
    """Why `path` cannot be written because of its folder ("No such folder: /x"), or None.

    Zone never creates folders the user did not ask for: a missing folder is refused, in the
    chat and in the dialog alike, with this same message.

    Args:
        path: the destination file; a relative path counts from the current folder.
    """
    parent = Path(path).expanduser().parent
    folder = parent if str(parent) else Path(".")
    if folder.is_dir():
        return None
    if folder.exists():
        return f"Not a folder: {printable(folder)}"
    return f"No such folder: {printable(folder)}"
