"""Helpers of the TUI tests: synthetic photos, waiting for workers, and a deterministic fake service."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from agent.state import TurnResult
from storage.types import MessageInfo, SessionInfo, VersionInfo

EPOCH = datetime(2024, 6, 17, 9, 0, tzinfo=timezone.utc)  # fixed times: snapshots never change


def gradient(size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """A deterministic RGB gradient [H, W, 3] uint8."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), np.full_like(xx, 96)], -1)
    return rgb.astype(np.uint8)


def make_gradient(path: Path, size: tuple[int, int] = (48, 64)) -> Path:
    """Write the gradient as a PNG and return its path."""
    from PIL import Image

    Image.fromarray(gradient(size)).save(path)
    return path


def main_screen(app: Any) -> Any:
    return app.screen_stack[0]


async def settle(pilot: Any, timeout: float = 240.0) -> None:
    """Wait until no worker runs and the main screen is idle (a worker may start another)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        running = [w for w in app.workers if w.is_running]
        if not running and not getattr(main_screen(app), "busy", False):
            quiet += 1
            if quiet >= 3:
                await pilot.pause()
                return
        else:
            quiet = 0
        await asyncio.sleep(0.02)
        await pilot.pause()
    raise TimeoutError("the app did not settle")


class FakeService:
    """The `ZoneService` surface the app uses, in memory, with fixed ids and times.

    Edits tint a rectangle; "undo", "redo", "checkout REF", "branch here as NAME",
    "save it as PATH" and "show the VIEW" behave like the agent's commands. Typed commands from
    keys and dialogs (`command=`) are recorded in `commands` and never parsed from the text.
    """

    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.delay = delay  # seconds per denoising step, to test cancelling and browsing
        self.fail_on = fail_on  # instructions containing this raise (like an engine bug)
        self.store = self
        self.sessions: dict[str, SessionInfo] = {}
        self.versions: dict[str, dict] = {}
        self.head_id: str | None = None
        self.redo_stack: list[str] = []
        self.branch_names: dict[str, str] = {}
        self.log: list[MessageInfo] = []
        self.calls: list[str] = []
        self.exports: list[tuple] = []  # (ref, path, force) of every export
        self.commands: list[dict | None] = []
        self.view_sizes: list = []  # the size= of every view request (the pane asks for its pixel size)
        self.closed = False

    # sessions
    def open_image(self, path: Path | str) -> SessionInfo:
        from PIL import Image

        self.original_array = np.asarray(Image.open(path).convert("RGB"))
        sid = "5e55105e" + "0" * 24
        root = "00000000" + "0" * 24
        self.versions[root] = {"parent": None, "instruction": "", "action": None, "layer": None, "n": 0}
        self.head_id = root
        h, w = self.original_array.shape[:2]
        self.sessions[sid] = SessionInfo(sid, Path(path).name, str(path), w, h, EPOCH, root, "main")
        self.branch_names["main"] = root
        return self.sessions[sid]

    def resume(self, ref: str | None = None) -> SessionInfo:
        return next(iter(self.sessions.values()))

    def list_sessions(self) -> list[SessionInfo]:
        return list(self.sessions.values())

    def version_counts(self) -> dict[str, int]:
        return {sid: len(self.versions) for sid in self.sessions}

    def close(self) -> None:
        self.closed = True

    def shutdown(self, timeout: float = 0.5) -> bool:
        return True

    # history
    def _info(self, vid: str) -> VersionInfo:
        v = self.versions[vid]
        depth, cur = 0, v
        while cur["parent"] is not None:
            depth, cur = depth + 1, self.versions[cur["parent"]]
        names = sorted(n for n, t in self.branch_names.items() if t == vid)
        return VersionInfo(vid, "s", v["parent"], v["instruction"], v["action"], {}, {},
                           EPOCH + timedelta(minutes=v["n"]), names, vid == self.head_id, depth, v["n"])

    def history(self, session_id: str) -> list[VersionInfo]:
        return [self._info(vid) for vid in self.versions]

    def tree(self, session_id: str) -> list[VersionInfo]:
        return self.history(session_id)

    def head(self, session_id: str) -> VersionInfo:
        return self._info(self.head_id)

    warm_up = None  # nothing to build: the app skips the warm-up

    def preview(self, session_id: str):
        return self.render(session_id)

    def layer_stack(self, session_id: str, ref: str = "HEAD"):
        return None  # no layer support: the layers panel stays hidden

    def messages(self, session_id: str) -> list[MessageInfo]:
        return list(self.log)

    def _resolve(self, ref: str) -> str:
        if ref in self.branch_names:
            return self.branch_names[ref]
        if ref[:1] in "vV" and ref[1:].isdigit():
            return next(vid for vid, v in self.versions.items() if v["n"] == int(ref[1:]))
        matches = [vid for vid in self.versions if vid.startswith(ref)]
        if len(matches) != 1:
            raise KeyError(f"no version {ref!r}")
        return matches[0]

    def render(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        vid = self.head_id if ref == "HEAD" else self._resolve(ref)
        chain = []
        while vid is not None:
            chain.append(self.versions[vid])
            vid = self.versions[vid]["parent"]
        out = self.original_array.copy()
        for v in reversed(chain):
            if v["layer"] is not None:
                y0, x0, y1, x1, colour = v["layer"]
                out[y0:y1, x0:x1] = colour
        return out

    def view(self, session_id: str, name: str = "result", ref: str = "HEAD", size=None) -> np.ndarray:
        self.view_sizes.append(size)
        vid = self.head_id if ref == "HEAD" else self._resolve(ref)
        if name == "original":
            return self.original_array
        render = self.render(session_id, vid)
        if name in ("result", "layer"):
            return render
        if name == "mask":
            return np.where((render != self.original_array).any(axis=2)[..., None], 255, 0).astype(np.uint8).repeat(3, 2)
        return np.abs(render.astype(int) - self.original_array).astype(np.uint8)

    def export(self, session_id: str, ref: str, path: Path, *, force: bool = False) -> Path:
        """Like ZoneService.export: through common.safe_write, an existing file only with `force`."""
        import io

        from PIL import Image

        from common.safe_write import write_bytes

        buf = io.BytesIO()
        Image.fromarray(self.render(session_id, ref)).save(buf, format="JPEG" if Path(path).suffix == ".jpg" else "PNG")
        self.exports.append((ref, Path(path), force))
        return write_bytes(path, buf.getvalue(), force=force)

    # turns
    def handle(self, session_id: str, text: str, progress=None, cancel=None, command=None,
               expect_head=None) -> TurnResult:
        if expect_head is not None and expect_head != self.head_id:
            n = self.versions[self.head_id]["n"]
            return TurnResult(text, "unknown", None, f"HEAD moved to v{n} in another window, so I did nothing yet; "
                              f"send it again to apply it to v{n}.", head_id=self.head_id, head_moved=True)
        self.calls.append(text)
        self.commands.append(command)
        self.log.append(MessageInfo(len(self.log), "user", text, None, EPOCH))
        result = self._command(command) if command is not None else self._turn(text, progress, cancel)
        self.log.append(MessageInfo(len(self.log), "assistant", result.reply, None, EPOCH))
        return result

    def _command(self, command: dict) -> TurnResult:
        """A typed command, as the agent's history node runs it."""
        intent = command["intent"]
        if intent in ("undo", "redo"):
            return self._turn(intent, None, None)
        if intent == "checkout":
            self.head_id = self._resolve(command["ref"])
            reply = f"Checked out {self.head_id[:8]}."
        elif intent == "branch":
            self.branch_names[command["name"]] = self.head
            reply = f"Branch {command['name']} is at {self.head_id[:8]}."
        elif intent == "export":
            path = self.export("s", command.get("ref") or self.head_id, Path(command["path"]))
            reply = f"Saved {path}."
        else:
            raise ValueError(f"unexpected typed command {command!r}")
        return TurnResult(intent, intent, None, reply, head_id=self.head_id, command=dict(command))

    def _turn(self, text: str, progress, cancel) -> TurnResult:
        words = text.split()
        view = None
        if text == "undo":
            parent = self.versions[self.head_id]["parent"]
            if parent is None:
                return TurnResult(text, "undo", None, "Nothing to undo.", head_id=self.head_id, error="nothing to undo", error_kind="storage")
            self.redo_stack.append(self.head_id)
            self.head_id = parent
            reply = f"Undid it; HEAD is {self.head_id[:8]}."
        elif text == "redo":
            if not self.redo_stack:
                return TurnResult(text, "redo", None, "Nothing to redo.", head_id=self.head_id, error="nothing to redo", error_kind="storage")
            self.head_id = self.redo_stack.pop()
            reply = f"Redid it; HEAD is {self.head_id[:8]}."
        elif words[0] == "checkout":
            self.head_id = self._resolve(words[1])
            reply = f"Checked out {self.head_id[:8]}."
        elif text.startswith("branch here as "):
            self.branch_names[words[-1]] = self.head_id
            reply = f"Branch {words[-1]} is at {self.head_id[:8]}."
        elif text.startswith("save it as "):
            from common.safe_write import OutputExistsError

            try:
                path = self.export("s", self.head_id, Path(text.removeprefix("save it as ")))
            except OutputExistsError as exc:
                return TurnResult(text, "export", None, f"{exc}.", head_id=self.head_id, error=str(exc),
                                  error_kind="storage", overwrite=str(exc.path))
            reply = f"Saved {path}."
        elif text.startswith("show the "):
            view = words[-1]
            reply = f"Showing the {view}."
        else:
            if self.fail_on and self.fail_on in text:
                raise MemoryError("CUDA out of memory")
            for step in range(1, 5):
                if cancel is not None and cancel():
                    return TurnResult(text, "edit", "change", "Cancelled; nothing changed.", head_id=self.head_id,
                                      error="stopped", error_kind="cancelled")
                if progress is not None and step < 4:
                    from engine.api import ProgressEvent

                    progress(ProgressEvent("denoise", step, 3))
                time.sleep(self.delay if step < 4 else 0)
            n = len(self.versions)
            vid = f"{n:x}" * 8 + "0" * 24
            h, w = self.original_array.shape[:2]
            colour = np.array([(60 * n) % 256, 200, (255 - 40 * n) % 256], np.uint8)
            box = (h // 4, (w // 8) * n % (w // 2), h // 4 + h // 2, (w // 8) * n % (w // 2) + w // 3)
            self.versions[vid] = {"parent": self.head_id, "instruction": text, "action": "change",
                                  "layer": (*box, colour), "n": n}
            self.head_id = vid
            self.redo_stack.clear()
            return TurnResult(text, "edit", "change", f"Done: '{text}' is version {vid[:8]}.", version_id=vid,
                              head_id=vid, edits=[{"version_id": vid}])
        return TurnResult(text, words[0], None, reply, head_id=self.head_id, view=view)
