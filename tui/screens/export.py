"""The export dialog: where to write the version and as what (PNG, JPEG or layered OpenRaster)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from common.text import printable
from tui.screens.confirm import ConfirmOverwriteScreen

FORMATS: tuple[tuple[str, str, str], ...] = (
    ("png", ".png", "PNG image"),
    ("jpg", ".jpg", "JPEG image"),
    ("ora", ".ora", "OpenRaster (layers)"),
)
SUFFIXES = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".ora": "ora"}


@dataclass(frozen=True)
class ExportChoice:
    """The dialog's answer: where to write, and whether the user agreed to replace that file."""

    path: Path
    overwrite: bool = False


def export_error(text: str) -> str | None:
    """Why `text` is not a usable export path, or None when it is (an existing file is asked about;
    a missing folder is refused with the chat's words: `agent.exports.missing_folder`)."""
    from agent.exports import missing_folder

    if not text.strip():
        return "Type a file name."
    path = Path(text.strip()).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        return "The name must end in .png, .jpg, .jpeg or .ora."
    missing = missing_folder(path)
    if missing:
        return missing
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if not stat.S_ISREG(mode):
        return f"{printable(path.name)} is not a regular file; Zone will not replace it."
    return None


def destination_folder(text: str) -> str:
    """The full folder `text` would be written in ('Folder: /home/me/photos')."""
    path = Path(text.strip() or ".").expanduser()
    return f"Folder: {printable(path.absolute().parent)}"


class FormatSet(RadioSet):
    """The format list: arrows move, Space picks, Enter picks and exports."""

    BINDINGS = [Binding("enter", "pick_and_export", "Export", show=False)]

    def action_pick_and_export(self) -> None:
        self.action_toggle_button()
        buttons = list(self.query(RadioButton))
        index = self._selected if self._selected is not None else 0
        if 0 <= index < len(buttons):
            key = (buttons[index].id or "fmt-png").removeprefix("fmt-")
            self.screen.use_format(key)  # type: ignore[attr-defined]
        self.screen._submit()  # type: ignore[attr-defined]


class ExportScreen(ModalScreen[ExportChoice | None]):
    """Asks for a path and a format; dismisses with an ExportChoice, or None when cancelled.

    An existing file is never replaced silently: the dialog asks "x.png exists: overwrite?"
    (`ConfirmOverwriteScreen`) and only a yes gives `overwrite=True`.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path, what: str = "HEAD") -> None:
        super().__init__()
        self.default = default
        self.what = what

    def compose(self) -> ComposeResult:
        fmt = SUFFIXES.get(self.default.suffix.lower(), "png")
        with Vertical(id="dialog"):
            yield Label(f"Export {self.what}", id="title")
            yield Input(str(self.default), id="path", placeholder="file name (.png, .jpg or .ora)")
            yield Label(destination_folder(str(self.default)), id="folder", markup=False)
            with FormatSet(id="format"):
                for key, suffix, label in FORMATS:
                    yield RadioButton(f"{label} {suffix}", value=key == fmt, id=f"fmt-{key}")
            yield Label("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Export", id="export", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.use_format((event.pressed.id or "fmt-png").removeprefix("fmt-"))

    def use_format(self, key: str) -> None:
        """Make the file name's suffix that of format `key` (png, jpg or ora)."""
        suffix = dict((k, s) for k, s, _ in FORMATS)[key]
        field = self.query_one("#path", Input)
        path = Path(field.value.strip() or self.default.name)
        if SUFFIXES.get(path.suffix.lower()) != key:
            field.value = str(path.with_suffix(suffix))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "path":
            self.query_one("#folder", Label).update(destination_folder(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "export":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#path", Input).value
        problem = export_error(text)
        if problem:
            self.query_one("#error", Label).update(problem)
            return
        path = Path(text.strip()).expanduser()
        if not path.exists():
            self.dismiss(ExportChoice(path))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(ExportChoice(path, overwrite=True))
            else:
                self.query_one("#error", Label).update(f"{printable(path.name)} exists; pick another name.")

        self.app.push_screen(ConfirmOverwriteScreen(path), answered)
