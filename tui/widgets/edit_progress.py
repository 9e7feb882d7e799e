"""The progress line of a running edit: stage, step k of n, and a bar; hidden when idle."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, ProgressBar

STAGES = {
    "load": "Loading models",
    "encode": "Encoding",
    "denoise": "Denoising",
    "localize": "Localizing",
    "segment": "Segmenting",
    "blend": "Blending",
}


def describe(stage: str, step: int, total: int, message: str = "") -> str:
    """Words for one progress event: 'Denoising step 3 of 20'."""
    name = STAGES.get(stage, stage.capitalize() or "Working")
    if total and stage == "denoise":
        return f"{name} step {step} of {total}"
    if message:
        return f"{name}: {message}"
    return f"{name}…"


class EditProgress(Horizontal):
    """Shows what the engine is doing; `-running` class while an edit runs."""

    class Report(Message):
        """A progress event, posted from the worker thread (post_message is thread-safe)."""

        def __init__(self, stage: str, step: int, total: int, message: str = "") -> None:
            self.stage = stage
            self.step = step
            self.total = total
            self.message = message
            super().__init__()

    def compose(self) -> ComposeResult:
        yield Label("", id="stage")
        yield ProgressBar(total=None, show_eta=False, id="bar")
        yield Label("Esc cancels", id="cancel-hint")

    @property
    def stage_text(self) -> str:
        return str(self.query_one("#stage", Label).content)

    def start(self, text: str = "Thinking…") -> None:
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
        self.query_one("#stage", Label).update(describe(event.stage, event.step, event.total, event.message))
        bar = self.query_one("#bar", ProgressBar)
        if event.total:
            bar.update(total=event.total, progress=event.step)
        else:
            bar.update(total=None)
