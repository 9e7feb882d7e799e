"""The overwrite question: "x.png exists: overwrite?" (Overwrite / Cancel; y / n / Esc)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from common.text import printable


def overwrite_question(path: Path) -> str:
    """The question for an existing file, its name shown escaped."""
    return f"{printable(path.name)} exists: overwrite?"


class ConfirmOverwriteScreen(ModalScreen[bool]):
    """Asks whether to replace an existing file; dismisses with True only on an explicit yes."""

    BINDINGS = [Binding("escape", "answer(False)", "Cancel"), Binding("n", "answer(False)", "No", show=False),
                Binding("y", "answer(True)", "Yes", show=False)]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(overwrite_question(self.path), id="title", markup=False)
            yield Label(printable(self.path.parent), id="where", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Overwrite", id="overwrite", variant="warning")
                yield Button("Cancel", id="cancel", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "overwrite")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(bool(yes))
