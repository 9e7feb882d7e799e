"""The one branch-name rule, used by storage, the chat parser, the TUI dialog and the CLI (no SQL imports).

A branch name starts with a letter or digit and continues with letters, digits, '.', '_', '-'
or '/' (so `feature/x` is one name), at most `MAX_BRANCH_NAME` characters; it is not `HEAD` and
contains no `..` and no `~` (those are ref syntax), and is not `v` and a number (`v3` names the
version numbered 3).
"""

from __future__ import annotations

import re
from typing import Optional

MAX_BRANCH_NAME = 100
BRANCH_NAME_CHARS = r"[A-Za-z0-9][A-Za-z0-9._/-]*"  # one name inside a sentence (the parser's view)
BRANCH_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._/-]{{0,{MAX_BRANCH_NAME - 1}}}$")
VERSION_NUMBER = re.compile(r"^[vV](\d{1,9})$")  # "v3": the version numbered 3 in its session, never a branch
BRANCH_NAME_HINT = (f"use letters, digits, '.', '_', '-' or '/', at most {MAX_BRANCH_NAME}; not HEAD and not "
                    "v and a number (that names a version)")


def branch_name_problem(name: Optional[str]) -> Optional[str]:
    """Why `name` is not a valid branch name, or None when it is.

    Args:
        name: a proposed branch name (not stripped: surrounding spaces make it invalid).
    """
    if not name:
        return "the branch name is empty"
    if name == "HEAD":
        return "HEAD is not a branch name"
    if not BRANCH_NAME.match(name) or ".." in name or "~" in name or name.endswith("/") or "//" in name:
        return f"bad branch name {name!r}: {BRANCH_NAME_HINT}"
    if VERSION_NUMBER.match(name):
        return f"bad branch name {name!r}: v and a number names a version"
    return None


def clean_branch_name(raw: str) -> str:
    """A name as typed in a sentence, without quotes and closing punctuation ("'feature/x'." -> "feature/x").

    Args:
        raw: the word after "called"/"named"/"as".
    """
    return raw.strip().strip("'\"").rstrip(".,;:!?)").strip("'\"")
