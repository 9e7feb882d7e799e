"""ZoneService: the facade the CLI, the TUI and replay use to open photos and talk to the agent."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from agent.protocols import Classifier, Engine, Store
from agent.state import Command, TurnContext, TurnResult, check_action, check_command
from common.errors import error_kind, one_line
from common.settings import settings
from common.text import invalid_unicode_at, short_id, storable
from engine.limits import STORED_TEXT_MAX_CHARS, check_edit_options, check_seed

log = logging.getLogger(__name__)

VIEWS = ("result", "original", "layer", "mask", "diff")
# HistoryStore methods that write: after `ZoneService.shutdown` none of them starts.
WRITES = frozenset(("create_session", "commit", "undo", "redo", "undo_all", "checkout", "branch",
                    "add_message", "add_messages", "layer_op", "export", "delete_session"))


class ServiceClosedError(RuntimeError):
    """The service was shut down (the app is quitting): no more writes to the history."""


class GuardedStore:
    """A HistoryStore whose writes take one lock, so that `shutdown` can wait for the one running
    (nothing half-written) and refuse any later one (no error stored while quitting).

    Args:
        store: the HistoryStore (or any object with its methods).
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name not in WRITES or not callable(value):
            return value

        def write(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if self._closed:
                    raise ServiceClosedError("Zone is quitting; nothing more is written")
                return value(*args, **kwargs)

        return write

    def seal(self, timeout: float) -> bool:
        """Wait up to `timeout` s for a running write, then refuse all later ones; True if none ran on."""
        got = self._lock.acquire(timeout=max(timeout, 0.0))
        self._closed = True
        if got:
            self._lock.release()
        return got


def bounded_text(text: str) -> tuple[str, Optional[dict]]:
    """What is stored of a user's message: at most STORED_TEXT_MAX_CHARS, marked when cut.

    Returns:
        (text to store, meta or None): meta is {"truncated": True, "chars": original length}.
    """
    text = storable(text)
    if len(text) <= STORED_TEXT_MAX_CHARS:
        return text, None
    return text[:STORED_TEXT_MAX_CHARS], {"truncated": True, "chars": len(text)}


class ZoneService:
    """Sessions, turns and views over one HistoryStore and one (lazily built) engine.

    Args:
        store: a HistoryStore; None opens one at `db_url` (None: $ZONE_DB or the default SQLite)
            on first use, so a command that fails its checks never creates a database.
        engine: "real" or "tiny", built by `engine.registry.build_engine` on the first edit.
        device: passed to build_engine ("auto", "cpu", "cuda", ...).
        offload: keep idle models on the CPU (passed to build_engine).
        create_db: when False, a missing SQLite file is a NotFoundError instead of a new database.
        engine_factory: a callable returning the engine (tests); replaces build_engine.
        classifier: an object with `classify(text)`; None loads `agent.classifier`.
        seed: base seed; the k-th edit of a session (k = 0, 1, ...) uses seed + k.
        edit_params: extra EditParams fields for every edit (steps, work_size, ...).
        export_dir: where relative export paths ("save it as final.png") are written.
        confine_exports: refuse exports outside `export_dir` (a replay script may not write
            elsewhere unless the user trusts it).
    """

    def __init__(self, store: Optional[Store] = None, db_url: Optional[str] = None, engine: str = "real",
                 device: str = "auto", engine_factory: Optional[Callable[[], Engine]] = None,
                 classifier: Optional[Classifier] = None, seed: int = 0, edit_params: Optional[dict] = None,
                 export_dir: str | Path = ".", confine_exports: bool = False, offload: bool = False,
                 create_db: bool = True) -> None:
        self._store = GuardedStore(store) if store is not None else None
        self.db_url = db_url
        self.create_db = bool(create_db)
        # Each running turn's user message, stored with its reply at the end of the turn (one write),
        # or by `shutdown` when the app quits mid-turn, so that what the user said is never lost.
        self._pending: dict[int, tuple[str, Any]] = {}
        self._pending_lock = threading.Lock()
        self.engine_name = engine
        self.device = device
        self.offload = bool(offload)
        self._engine_factory = engine_factory
        self._engine: Optional[Engine] = None
        self._engine_lock = threading.Lock()  # the warm-up thread and a turn never build two
        self._classifier = classifier
        self.seed = check_seed(seed, "seed")
        self.edit_params = check_edit_options(dict(edit_params or {}))
        self.export_dir = Path(export_dir)
        self.confine_exports = bool(confine_exports)
        self._graph = None

    # ---------------------------------------------------------------- resources

    @property
    def store(self) -> Store:
        """The history store, opened on first use."""
        if self._store is None:
            from storage.history import HistoryStore

            self._store = GuardedStore(HistoryStore(self.db_url, create=self.create_db))
        return self._store

    @property
    def engine(self) -> Engine:
        """The engine, built on first use (importing torch only then)."""
        with self._engine_lock:
            if self._engine is None:
                if self._engine_factory is not None:
                    self._engine = self._engine_factory()
                else:
                    from engine.registry import build_engine

                    self._engine = build_engine(self.engine_name, device=self.device, offload=self.offload)
            return self._engine

    def warm_up(self) -> None:
        """Build what the first turn needs: the turn graph, the classifier and the engine with its
        models (imports torch). The chat app calls it on a low-priority thread after its first frame,
        so the first edit does not wait on imports. Errors are left for that edit to report."""
        try:
            self.graph
            self.classifier
            engine = self.engine
            load = getattr(engine, "load", None)
            if load is not None:
                load()  # thread-safe: a turn that starts meanwhile waits for this load
        except Exception:  # noqa: BLE001 - e.g. missing weights: the first edit says so in the chat
            log.debug("warm-up failed", exc_info=True)

    @property
    def engine_notice(self) -> Optional[str]:
        """What the user must be told about the engine (the tiny one's edits are meaningless), or None."""
        if self.engine.meaningful:
            return None
        from engine.registry import TINY_NOTICE

        return TINY_NOTICE

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            from agent.classifier import InstructionClassifier

            self._classifier = InstructionClassifier.load()
        return self._classifier

    @property
    def graph(self):
        """The compiled LangGraph of one turn (built once)."""
        if self._graph is None:
            from agent.classifier import CLARIFY_BELOW
            from agent.graph import GraphDeps, build_graph

            deps = GraphDeps(store=self.store, classify=lambda text: self.classifier.classify(text),
                             get_engine=lambda: self.engine, clarify_below=CLARIFY_BELOW,
                             base_seed=self.seed, edit_params=self.edit_params, export_dir=self.export_dir,
                             confine_exports=self.confine_exports,
                             engine_ready=lambda: self._engine is not None)
            self._graph = build_graph(deps)
        return self._graph

    # ---------------------------------------------------------------- sessions

    def open_image(self, path: str | Path, name: Optional[str] = None, max_pixels: Optional[int] = None):
        """Load a photo (any orientation/mode `engine.imageio` reads) and start a session on it.

        Args:
            max_pixels: refuse larger photos before decoding them (None: $ZONE_MAX_PIXELS or 64 MP).
        """
        from engine.imageio import load_image

        path = Path(path)
        image = load_image(path, max_pixels=max_pixels)
        return self.store.create_session(image, name=name or path.name, source_path=str(path.resolve()))

    def list_sessions(self) -> list:
        """Every session, oldest first."""
        return self.store.list_sessions()

    def version_counts(self) -> dict[str, int]:
        """{session id: number of versions, the original included}."""
        return self.store.version_counts()

    def branches(self, session_id: str) -> list:
        """The session's branches, oldest first."""
        return self.store.branches(session_id)

    def delete_session(self, session_id: str) -> None:
        """Delete a session with its versions, messages and the blobs only it used."""
        self.store.delete_session(session_id)

    def preview(self, session_id: str) -> np.ndarray:
        """A small picture of the session's HEAD (the session picker's thumbnail)."""
        return self.store.preview(session_id)

    def layer_stack(self, session_id: str, ref: str = "HEAD") -> list:
        """The layers of version `ref`, bottom-most first (`storage.layers.LayerInfo`)."""
        return self.store.layer_stack(session_id, ref)

    def version(self, session_id: str, ref: str = "HEAD"):
        """The version `ref` (HEAD, a branch, an id or prefix, HEAD~N) names."""
        return self.store.resolve(session_id, ref)

    def resume(self, ref: Optional[str] = None):
        """The session `ref` names (id, id prefix or name); None or "last" is the newest one."""
        if ref in (None, "", "last"):
            sessions = self.store.list_sessions()
            if not sessions:
                from storage.errors import NotFoundError

                raise NotFoundError("there is no session to resume; open a photo first")
            return sessions[-1]
        return self.store.get_session(ref)

    def history(self, session_id: str) -> list:
        """Every version of the session (the tree), parents before children."""
        return self.store.tree(session_id)

    def log(self, session_id: str, ref: str = "HEAD") -> list:
        return self.store.log(session_id, ref)

    def messages(self, session_id: str) -> list:
        return self.store.messages(session_id)

    def head(self, session_id: str):
        """HEAD as the database has it now (another process may have moved it)."""
        return self.store.head(session_id)

    # ---------------------------------------------------------------- turns

    def handle(self, session_id: str, text: str, progress: Optional[Callable[[Any], None]] = None,
               cancel: Optional[Callable[[], bool]] = None, command: Optional[Command] = None,
               point: Optional[tuple[int, int]] = None, expect_head: Optional[str] = None,
               edit_only: bool = False, action: Optional[str] = None) -> TurnResult:
        """Run one utterance (or a typed command) through the graph, persist it and the reply, report what happened.

        An edit turn reads its context in one transaction (`HistoryStore.turn_context`), commits
        in one, and stores the user's message and the reply together in one more.

        Args:
            session_id: the session (id, prefix or name).
            text: what the user typed, or for a typed command the line to show in the conversation.
            progress: engine progress callback.
            cancel: returns True to cancel a running edit.
            command: a typed history command from a key or a dialog (`agent.state.Command`, e.g.
                {"intent": "branch", "name": "feature/x"}); the graph routes it without parsing `text`.
            point: an image pixel (x, y) the user pointed at (the TUI's click or cursor), used by
                "edit only here".
            expect_head: the HEAD the user sees. When the database's HEAD differs (another window
                moved it), nothing runs: the result has `head_moved` set and says where HEAD is.
            edit_only: only edits may run (`zone edit`): an utterance that reads as a command or
                as help is answered with the clarification "not_an_edit" and changes nothing.
            action: "add", "remove" or "change": one edit of `text` with this action, without
                the understanding step (`zone edit --action`).
        """
        text = text if isinstance(text, str) else str(text)
        from storage.types import NewMessage

        history = self.store.turn_context(session_id)  # the turn's one read
        sid = history.session.id
        if expect_head is not None and history.head.id != expect_head:
            return self._head_moved(storable(text), sid)
        stored, meta_in = bounded_text(text)
        user = NewMessage("user", stored, version_id=history.head.id, meta=meta_in)
        bad_at = invalid_unicode_at(text)
        if bad_at is not None:  # fails this turn only; the conversation goes on
            msg = f"the message is not valid Unicode (a lone surrogate at character {bad_at + 1})"
            result = TurnResult(text=storable(text), intent="unknown", action=None, head_id=history.head.id,
                                error=msg, error_kind="input", reply=f"I cannot read that: {msg}; nothing changed.")
            self.store.add_messages(sid, [user, NewMessage("assistant", result.reply, version_id=history.head.id,
                                                           meta={"intent": "unknown", "error": msg})])
            return result
        token = id(user)
        with self._pending_lock:
            self._pending[token] = (sid, user)
        try:
            start: dict = {"session_id": sid, "text": text, "nodes_run": []}
            if command is not None:
                checked = check_command(command)
                if checked["intent"] == "layer":  # a layers-panel key: planned like a layer op in words
                    start["layer_request"] = checked
                else:
                    start["command"] = checked
            if point is not None:
                start["point"] = [int(point[0]), int(point[1])]
            if edit_only:
                start["edit_only"] = True
            if action is not None:
                start["forced_action"] = check_action(action)
            state = self.graph.invoke(start, context=TurnContext(progress=progress, cancel=cancel, history=history))
        except Exception as exc:  # noqa: BLE001 - a bug must not end the conversation
            kind = error_kind(exc)  # classified here, once
            if kind == "internal" and settings().debug:
                raise
            log.debug("turn failed: %r", text[:200], exc_info=True)
            msg = one_line(exc)
            head = self.store.head(sid)
            result = TurnResult(text=text, intent="unknown", action=None, head_id=head.id, error=msg,
                                error_kind=kind, reply=f"Something went wrong: {msg.rstrip('.')}; nothing changed.")
        else:
            result = self._result(text, state)
        meta = {"intent": result.intent, "action": result.action, "edits": result.edits, "error": result.error,
                "error_kind": result.error_kind,
                "view": result.view, "clarify": result.clarify, "nodes": result.nodes_run}
        if result.layer_op:
            meta["layer_op"] = result.layer_op
        reply = NewMessage("assistant", result.reply, version_id=result.version_id or result.head_id, meta=meta)
        with self._pending_lock:  # unless `shutdown` stored it already
            mine = self._pending.pop(token, None) is not None
        self.store.add_messages(sid, [user, reply] if mine else [reply])
        return result

    def _head_moved(self, text: str, session_id: str) -> TurnResult:
        """The answer when HEAD moved elsewhere: nothing done, nothing stored, HEAD named."""
        head = self.store.head(session_id)
        reply = (f"HEAD moved to {head.label} in another window, so I did nothing yet; "
                 f"send it again to apply it to {head.label}.")
        return TurnResult(text=text, intent="unknown", action=None, reply=reply, head_id=head.id,
                          head_moved=True)

    def edit(self, session_id: str, instruction: str, action: Optional[str] = None,
             progress: Optional[Callable[[Any], None]] = None,
             cancel: Optional[Callable[[], bool]] = None) -> TurnResult:
        """One turn that may only edit (`zone edit`): compound instructions give several versions.

        Args:
            action: force one edit with this action (None: the agent's understanding decides).
        """
        return self.handle(session_id, instruction, progress=progress, cancel=cancel, edit_only=True,
                           action=action)

    def _result(self, text: str, state: dict) -> TurnResult:
        sid = state["session_id"]
        head_id = state.get("head_id")
        edits = [dict(r) for r in state.get("results") or []]
        version_id = parent_id = number = None
        if edits:
            version_id, parent_id = edits[-1]["version_id"], edits[-1]["parent_id"]
            number = edits[-1].get("number")
        elif (state.get("command") or state.get("layer_op")) and not state.get("error"):
            head = self.store.head(sid)  # a command or a layer operation moved HEAD
            head_id, version_id, parent_id, number = head.id, head.id, head.parent_id, head.number
        if head_id is None:
            head_id = self.store.head(sid).id
        intent = state.get("intent") or "unknown"
        return TurnResult(
            text=text, intent=intent, action=state.get("action"), reply=state.get("reply", ""),
            version_id=version_id, number=number, parent_id=parent_id, head_id=head_id, edits=edits,
            error=state.get("error"), view=state.get("view"),
            error_kind=state.get("error_kind") or ("input" if state.get("error") else None), clarify=state.get("clarify"),
            command=state.get("command"),
            confidence=(state.get("classification") or {}).get("confidence"),
            nodes_run=list(state.get("nodes_run") or []),
            overwrite=(state.get("done") or {}).get("exists"),
            layer_op=state.get("done") if state.get("layer_op") else None,
        )

    # ---------------------------------------------------------------- views

    def render(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        return self.store.render(session_id, ref)

    def original(self, session_id: str) -> np.ndarray:
        return self.store.original(session_id)

    def layer(self, session_id: str, ref: str = "HEAD") -> Optional[np.ndarray]:
        """The version's own RGBA layer (None for the original)."""
        return self.store.layer(session_id, ref)

    def mask(self, session_id: str, ref: str = "HEAD") -> Optional[np.ndarray]:
        """The version's own mask (None for the original)."""
        return self.store.mask(session_id, ref)

    def diff(self, session_id: str, ref: str = "HEAD") -> np.ndarray:
        """A difference map: the original dimmed to grey, changed pixels in red by how much."""
        from agent.views import difference

        return difference(self.store.original(session_id), self.store.render(session_id, ref))

    def view(self, session_id: str, name: str = "result", ref: str = "HEAD",
             size: Optional[tuple[int, int]] = None) -> np.ndarray:
        """An [H, W, 3] uint8 picture of `name`: result, original, layer (over a checkerboard),
        mask (white on black) or diff, for the version `ref`.

        Args:
            size: (max width, max height) in pixels: the picture fits in it and is made from the
                stored previews and layer crops, never from a full-size decode (what the TUI
                asks for). None: at the photo's full resolution.
        """
        if name not in VIEWS:
            raise ValueError(f"unknown view {name!r}; choose one of {', '.join(VIEWS)}")
        if size is not None and hasattr(self.store, "preview"):
            from agent.views import fit, small_view

            return fit(small_view(self.store, session_id, name, ref), size)
        if name == "result":
            return self.render(session_id, ref)
        if name == "original":
            return self.original(session_id)
        if name == "diff":
            return self.diff(session_id, ref)
        info = self.store.get_session(session_id)
        shape = (info.height, info.width)
        if name == "mask":
            mask = self.mask(session_id, ref)
            mask = np.zeros(shape, bool) if mask is None else mask.astype(bool)
            return np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2)
        from agent.views import checkerboard

        layer = self.layer(session_id, ref)
        board = checkerboard(shape).astype(np.uint16)
        if layer is None:
            return board.astype(np.uint8)
        a = layer[..., 3:4].astype(np.uint16)
        return ((layer[..., :3].astype(np.uint16) * a + board * (255 - a) + 127) // 255).astype(np.uint8)

    def export(self, session_id: str, ref: str, path: str | Path, *, force: bool = False) -> Path:
        """Writes version `ref` to `path` (.png, .jpg or layered .ora) and notes it in the conversation.

        Args:
            force: replace an existing file (after the user confirmed); otherwise OutputExistsError.
        """
        written = Path(self.store.export(session_id, ref, path, force=force))
        version = self.store.resolve(session_id, ref)
        self.store.add_message(session_id, "assistant", f"Exported version {short_id(version.id)} to {written}.",
                               version_id=version.id)
        return written

    def shutdown(self, timeout: float = 0.5) -> bool:
        """Stop writing (the app is quitting): wait up to `timeout` s for a write in progress, refuse
        later ones. Returns False when a write was still running (the database rolls it back).

        The user's message of a turn still running is stored first (the reply never comes).
        """
        if self._store is None:  # never opened (e.g. a database that failed to open): nothing to wait for
            return True
        with self._pending_lock:
            pending, self._pending = list(self._pending.values()), {}
        for sid, user in pending:
            try:
                self.store.add_messages(sid, [user])
            except Exception:  # noqa: BLE001 - quitting: a busy database must not hold it
                log.debug("could not store a pending message", exc_info=True)
        return self.store.seal(timeout)

    def save(self, path: str | Path, picture: np.ndarray, *, force: bool = False) -> Path:
        """Write a picture (RGB, RGBA or grey uint8) where the user asked (`common.safe_write` rules)."""
        from engine.imageio import save_image

        save_image(path, picture, force=force)
        return Path(path)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> "ZoneService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
