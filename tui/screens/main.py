"""The main screen: chat on the left, the picture and the history tree beside it."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Tree
from textual.worker import get_current_worker

from common.text import printable
from tui.widgets.chat_log import ChatLog
from tui.widgets.edit_progress import EditProgress
from tui.widgets.history_tree import HistoryTree
from tui.widgets.image_pane import VIEW_NAMES, ImagePane, to_pil
from tui.widgets.layers_panel import LayersPanel

HINT = "Type what to change, e.g. “make the sky pink”, and press Enter. F1 shows every key."
BUSY = "Still working on the last instruction: wait for it, or press Esc to cancel it."


def friendly_error(exc: BaseException) -> str:
    """One line for the chat: what went wrong and what to do about it."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name == "WeightsMissingError":
        return f"{text} — run `zone models download`, or start with --engine tiny to try the app."
    if name in ("DeviceOutOfMemoryError", "MemoryError", "OutOfMemoryError"):
        return f"Out of memory ({text}) — try a smaller photo or --device cpu."
    if name == "ZoneInputError":
        return f"{text} — check the file and try another photo."
    if isinstance(exc, (OSError, ValueError)) or name.endswith("Error") and "Zone" in name:
        return text
    return f"{name}: {text}"


class MainScreen(Screen[None]):
    """One session: every action goes through `service.handle`, like a typed instruction."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    BINDINGS = [
        Binding("ctrl+z", "undo", "Undo", tooltip="Undo the last edit (same as typing 'undo')", priority=True),
        Binding("ctrl+y", "redo", "Redo", tooltip="Redo the undone edit (same as typing 'redo')", priority=True),
        Binding("ctrl+b", "branch", "Branch", tooltip="Name a branch at HEAD", priority=True),
        Binding("ctrl+o", "checkout", "Checkout", tooltip="Make the version selected in the history HEAD",
                priority=True),
        Binding("ctrl+s", "export", "Export", tooltip="Export the selected version (PNG, JPEG, layered .ora)",
                priority=True),
        Binding("f2", "next_view", "View", tooltip="Next view: result, original, layer, mask, diff", priority=True),
        Binding("f3", "view('result')", "Result", show=False, tooltip="Show the result", priority=True),
        Binding("f4", "view('original')", "Original", show=False, tooltip="Show the original", priority=True),
        Binding("f5", "view('layer')", "Layer", show=False, tooltip="Show the edit's layer", priority=True),
        Binding("f6", "view('mask')", "Mask", show=False, tooltip="Show the edit's mask", priority=True),
        Binding("f7", "view('diff')", "Diff", show=False, tooltip="Show the difference to the original",
                priority=True),
        Binding("ctrl+t", "focus_history", "History", show=False, tooltip="Move focus to the history tree / chat",
                priority=True),
        Binding("escape", "cancel", "Cancel", tooltip="Cancel the running edit (nothing is committed)"),
        Binding("f1", "help", "Help", tooltip="This help", priority=True),
        Binding("ctrl+q", "app.quit", "Quit", tooltip="Quit (the history is saved)", priority=True),
    ]

    def __init__(self, *, renderer: str | None = None) -> None:
        super().__init__()
        self.renderer = renderer
        self.service: Any = None
        self.session: Any = None
        self.busy = False
        self.versions: dict[str, Any] = {}
        self.head_id: str | None = None
        self._cancel = threading.Event()
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._shown: tuple[str, str] | None = None
        self.point: tuple[int, int] | None = None  # the image pixel pointed at, for "edit only here"

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="chat-pane"):
            yield ChatLog(id="chat")
            yield EditProgress(id="progress")
            yield Input(placeholder="Describe an edit, or say undo / redo / show the mask …", id="prompt")
        yield ImagePane(self.renderer, id="image-pane")
        with Vertical(id="history-pane"):
            yield HistoryTree(id="history")
            yield Button("Checkout", id="checkout-button", compact=True)
            yield LayersPanel(id="layers")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#chat-pane").border_title = "Chat"
        self.query_one("#image-pane").border_title = "Photo"
        self.query_one("#history-pane").border_title = "History"
        self.query_one("#prompt", Input).focus()
        self.chat.add("system", HINT)

    @property
    def chat(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    @property
    def pane(self) -> ImagePane:
        return self.query_one("#image-pane", ImagePane)

    @property
    def tree(self) -> HistoryTree:
        return self.query_one("#history", HistoryTree)

    @property
    def progress(self) -> EditProgress:
        return self.query_one("#progress", EditProgress)

    # ------------------------------------------------------------------ session

    def attach(self, service: Any, session: Any, *, replay: bool = True) -> None:
        """Show `session` (called by the app once the service opened it)."""
        self.service = service
        self.session = session
        self._cache.clear()
        self.sub_title = session.name
        self.app.sub_title = session.name
        self.pane.border_title = f"Photo · {session.name} · {session.width}×{session.height}"
        self.pane.photo_size, self.pane.point, self.point = (session.width, session.height), None, None
        self._load_history(replay=replay)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load_history(self, replay: bool = False) -> None:
        versions = self.service.history(self.session.id)
        messages = self.service.messages(self.session.id) if replay else []
        stack = getattr(getattr(self.service, "store", None), "layer_stack", None)
        layers = stack(self.session.id) if callable(stack) else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_history, versions, messages, replay)
            self.app.call_from_thread(self.query_one("#layers", LayersPanel).show_layers, layers)

    def on_layers_panel_request(self, event: LayersPanel.Request) -> None:
        event.stop()
        self.run_turn(event.text, role="key")

    def on_image_pane_pointed(self, event: ImagePane.Pointed) -> None:
        self.point = (event.x, event.y)
        self.chat.add("system", f"Pointed at {event.x},{event.y}: say “edit only here” to cut the last edit to the "
                                "segment there.")

    def _show_history(self, versions: list[Any], messages: list[Any], replay: bool = False) -> None:
        for message in messages:
            self.chat.add("user" if message.role == "user" else "agent", message.text)
        self.versions = {v.id: v for v in versions}
        self.head_id = next((v.id for v in versions if v.is_head), None)
        self.tree.show_versions(versions)
        if replay:
            head = self.tree.numbers.get(self.head_id or "", 0)
            self.chat.add("system", f"Resumed “{self.session.name}”: {len(versions)} versions, HEAD is v{head}.")
        if self.head_id:
            self._request_view(self.head_id)
        self.refresh_bindings()

    # ------------------------------------------------------------------ the picture

    @property
    def shown_id(self) -> str | None:
        """The version the image pane shows: the one selected in the history, else HEAD."""
        return self.tree.selected_id or self.head_id

    def _request_view(self, version_id: str | None = None) -> None:
        version_id = version_id or self.shown_id
        if version_id is None or self.service is None:
            return
        key = (version_id, self.pane.view)
        if key in self._cache:
            self._display(key, self._cache[key])
        else:
            self._load_view(version_id, self.pane.view)

    @work(thread=True, exclusive=True, group="view", exit_on_error=False)
    def _load_view(self, version_id: str, view: str) -> None:
        try:
            image = to_pil(self.service.view(self.session.id, view, version_id))
        except Exception as exc:  # noqa: BLE001 - a broken blob must not end the app
            self.app.call_from_thread(self.chat.add, "error", f"Cannot show {view}: {friendly_error(exc)}")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._store_and_display, (version_id, view), image)

    def _store_and_display(self, key: tuple[str, str], image: Any) -> None:
        self._cache[key] = image
        while len(self._cache) > 24:
            self._cache.popitem(last=False)
        if key == (self.shown_id, self.pane.view):
            self._display(key, image)

    def _display(self, key: tuple[str, str], image: Any) -> None:
        version_id, view = key
        version = self.versions.get(version_id)
        number = self.tree.numbers.get(version_id, 0)
        what = (version.instruction if version is not None and version.parent_id else "") or "original"
        where = "HEAD" if version_id == self.head_id else "preview · Ctrl+O checks it out"
        self._shown = key
        self.pane.show(image, f"v{number} {version_id[:8]} · {what} · {view} · {where}")

    def on_image_pane_view_changed(self, event: ImagePane.ViewChanged) -> None:
        self._request_view()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            self._request_view(event.node.data)

    # ------------------------------------------------------------------ turns

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        if self.run_turn(text):
            event.input.value = ""

    def run_turn(self, text: str, *, role: str = "user", command: dict | None = None) -> bool:
        """Send `text` (or, from a key or dialog, the typed `command` shown as `text`) to the agent in a worker.

        Returns False (and a note) when that cannot happen now.
        """
        if self.service is None or self.session is None:
            self.chat.add("error", "No photo is open yet: wait a moment, or start with `zone chat PHOTO`.")
            return False
        if self.busy:
            self.chat.add("system", BUSY)
            return False
        self.chat.add(role, text)
        self.busy = True
        self._cancel.clear()
        self.progress.start()
        self.refresh_bindings()
        self._turn(text, command)
        return True

    def _report(self, event: Any) -> None:
        """Engine progress, called on the worker thread."""
        self.progress.post_message(
            EditProgress.Report(event.stage, event.step, event.total, getattr(event, "message", ""))
        )

    @work(thread=True, group="turn", exit_on_error=False)
    def _turn(self, text: str, command: dict | None = None) -> None:
        try:
            kwargs: dict = {"command": command} if command is not None else {}
            if self.point is not None:
                kwargs["point"] = self.point
            result = self.service.handle(self.session.id, text, progress=self._report, cancel=self._cancel.is_set,
                                         **kwargs)
        except Exception as exc:  # noqa: BLE001 - the app keeps running; the chat says what happened
            self.app.call_from_thread(self._turn_failed, exc)
            return
        self.app.call_from_thread(self._turn_done, result)

    def _turn_done(self, result: Any) -> None:
        self._finish_turn()
        error = getattr(result, "error", None)
        reply = getattr(result, "reply", "") or ""
        if error and "cancel" in str(error).lower():
            self.chat.add("system", "Edit cancelled; nothing was committed.")
        elif error:
            # The agent's reply usually quotes the error and says what to do; show it once.
            self.chat.add("error", reply if str(error) in reply else f"{error}. {reply}".strip())
        elif reply:
            self.chat.add("agent", reply)
        view = getattr(result, "view", None)
        if view in VIEW_NAMES:
            self.pane.set_view(view)
        existing = getattr(result, "overwrite", None)
        if existing and result.head_id:  # "save it as x.png" and x.png exists: ask, as the dialog does
            self.ask_overwrite(result.head_id, Path(existing).absolute())
        self._load_history()

    def _turn_failed(self, exc: BaseException) -> None:
        self._finish_turn()
        if type(exc).__name__ == "EditCancelled":
            self.chat.add("system", "Edit cancelled; nothing was committed.")
        else:
            self.chat.add("error", friendly_error(exc))
        self._load_history()

    def _finish_turn(self) -> None:
        self.busy = False
        self.progress.finish()
        self.refresh_bindings()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.busy
        if action in ("undo", "redo", "branch", "checkout", "export"):
            return None if self.busy or self.session is None else True
        return True

    def action_undo(self) -> None:
        self.run_turn("undo", role="key", command={"intent": "undo", "count": 1})

    def action_redo(self) -> None:
        self.run_turn("redo", role="key", command={"intent": "redo", "count": 1})

    def action_branch(self) -> None:
        if self.session is None or self.busy:
            return
        from tui.screens.branch import BranchScreen  # dialogs load on first use: a faster first frame

        at = f"v{self.tree.numbers.get(self.head_id or '', 0)} {(self.head_id or '')[:8]}"

        def named(name: str | None) -> None:
            if name:
                self.run_turn(f"branch here as {name}", role="key", command={"intent": "branch", "name": name})

        self.app.push_screen(BranchScreen(at), named)

    def action_checkout(self) -> None:
        target = self.tree.selected_id
        if self.session is None or self.busy or target is None:
            return
        if target == self.head_id:
            self.chat.add("system", "That version is already HEAD; pick another one in the history.")
            return
        self.run_turn(f"checkout {target[:8]}", role="key", command={"intent": "checkout", "ref": target})

    def action_export(self) -> None:
        if self.session is None or self.busy:
            return
        from tui.screens.export import ExportScreen

        version_id = self.shown_id or ""
        stem = re.sub(r"[^\w.-]+", "_", Path(self.session.name).stem) or "zone"
        default = Path(f"{stem}-{version_id[:8]}.png")  # relative: written in the current folder
        what = "HEAD" if version_id == self.head_id else f"v{self.tree.numbers.get(version_id, 0)} {version_id[:8]}"

        def chosen(choice: Any) -> None:
            if choice is not None:
                self._export(version_id, choice.path.absolute(), choice.overwrite)

        self.app.push_screen(ExportScreen(default, what), chosen)

    def ask_overwrite(self, version_id: str, path: Path) -> None:
        """Ask "x.png exists: overwrite?" and export `version_id` over it only on a yes."""
        from tui.screens.confirm import ConfirmOverwriteScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._export(version_id, path, True)
            else:
                self.chat.add("system", f"Kept the existing {printable(path.name)}; nothing was written.")

        self.app.push_screen(ConfirmOverwriteScreen(path), answered)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, version_id: str, path: Path, overwrite: bool = False) -> None:
        """Write the version through the store (a dialog's path needs no language understanding)."""
        try:
            written = self.service.export(self.session.id, version_id, path, force=overwrite)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.chat.add, "error", f"Export failed: {friendly_error(exc)}")
            return
        self.app.call_from_thread(self.chat.add, "agent", f"Exported {version_id[:8]} to {printable(written)}.")

    def action_next_view(self) -> None:
        self.pane.next_view()

    def action_view(self, view: str) -> None:
        self.pane.set_view(view)

    def action_cancel(self) -> None:
        if self.busy:
            self._cancel.set()
            self.progress.cancelling()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen([b for b in self.BINDINGS if isinstance(b, Binding)]))

    def action_focus_history(self) -> None:
        if self.tree.has_focus:
            self.query_one("#prompt", Input).focus()
        else:
            self.tree.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "checkout-button":
            event.stop()
            self.action_checkout()

    def on_unmount(self) -> None:
        self._cancel.set()
