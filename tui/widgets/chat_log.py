"""The conversation: user instructions, agent replies, errors and hints, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from common.text import printable

ROLES = ("user", "agent", "error", "system", "key")
_PREFIX = {"user": "you  ", "agent": "zone ", "error": "  !  ", "system": "     ", "key": "key  "}


class ChatMessage(Static):
    """One message; its role is both a CSS class (`-user`, `-agent`, ...) and a prefix."""

    def __init__(self, role: str, text: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown chat role {role!r}")
        self.role = role
        self.text = text
        label = Text(_PREFIX[role], style="bold")
        label.append(printable(text, keep_newlines=True))  # escapes from names and paths are shown, not run
        super().__init__(label, classes=f"-{role}")


class ChatLog(VerticalScroll, can_focus=False):
    """A scrolling column of `ChatMessage`s that follows the newest one."""

    def add(self, role: str, text: str) -> ChatMessage:
        """Append a message and scroll it into view."""
        message = ChatMessage(role, text)
        self.mount(message)
        self.call_after_refresh(self.scroll_end, animate=False)
        return message

    @property
    def messages(self) -> list[ChatMessage]:
        return list(self.query(ChatMessage))
