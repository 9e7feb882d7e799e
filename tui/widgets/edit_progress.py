"""The progress of a running turn: what is happening in words (never cut), a bar, Esc; hidden when idle."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, ProgressBar

READING = "Reading your instruction…"
STAGES = {
    "start": "Starting the engine (first edit only)…",
    "load": "Loading the models (first edit only)…",
    "encode": "Encoding the photo…",
    "denoise": "Painting the edit",
    "localize": "Finding where it changed…",
    "segment": "Outlining the region…",
    "blend": "Blending it in…",
}


def describe(stage: str, step: int, total: int, message: str = "", part: int = 1, parts: int = 1) -> str:
    """Words for one progress event: 'Edit 1 of 2 · Painting the edit: step 3 of 20'.

    Args:
        stage: the engine's stage, "edit" (an edit of the turn begins) or "start" (the engine is built).
        step, total: where the stage is (total 0: no count).
        message: the engine's detail, or the instruction for "edit".
        part, parts: which edit of a compound instruction this is.
    """
    of = f"Edit {part} of {parts} · " if parts > 1 else ""
    if stage == "edit":
        return f"{of}{message}" if parts > 1 else READING
    name = STAGES.get(stage) or f"{(stage or 'working').capitalize()}…"
    if total and stage == "denoise":
        return f"{of}{name}: step {step} of {total}"
    return f"{of}{name}"


class EditProgress(Vertical):
    """Shows what the turn is doing; `-running` class while it runs. The words wrap rather than
    being cut; the bar and the Esc hint sit on the line below."""

    class Report(Message):
        """A progress event, posted from the worker thread (post_message is thread-safe)."""

        def __init__(self, stage: str, step: int, total: int, message: str = "", part: int = 1,
                     parts: int = 1) -> None:
            self.stage = stage
            self.step = step
            self.total = total
            self.message = message
            self.part = part
            self.parts = parts
            super().__init__()

    def compose(self) -> ComposeResult:
        yield Label("", id="stage")
        with Horizontal(id="bar-row"):
            yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="bar")
            yield Label("Esc cancels", id="cancel-hint")

    @property
    def stage_text(self) -> str:
        return str(self.query_one("#stage", Label).content)

    def start(self, text: str = READING) -> None:
        self.add_class("-running")
        self.query_one("#stage", Label).update(text)
        self.query_one("#bar", ProgressBar).update(total=None, progress=0)

    def cancelling(self) -> None:
        self.query_one("#stage", Label).update("Cancelling…")

    def finish(self) -> None:
        self.remove_class("-running")

    def on_edit_progress_report(self, event: Report) -> None:
        event.stop()
        if not self.has_class("-running"):
            return
        self.query_one("#stage", Label).update(
            describe(event.stage, event.step, event.total, event.message, event.part, event.parts))
        bar = self.query_one("#bar", ProgressBar)
        if event.total:
            bar.update(total=event.total, progress=event.step)
        elif event.stage in ("edit", "start", "load"):
            bar.update(total=None)
