"""Typed state of one conversational turn as it flows through the LangGraph state machine."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Optional

from typing_extensions import TypedDict

from common.errors import ErrorKind


class PlannedEdit(TypedDict, total=False):
    """One engine call the turn will make.

    kind: "new" (a fresh edit on HEAD), "revise" ("X instead": a new branch from the last
    edit's parent), "retry" (a sibling of the last edit with a new seed), "repeat" ("again":
    the last instruction once more on HEAD) or "relative" ("a bit more": a sibling of the last
    edit, same seed, s_T scaled). parent: version id to edit, None for HEAD.
    seed: None lets the edit node derive it from the session's history.
    text_scale: s_T for this edit (relative follow-ups), None for the default.
    direction: "stronger" or "weaker" (relative follow-ups).
    """

    instruction: str
    action: str
    kind: str
    parent: Optional[str]
    seed: Optional[int]
    text_scale: Optional[float]
    direction: str


class Command(TypedDict, total=False):
    """A history command and its arguments (only those that apply are set)."""

    intent: str  # undo redo undo_all branch checkout history export show
    count: int  # undo/redo repetitions
    name: str  # branch name
    ref: str  # checkout: a version id, id prefix, branch name or HEAD
    at: str  # branch: create it at this ref and leave HEAD where it is (None: at HEAD, attached)
    version_number: int  # checkout "version 3": the 3rd version after the original
    path: str  # export destination (may be relative)
    fmt: str  # export format: png jpg ora
    view: str  # show: result original layer mask diff
    op: str  # layer (a layers-panel key): hide, show or opacity
    opacity: float  # layer op "opacity": the new opacity, 0..1


class EditOutcome(TypedDict, total=False):
    """What one committed edit produced."""

    version_id: str
    parent_id: Optional[str]
    depth: int
    number: int  # the version's stable number in its session (v3 is 3)
    parent_number: int
    instruction: str
    action: str
    kind: str
    seed: int
    mask_fraction: float
    where: str
    warnings: list[str]
    text_scale: float
    direction: str


class TurnState(TypedDict, total=False):
    """The state of one turn: what the user said, what the agent planned, did and replies."""

    session_id: str
    text: str
    classification: dict[str, Any]  # intent, action, confidence, ... of the whole utterance
    intent: str
    action: Optional[str]
    edits: list[PlannedEdit]
    command: Command
    clarify: str  # why the agent asks instead of acting: empty, too_long, not_english, ...
    clarify_options: list[dict]  # which_layer / no_such_layer: the layers it could mean
    layer_op: dict[str, Any]  # a planned layer operation (agent.layer_actions.plan_layer_turn)
    layer_request: dict[str, Any]  # a typed layer command from a key: {"op", "ref", "args"}
    point: Optional[list[int]]  # image pixel (x, y) the user pointed at, for "edit only here"
    results: list[EditOutcome]
    done: dict[str, Any]  # what a history command did (for the reply)
    reply: str
    error: Optional[str]
    error_kind: Optional[str]  # common.errors.ErrorKind of `error`, classified where it was caught
    view: Optional[str]
    head_id: Optional[str]
    edit_only: bool  # `zone edit`: only edits may run; anything else is answered "not_an_edit"
    forced_action: Optional[str]  # `zone edit --action`: one edit of the text with this action
    nodes_run: Annotated[list[str], operator.add]


@dataclass(frozen=True)
class TurnProgress:
    """A progress report of a turn: the engine's stage, step and total, and which edit of the turn.

    stage: the engine's stages (load, encode, denoise, localize, segment, blend), or "edit" (edit
    `part` begins; `message` is its instruction) or "start" (the engine is being built: first edit only).
    """

    stage: str
    step: int = 0
    total: int = 0
    message: str = ""
    part: int = 1
    parts: int = 1


@dataclass
class TurnContext:
    """Run-scoped callables for one turn (LangGraph `context`): engine progress and cancel."""

    progress: Optional[Callable[[Any], None]] = None
    cancel: Optional[Callable[[], bool]] = None
    history: Any = None  # storage.types.TurnContextInfo read once for the turn (None: nodes read it)


@dataclass
class TurnResult:
    """What `ZoneService.handle` returns to the CLI, the TUI and replay."""

    text: str
    intent: str
    action: Optional[str]
    reply: str
    version_id: Optional[str] = None  # the last version this turn created or moved to
    number: Optional[int] = None  # its stable number in the session (v3 is 3)
    parent_id: Optional[str] = None  # its parent
    head_id: Optional[str] = None  # HEAD after the turn
    edits: list[dict] = field(default_factory=list)  # EditOutcome dicts, one per committed edit
    error: Optional[str] = None
    error_kind: Optional[ErrorKind] = None  # what kind of failure `error` is (cancelled, input, weights, ...)
    view: Optional[str] = None  # for "show": result, original, layer, mask or diff
    clarify: Optional[str] = None  # why the agent asked instead of acting (empty, unsupported, ...)
    command: Optional[dict] = None
    nodes_run: list[str] = field(default_factory=list)
    overwrite: Optional[str] = None  # an existing file an export refused to replace (ask, then force)
    layer_op: Optional[dict] = None  # what a layer operation did (op, args, layer, version_id)
    head_moved: bool = False  # HEAD was moved in another window: nothing ran (see `expect_head`)
    confidence: Optional[float] = None  # the classifier's confidence, when it was asked

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "intent": self.intent,
            "action": self.action,
            "reply": self.reply,
            "version_id": self.version_id,
            "number": self.number,
            "parent_id": self.parent_id,
            "head_id": self.head_id,
            "edits": list(self.edits),
            "error": self.error,
            "error_kind": self.error_kind,
            "view": self.view,
            "clarify": self.clarify,
            "layer_op": self.layer_op,
        }


ACTIONS = ("add", "remove", "change")


def check_action(action: str) -> str:
    """Return `action` if it is one of ZONE's actions (add, remove, change).

    Raises:
        ZoneInputError: anything else.
    """
    from engine.errors import ZoneInputError

    if action not in ACTIONS:
        raise ZoneInputError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    return action


COMMAND_INTENTS = ("undo", "redo", "undo_all", "branch", "checkout", "history", "export", "show", "layer")
LAYER_COMMAND_OPS = ("hide", "show", "opacity")


def check_command(command: Command) -> Command:
    """Return a typed command (from a key or dialog) if its intent and arguments are well formed.

    Args:
        command: e.g. {"intent": "checkout", "ref": "abc123"}.

    Raises:
        ZoneInputError: unknown intent, or a missing/ill-typed argument.
    """
    from engine.errors import ZoneInputError

    intent = command.get("intent") if isinstance(command, dict) else None
    if intent not in COMMAND_INTENTS:
        raise ZoneInputError(f"unknown command {intent!r}; expected one of {', '.join(COMMAND_INTENTS)}")
    required = {"checkout": ("ref", "version_number"), "branch": ("name",), "layer": ("ref",)}.get(intent, ())
    if required and not any(command.get(k) not in (None, "") for k in required):
        raise ZoneInputError(f"the {intent} command needs {' or '.join(required)}")
    if "count" in command and (not isinstance(command["count"], int) or command["count"] < 1):
        raise ZoneInputError("count must be a positive integer")
    if intent == "layer":
        if command.get("op") not in LAYER_COMMAND_OPS:
            raise ZoneInputError(f"the layer command needs op, one of {', '.join(LAYER_COMMAND_OPS)}")
        opacity = command.get("opacity")
        if command["op"] == "opacity" and (not isinstance(opacity, (int, float)) or not 0.0 <= opacity <= 1.0):
            raise ZoneInputError("the opacity command needs an opacity between 0 and 1")
    return dict(command)  # type: ignore[return-value]
