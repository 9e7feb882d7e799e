"""The Zone chat app: opens a photo or a session in a worker and hands it to the main screen."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import work
from textual.app import App

from common.settings import settings
from tui.messages import friendly_error
from tui.screens.main import MainScreen
from tui.widgets.image_pane import image_widget_class, to_pil

if TYPE_CHECKING:
    from tui.screens.sessions import Choice, SessionEntry

RECENT_SESSIONS = 20
WARM_NICENESS = 5  # the warm-up thread yields the CPU to the UI and to turns (10 starved it on a busy machine)
WARM_UP_FALLBACK_S = 3.0  # start the warm-up anyway when no picture could be shown by then


class NoWaitExecutor(ThreadPoolExecutor):
    """The event loop's executor for thread workers: closing the loop does not wait for them.

    An engine still loading or an edit still running must not hold Ctrl+Q for seconds; the
    history store refuses writes once the app quits (`ZoneService.shutdown`), and `zone chat`
    ends the process without waiting for such a thread.
    """

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


class ZoneApp(App[None]):
    """`zone chat`: a chat about one photo, its picture and its history of versions.

    Args:
        service_factory: builds the `agent.service.ZoneService` (called in a worker, so that
            opening the database never delays the first frame); or pass `service`.
        image: a photo to start a new session on.
        session: a session ref to reopen. With neither, the app lists recent sessions.
        renderer: auto, halfcell, sixel, tgp or unicode (default: $ZONE_IMAGE_RENDERER or auto).
    """

    CSS_PATH = "app.tcss"
    TITLE = "Zone"

    def __init__(
        self,
        *,
        service: Any = None,
        service_factory: Callable[[], Any] | None = None,
        image: Path | str | None = None,
        session: str | None = None,
        renderer: str | None = None,
    ) -> None:
        if service is None and service_factory is None:
            raise ValueError("ZoneApp needs a service or a service_factory")
        image_widget_class(renderer)  # fail early on a bad renderer name; detects the terminal
        super().__init__()
        self.service = service
        self.service_factory = service_factory
        self.image = Path(image) if image is not None else None
        self.session_ref = session
        self.renderer = renderer
        self.warm_thread: threading.Thread | None = None
        self.open_error: str | None = None  # why the photo or session given at start could not open
        self._session_id: str | None = None

    def get_default_screen(self) -> MainScreen:
        return MainScreen(renderer=self.renderer)

    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value] - the default screen

    @property
    def session_id(self) -> str | None:
        """The id of the session on screen (None before one is open)."""
        return self._session_id

    def on_load(self) -> None:
        asyncio.get_running_loop().set_default_executor(NoWaitExecutor(thread_name_prefix="zone-worker"))

    def on_ready(self) -> None:
        """The first frame is on screen: now open the database (in a worker, never delaying it)."""
        if self.image is not None:
            self.main.chat.add("system", f"Opening {self.image.name}…")
        self._open(self.image, self.session_ref)

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def _open(self, image: Path | None, session_ref: str | None) -> None:
        try:
            if self.service is None:
                try:
                    self.service = self.service_factory()  # type: ignore[misc]
                except Exception as exc:  # noqa: BLE001 - a broken --db: nothing to offer, say why and exit
                    self.call_from_thread(self._cannot_start, exc)
                    return
            if image is not None:
                session = self.service.open_image(image)
            elif session_ref is not None:
                session = self.service.resume(session_ref)
            else:
                self.call_from_thread(self._pick, self._recent_sessions())
                return
        except Exception as exc:  # noqa: BLE001 - shown in the chat; the picker offers another go
            given = (image, session_ref) == (self.image, self.session_ref) and (image or session_ref)
            self.call_from_thread(self._cannot_start if given else self._open_failed, exc)
            return
        self.call_from_thread(self._opened, session, replay=image is None)

    def _recent_sessions(self) -> list[SessionEntry]:
        from tui.screens.sessions import SessionEntry

        service = self.service
        counts = service.version_counts()
        entries = []
        for info in list(reversed(service.list_sessions()))[:RECENT_SESSIONS]:  # newest first
            last = next((m.text for m in reversed(service.messages(info.id)) if m.role == "user"), "")
            try:
                thumb = to_pil(service.preview(info.id), 96)
            except Exception:  # noqa: BLE001 - a broken session still gets listed
                thumb = None
            entries.append(SessionEntry(info.id, info.name, counts.get(info.id, 1), last,
                                        info.created_at.strftime("%Y-%m-%d %H:%M"), thumb))
        return entries

    def _pick(self, entries: list[SessionEntry]) -> None:
        from tui.screens.sessions import SessionPickerScreen

        def chosen(choice: Choice | None) -> None:
            if choice is None:
                self.exit()
            elif choice.image is not None:
                self.main.chat.add("system", f"Opening {choice.image.name}…")
                self._open(choice.image, None)
            else:
                self._open(None, choice.session_id)

        self.push_screen(SessionPickerScreen(entries), chosen)

    def _opened(self, session: Any, replay: bool) -> None:
        self._session_id = session.id
        self.main.attach(self.service, session, replay=replay)
        self.set_timer(WARM_UP_FALLBACK_S, self.start_warm_up)  # normally the first picture starts it
        if not replay:  # a resumed session says "Resumed …" after replaying its conversation
            self.main.chat.add("system", f"{session.name}: {session.width}×{session.height}. Ready.")

    def start_warm_up(self) -> None:
        """Once the first frame and the photo are on screen: import torch and build the engine on
        a daemon thread at low priority, so the first edit does not wait (quitting never waits for it)."""
        if self.service is None or self.warm_thread is not None or settings().no_warm_up:
            return
        warm = self.service.warm_up
        if warm is None:
            return

        def run() -> None:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARM_NICENESS)
            except (AttributeError, OSError):  # not Linux, or not allowed: warm up anyway
                pass
            warm()

        self.warm_thread = threading.Thread(target=run, name="zone-warm-up", daemon=True)
        self.warm_thread.start()

    def _cannot_start(self, exc: BaseException) -> None:
        """What the command line named cannot be opened: exit; `zone chat` prints the one-line error."""
        self.open_error = friendly_error(exc)
        self.exit(return_code=1)

    def _open_failed(self, exc: BaseException) -> None:
        self.main.chat.add("error", f"Could not open it: {friendly_error(exc)}")
        if self.service is not None:
            self._open(None, None)  # offer the recent sessions and a path field
