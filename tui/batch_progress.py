"""One progress bar for a whole batch, on stderr: scripts done, turns done, turns per minute, failures."""

from __future__ import annotations

import sys
from typing import Any, Optional, TextIO

WIDTH = 24


def format_bar(p: Any, width: int = WIDTH) -> str:
    """The bar's text for `agent.batch.Progress` counters `p`."""
    finished = p.done + p.failed + p.skipped
    frac = finished / p.scripts if p.scripts else 1.0
    fill = int(round(frac * width))
    return (f"[{'#' * fill}{'.' * (width - fill)}] {finished}/{p.scripts} scripts"
            f" | {p.turns}/{p.turns_total} turns | {p.turns_per_min:.1f} turns/min | {p.failed} failed"
            + (f" | {p.skipped} skipped" if p.skipped else ""))


class BatchProgressBar:
    """Redraws one line in place on a terminal; elsewhere (logs, CI) prints a line per finished script.

    Args:
        stream: where it writes (stderr).
        enabled: False prints nothing.
    """

    def __init__(self, stream: Optional[TextIO] = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_finished = -1
        self._width = 0

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        text = format_bar(p)
        if self.tty:
            pad = max(0, self._width - len(text))
            self._width = len(text)
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            return
        finished = p.done + p.failed + p.skipped
        if finished != self._last_finished:
            self._last_finished = finished
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
