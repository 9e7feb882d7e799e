"""The session picker of a bare `zone chat`: recent sessions with a thumbnail, or a photo path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ListItem, ListView

from common.text import printable, short_id


@dataclass(frozen=True)
class SessionEntry:
    """What the picker shows of one session."""

    id: str
    name: str
    versions: int
    last_instruction: str
    when: str
    thumbnail: Any = None  # PIL image or None


@dataclass(frozen=True)
class Choice:
    """The picker's answer: a session id to resume, or a photo to open."""

    session_id: str | None = None
    image: Path | None = None


class SessionItem(ListItem):
    """One row: thumbnail, name, versions, last instruction."""

    def __init__(self, entry: SessionEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        from textual_image.widget import HalfcellImage

        with Horizontal():
            yield HalfcellImage(self.entry.thumbnail, classes="thumb")
            with Vertical():
                yield Label(printable(self.entry.name), classes="name", markup=False)
                last = printable(self.entry.last_instruction or "no edits yet")
                yield Label(f"{self.entry.versions} versions · last: {last}", classes="last", markup=False)
                yield Label(f"{short_id(self.entry.id)} · {self.entry.when}", classes="when")


class SessionPickerScreen(ModalScreen[Choice | None]):
    """Pick a recent session (Enter or click) or type a photo's path; Esc quits."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Quit")]

    def __init__(self, entries: list[SessionEntry]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            if self.entries:
                yield Label("Pick a session (Enter or click), or type a photo's path below. Esc quits.", id="title")
                yield ListView(*(SessionItem(e) for e in self.entries), id="sessions")
            else:
                yield Label("No sessions yet: type the path of a photo to edit. Esc quits.", id="title")
            yield Input(placeholder="path/to/photo.jpg", id="path")
            yield Label("", id="error")

    def on_mount(self) -> None:
        if self.entries:
            self.query_one("#sessions", ListView).focus()
        else:
            self.query_one("#path", Input).focus()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, SessionItem):
            self.dismiss(Choice(session_id=event.item.entry.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            return
        if not path.is_file():
            self.query_one("#error", Label).update(f"No such file: {path}")
            return
        self.dismiss(Choice(image=path))
