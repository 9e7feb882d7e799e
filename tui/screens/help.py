"""The help screen: every key and what the mouse does, built from the main screen's bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

MOUSE = (
    ("Footer keys", "click any key in the footer to run it"),
    ("View tabs", "click Result, Original, Layer, Mask or Diff"),
    ("History", "click a version, or move with the arrows and press Enter, to preview it; "
                "Ctrl+O or Checkout makes it HEAD; typing goes to the chat"),
    ("Chat", "scroll with the wheel; click the input line to type"),
)
CHAT = (
    ("make the sky pink", "an edit: a new version on top of HEAD"),
    ("undo / redo", "the same as the keys"),
    ("red instead / try again", "revise or re-roll the last edit"),
    ("branch here as NAME", "name the current version"),
    ("go to version 2", "check out v2, the number the history shows"),
    ("show the mask", "switch the view"),
    ("save it as final.png", "export (.png, .jpg, .ora)"),
)


def key_name(keys: str) -> str:
    """'ctrl+z' -> 'Ctrl+Z', 'f1' -> 'F1', 'escape' -> 'Esc'; alternatives joined with ' / '."""
    names = []
    for key in keys.split(","):
        parts = [{"ctrl": "Ctrl", "escape": "Esc", "shift": "Shift"}.get(p, p.upper() if len(p) <= 3 else p)
                 for p in key.strip().split("+")]
        names.append("+".join(parts))
    return " / ".join(names)


class HelpScreen(ModalScreen[None]):
    """Lists the bindings it is given, the mouse actions and example chat commands."""

    BINDINGS = [
        Binding("escape,f1,q", "dismiss(None)", "Close"),
    ]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.key_bindings = [b for b in bindings if b.description]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for binding in self.key_bindings:
            keys.add_row(key_name(binding.key), binding.tooltip or binding.description)
        mouse = Table.grid(padding=(0, 2))
        mouse.add_column(style="bold cyan", no_wrap=True)
        mouse.add_column()
        for what, how in MOUSE:
            mouse.add_row(what, how)
        chat = Table.grid(padding=(0, 2))
        chat.add_column(style="bold cyan", no_wrap=True)
        chat.add_column()
        for said, does in CHAT:
            chat.add_row(f"“{said}”", does)
        with Vertical(id="dialog"):
            yield Static(Text("Zone help", style="bold"), id="title")
            with VerticalScroll(id="body"):
                yield Static(Text("Keys", style="bold underline"))
                yield Static(keys, id="keys")
                yield Static(Text("Mouse", style="bold underline"), classes="section")
                yield Static(mouse)
                yield Static(Text("Say it in the chat", style="bold underline"), classes="section")
                yield Static(chat)
            yield Button("Close (Esc)", id="close", variant="primary", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
