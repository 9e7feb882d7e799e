"""The conversation: user instructions, agent replies, errors and hints, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from common.text import printable

ROLES = ("user", "agent", "error", "system", "key")
_PREFIX = {"user": "you", "agent": "zone", "error": "!", "system": "", "key": "key"}
ECHO_LINES = 3  # what the user typed is echoed up to this many lines ...
ECHO_CHARS = 280  # ... and this many characters


def echo(text: str) -> str:
    """What the chat shows of a long input: its first lines, then how much was left out."""
    lines = text.splitlines() or [""]
    shown = "\n".join(lines[:ECHO_LINES])
    if len(shown) > ECHO_CHARS:
        shown = shown[:ECHO_CHARS].rstrip()
    left = len(text) - len(shown)
    if left <= 0 or shown == text:
        return text
    return f"{shown}… ({left} more characters)"


class ChatMessage(Horizontal):
    """One message: a role column (`you`, `zone`, `!`, ...) and the text, whose wrapped lines
    indent under the text (not under the role). The role is also a CSS class (`-user`, ...).

    Args:
        role: user, agent, error, system or key.
        text: the message; user and key input is shortened by `echo`.
    """

    def __init__(self, role: str, text: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown chat role {role!r}")
        super().__init__(classes=f"-{role}")
        self.role = role
        self.text = text
        self.shown = echo(text) if role in ("user", "key") else text

    def compose(self) -> ComposeResult:
        yield Static(Text(_PREFIX[self.role], style="bold"), classes="role")
        yield Static(Text(printable(self.shown, keep_newlines=True)), classes="body")  # escapes shown, not run


class ChatLog(VerticalScroll, can_focus=False):
    """A scrolling column of `ChatMessage`s that stays on the newest one, also across resizes,
    until the user scrolls up."""

    def on_mount(self) -> None:
        self.anchor()

    def add(self, role: str, text: str) -> ChatMessage:
        """Append a message and scroll it into view."""
        message = ChatMessage(role, text)
        self.mount(message)
        if not self.is_anchored:
            self.anchor()
        self.call_after_refresh(self.scroll_end, animate=False)
        return message

    def on_resize(self) -> None:
        if self.is_anchored:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    @property
    def messages(self) -> list[ChatMessage]:
        return list(self.query(ChatMessage))
