"""Plain records of a batch of replays: tasks, worker settings, results, per-script outcomes, events.

Everything here is picklable, so tasks and results cross process and Ray boundaries unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Optional, Protocol

from engine.errors import ZoneError

Status = Literal["ok", "errors", "failed", "skipped"]
EventKind = Literal["ready", "start", "turn", "done", "failed", "died", "broken"]


class BatchError(ZoneError):
    """A batch cannot run at all (no worker could start, no script given, ...)."""


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker builds once: its engine, its threads and where it writes.

    Args:
        engine: "real" or "tiny".
        device: "auto", "cpu" or "cuda"; with several local GPUs worker i uses cuda:(i mod n).
        threads: torch intra-op threads per worker (None: leave torch's default).
        edit_params: extra EditParams fields (steps, work_size) for every edit.
        db_url: None: each worker writes a private scratch SQLite and returns the session to the
            driver (the driver alone writes the history DB). A URL: workers write there directly
            (PostgreSQL on a cluster).
        scratch_root: a folder the driver removes at the end, where workers on its machine make
            their scratch folders (so a killed worker leaves nothing behind); None: the system's.
    """

    engine: str = "real"
    device: str = "auto"
    threads: Optional[int] = None
    edit_params: dict[str, Any] = field(default_factory=dict)
    db_url: Optional[str] = None
    scratch_root: Optional[str] = None


@dataclass(frozen=True)
class BatchTask:
    """One script to replay.

    Args:
        key: identifies the script and its settings (a hash); `--resume` skips keys already complete.
        index: position in the batch (for ordering reports).
        script: the script's path, as given.
        image: the photo's resolved path.
        seed: the script's base seed.
        turns: the utterances in order.
        name: the session name (the script's stem).
        out_name: the script's folder under the batch's output folder.
    """

    key: str
    index: int
    script: str
    image: str
    seed: int
    turns: tuple[str, ...]
    name: str
    out_name: str


@dataclass
class TaskResult:
    """What a worker returns for one script: the replay report, its files, and the session.

    Args:
        key: the task's key.
        report: `agent.replay.run_replay`'s report, image paths relative to the script's folder.
        files: {relative path: bytes} of every image the replay wrote (turn-NN.png, exports).
        bundle: the session (a `storage.transfer.SessionBundle`) when the driver must write it;
            None when the worker wrote the history DB itself.
        worker: the worker's id; pid: its process id; seconds: wall time of the script.
    """

    key: str
    report: dict[str, Any]
    files: dict[str, bytes]
    bundle: Any
    worker: str
    pid: int
    seconds: float


@dataclass
class Outcome:
    """One line of the batch summary."""

    script: str
    status: Status
    key: str
    index: int
    session: Optional[str] = None
    turns: int = 0
    failed_turns: int = 0
    attempts: int = 0
    worker: Optional[str] = None
    out: Optional[str] = None
    final: Optional[str] = None
    error: Optional[str] = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchEvent:
    """Something a backend saw: a worker ready or broken, a script started, a turn, a result, a death.

    Args:
        kind: what happened.
        worker: the worker's id.
        key: the task's key (None for ready/broken).
        turn: the turn number for "turn"; turn_failed: whether that turn failed.
        result: the TaskResult for "done".
        message: the error for "failed", "died" and "broken"; pid: the worker's pid for "ready".
    """

    kind: EventKind
    worker: str
    key: Optional[str] = None
    turn: int = 0
    turn_failed: bool = False
    result: Optional[TaskResult] = None
    message: str = ""
    pid: int = 0


class Backend(Protocol):
    """Workers that run tasks: local processes (`agent.batch_local`) or Ray actors (`agent.batch_ray`)."""

    name: str

    def start(self) -> list[str]:
        """Start the workers; return their ids."""

    def submit(self, worker: str, task: BatchTask) -> None:
        """Give an idle worker one task."""

    def poll(self, timeout: float) -> list[BatchEvent]:
        """Return what happened since the last poll, waiting up to `timeout` seconds for something."""

    def replace(self, worker: str) -> Optional[str]:
        """Start a new worker in place of a dead one; return its id (None: cannot)."""

    def close(self) -> None:
        """Stop every worker."""
