"""The main screen: chat on the left, the picture and the history tree beside it."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Tree
from textual.worker import get_current_worker

from agent.state import TurnResult
from common.text import printable, short_id
from tui.messages import friendly_error
from tui.widgets.chat_log import ChatLog
from tui.widgets.edit_progress import EditProgress
from tui.widgets.history_tree import HistoryTree
from tui.widgets.image_pane import VIEW_NAMES, ImagePane, to_pil
from tui.widgets.layers_panel import LayersPanel

if TYPE_CHECKING:
    from agent.service import ZoneService

HINT = "Type what to change, e.g. “make the sky pink”, and press Enter. F1 shows every key."
BUSY = "Still working on the last instruction: wait for it, or press Esc to cancel it."
QUEUED = "The photo is still opening; this runs as soon as it is ready."
POLL_S = 2.0  # how often an idle app looks for HEAD moved by another process


class MainScreen(Screen[None]):
    """One session: every action goes through `service.handle`, like a typed instruction."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (160, "-xwide")]
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
        Binding("ctrl+q", "quit", "Quit", tooltip="Quit at once (the history is saved; a running edit is dropped)",
                priority=True),
    ]

    def __init__(self, *, renderer: str | None = None) -> None:
        super().__init__()
        self.renderer = renderer
        self.service: Optional[ZoneService] = None
        self.session: Any = None
        self.busy = False
        self.versions: dict[str, Any] = {}
        self.head_id: str | None = None
        self._cancel = threading.Event()
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._shown: tuple[str, str] | None = None
        self.point: tuple[int, int] | None = None  # the image pixel pointed at, for "edit only here"
        self._queue: list[tuple[str, str, dict | None]] = []  # (text, role, command) before the photo was open
        self.quitting = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="chat-pane"):
            yield ChatLog(id="chat")
            yield EditProgress(id="progress")
            yield Input(placeholder="Describe an edit, or say undo / redo / show the mask …", id="prompt",
                        select_on_focus=False)
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
        self.set_interval(POLL_S, self._poll_head)

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

    @property
    def prompt(self) -> Input:
        return self.query_one("#prompt", Input)

    def version_label(self, version_id: str | None) -> str:
        """'v3' for a version the screen knows (its stored number), '' otherwise."""
        version = self.versions.get(version_id or "")
        return f"v{version.number}" if version is not None else ""

    def attach(self, service: ZoneService, session: Any, *, replay: bool = True) -> None:
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
        layers = self.service.layer_stack(self.session.id)
        if not get_current_worker().is_cancelled:
            self._call(self._show_history, versions, messages, replay)
            self._call(self.query_one("#layers", LayersPanel).show_layers, layers)

    def on_layers_panel_request(self, event: LayersPanel.Request) -> None:
        event.stop()
        self.run_turn(event.text, role="key", command=event.command)

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
            self.chat.add("system", f"Resumed “{self.session.name}”: {len(versions)} versions, "
                                    f"HEAD is {self.version_label(self.head_id)}.")
        if self.head_id:
            self._request_view(self.head_id)
        self.refresh_bindings()
        self._run_queued()

    def _poll_head(self) -> None:
        """Every few seconds, while idle: has another process moved HEAD?"""
        if self.service is None or self.session is None or self.busy or self.quitting:
            return
        if any(w.group == "history" and w.is_running for w in self.app.workers):
            return  # our own change is on its way to the screen
        self._check_head()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _check_head(self) -> None:
        try:
            head = self.service.head(self.session.id)
        except Exception:  # noqa: BLE001 - a busy database: look again at the next tick
            return
        if head.id != self.head_id and not get_current_worker().is_cancelled:
            self._call(self._head_moved, head)

    def _head_moved(self, head: Any) -> None:
        """HEAD moved in another window: say so and show the history as the database has it."""
        if self.busy or head.id == self.head_id:
            return
        self.chat.add("system", f"HEAD moved to {head.label} in another window; the history shows it now.")
        self._load_history()

    def _call(self, callback: Any, *args: Any) -> None:
        """`call_from_thread` that is quiet once the app has stopped (quitting mid-edit)."""
        if self.quitting:
            return
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:  # the app has closed
            pass

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
            self._load_view(version_id, self.pane.view, self.pane.pixel_size())

    @work(thread=True, exclusive=True, group="view", exit_on_error=False)
    def _load_view(self, version_id: str, view: str, size: tuple[int, int] | None = None) -> None:
        try:  # at the pane's pixel size: made from previews, never a full-size decode
            image = to_pil(self.service.view(self.session.id, view, version_id, size=size))
        except Exception as exc:  # noqa: BLE001 - a broken blob must not end the app
            self._call(self.chat.add, "error", f"Cannot show {view}: {friendly_error(exc)}")
            return
        if not get_current_worker().is_cancelled:
            self._call(self._store_and_display, (version_id, view), image)

    def _store_and_display(self, key: tuple[str, str], image: Any) -> None:
        self._cache[key] = image
        while len(self._cache) > 24:
            self._cache.popitem(last=False)
        if key == (self.shown_id, self.pane.view):
            self._display(key, image)

    def _display(self, key: tuple[str, str], image: Any) -> None:
        version_id, view = key
        version = self.versions.get(version_id)
        what = (version.instruction if version is not None and version.parent_id else "") or "original"
        where = "HEAD" if version_id == self.head_id else "preview, Ctrl+O checks out"
        self._shown = key
        # the words that matter first: a narrow pane cuts the instruction and the id, never the hint
        self.pane.show(image, f"{self.version_label(version_id)} · {where} · {view} · {what} · {short_id(version_id)}")
        start_warm_up = getattr(self.app, "start_warm_up", None)
        if start_warm_up is not None:  # the first picture is up: now torch may load behind it
            start_warm_up()

    def on_image_pane_view_changed(self, event: ImagePane.ViewChanged) -> None:
        self._request_view()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            self._request_view(event.node.data)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        """Enter (or a click) on a version previews it; Ctrl+O checks it out."""
        event.stop()
        if event.node.data:
            self._request_view(event.node.data)

    def on_history_tree_typed_ahead(self, event: HistoryTree.TypedAhead) -> None:
        """Typing in the tree types into the chat input."""
        event.stop()
        self.prompt.focus()
        self.prompt.insert_text_at_cursor(event.character)

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

        Returns False (and a note) when that cannot happen now. Before the photo is open the turn is
        queued and runs once it is (True).
        """
        if self.quitting:
            return False
        if self.service is None or self.session is None:
            self.chat.add(role, text)
            if not self._queue:
                self.chat.add("system", QUEUED)
            self._queue.append((text, role, command))
            return True
        if self.busy:
            self.chat.add("system", BUSY)
            return False
        self.chat.add(role, text)
        self._start_turn(text, command)
        return True

    def _start_turn(self, text: str, command: dict | None = None) -> None:
        self.busy = True
        self._cancel.clear()
        self.progress.start()
        self.refresh_bindings()
        self._turn(text, command, self.head_id)

    def _run_queued(self) -> None:
        """Run the next instruction typed while the photo was opening (each after the previous)."""
        if self._queue and not self.busy and self.session is not None:
            text, _role, command = self._queue.pop(0)
            self._start_turn(text, command)

    def _report(self, event: Any) -> None:
        """Turn progress, called on the worker thread (quiet once cancelled or quitting)."""
        if self._cancel.is_set() or self.quitting:
            return
        try:
            self.progress.post_message(EditProgress.Report(
                event.stage, event.step, event.total, getattr(event, "message", ""),
                getattr(event, "part", 1), getattr(event, "parts", 1)))
        except Exception:  # noqa: BLE001 - the screen is gone (quitting): progress has no reader
            pass

    @work(thread=True, group="turn", exit_on_error=False)
    def _turn(self, text: str, command: dict | None, seen_head: str | None) -> None:
        try:
            kwargs: dict = {"command": command} if command is not None else {}
            if self.point is not None:
                kwargs["point"] = self.point
            result = self.service.handle(self.session.id, text, progress=self._report, cancel=self._cancelled,
                                         expect_head=seen_head, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the app keeps running; the chat says what happened
            self._call(self._turn_failed, exc)
            return
        self._call(self._turn_done, result, text if command is None else "")  # typed text is offered again

    def _cancelled(self) -> bool:
        return self._cancel.is_set() or self.quitting

    def _turn_done(self, result: TurnResult, text: str = "") -> None:
        if result.head_id:
            self.head_id = result.head_id  # this window moved it: not news from another one
        self._finish_turn()
        error = result.error
        reply = result.reply or ""
        if result.head_moved:
            self.chat.add("system", reply)  # nothing ran: the user sees the new HEAD, then decides
            if text and not self.prompt.value:
                self.prompt.value = text
        elif result.error_kind == "cancelled":
            self.chat.add("system", "Edit cancelled; nothing was committed.")
        elif error:
            self.chat.add("error", reply or str(error))  # the agent's reply says what happened: once
        elif reply:
            self.chat.add("agent", reply)
        view = result.view
        if view in VIEW_NAMES:
            self.pane.set_view(view)
        existing = result.overwrite
        if existing and result.head_id:  # "save it as x.png" and x.png exists: ask, as the dialog does
            self.ask_overwrite(result.head_id, Path(existing).absolute())
        self._load_history()

    def _turn_failed(self, exc: BaseException) -> None:
        self._finish_turn()
        self.chat.add("error", friendly_error(exc))  # a cancelled edit is a TurnResult, not an exception
        self._load_history()

    def _finish_turn(self) -> None:
        self.busy = False
        self.progress.finish()
        self.refresh_bindings()
        if self._queue:
            self.call_after_refresh(self._run_queued)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.busy
        if action in ("undo", "redo"):  # while busy they answer like typed "undo": still working
            return None if self.session is None else True
        if action in ("branch", "checkout", "export"):
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

        at = f"{self.version_label(self.head_id)} {short_id(self.head_id or '')}"

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
        self.run_turn(f"checkout {self.version_label(target) or short_id(target)}", role="key",
                      command={"intent": "checkout", "ref": target})

    def action_export(self) -> None:
        if self.session is None or self.busy:
            return
        from tui.screens.export import ExportScreen

        version_id = self.shown_id or ""
        stem = re.sub(r"[^\w.-]+", "_", Path(self.session.name).stem) or "zone"
        default = Path(f"{stem}-{short_id(version_id)}.png")  # relative: written in the current folder
        what = f"{self.version_label(version_id)} {short_id(version_id)}" + (" (HEAD)" if version_id == self.head_id else "")

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
            self._call(self.chat.add, "error", f"Export failed: {friendly_error(exc)}")
            return
        self._call(self.chat.add, "agent", f"Exported {self.version_label(version_id)} ({short_id(version_id)}) to {printable(written)}.")

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

    def action_quit(self) -> None:
        """Ctrl+Q: stop now. A running edit is cancelled and dropped; what is saved stays saved."""
        self.quitting = True
        self._cancel.set()
        self.app.exit()

    def on_unmount(self) -> None:
        self.quitting = True
        self._cancel.set()
