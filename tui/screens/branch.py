"""The branch dialog: a name for a new branch at the current version."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from agent.history_ops import BRANCH_NAME_HINT, branch_name_problem


def branch_error(name: str) -> str | None:
    """Why `name` is not a usable branch name (the storage rule, `storage.names`), or None."""
    name = name.strip()
    if not name:
        return "Type a name."
    if branch_name_problem(name):
        return BRANCH_NAME_HINT[:1].upper() + BRANCH_NAME_HINT[1:] + "."
    return None


class BranchScreen(ModalScreen[str | None]):
    """Asks for a branch name; dismisses with it, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, at: str) -> None:
        super().__init__()
        self.at = at

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"New branch at {self.at}", id="title")
            yield Input("", id="name", placeholder="branch name, e.g. blue-sky")
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Branch", id="branch", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "branch":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        name = self.query_one("#name", Input).value
        problem = branch_error(name)
        if problem:
            self.query_one("#error", Label).update(problem)
            return
        self.dismiss(name.strip())
