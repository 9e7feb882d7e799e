"""Many replays at once: tasks from scripts, a dispatcher over workers, retries, and the one history DB.

`run_batch` gives each idle worker (a local process or a Ray actor, see `Backend`) one script at a
time. A script that fails or whose worker dies is retried once, on another worker; the rest go on.
Finished scripts are written by the driver alone: their images under `out_root/<script>/`, then
their session (scratch mode) with a completion marker in the same transaction, so `--resume`
skips exactly the scripts whose session is complete.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from agent.batch_types import Backend, BatchError, BatchEvent, BatchTask, Outcome, TaskResult

MAX_ATTEMPTS = 2  # the first try and one retry


def task_key(script: str, image: str, seed: int, turns: list[str] | tuple[str, ...], engine: str,
             edit_params: dict[str, Any]) -> str:
    """A hash of everything that decides a replay's result (the script's content and the settings)."""
    blob = json.dumps({"script": script, "image": image, "seed": seed, "turns": list(turns), "engine": engine,
                       "params": edit_params}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def make_tasks(scripts: list[Any], engine: str, edit_params: dict[str, Any],
               indexes: Optional[list[int]] = None) -> list[BatchTask]:
    """One task per `agent.replay.ReplayScript`; output folders named by script stem, made unique.

    Args:
        scripts: the parsed scripts.
        engine, edit_params: the settings (part of each task's key).
        indexes: each script's position in the summary (default 0, 1, ...).
    """
    tasks, used = [], set()
    for j, s in enumerate(scripts):
        i = indexes[j] if indexes is not None else j
        stem = Path(s.path).stem or "script"
        name, n = stem, 2
        while name in used:
            name, n = f"{stem}-{n}", n + 1
        used.add(name)
        script = str(Path(s.path).resolve())
        key = task_key(script, str(s.image), s.seed, s.turns, engine, edit_params)
        tasks.append(BatchTask(key=key, index=i, script=str(s.path), image=str(s.image), seed=s.seed,
                               turns=tuple(s.turns), name=stem, out_name=name))
    return tasks


@dataclass
class Progress:
    """The batch's counters, handed to the progress callback after every change."""

    scripts: int
    turns_total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    turns: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def turns_per_min(self) -> float:
        return 60.0 * self.turns / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class BatchReport:
    """Every script's outcome, in the order given, and the batch's totals."""

    outcomes: list[Outcome]
    backend: str
    workers: int
    seconds: float
    turns: int

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ("failed", "errors"))

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(1 for o in self.outcomes if o.status == s) for s in ("ok", "errors", "failed", "skipped")}
        return {"backend": self.backend, "workers": self.workers, "seconds": round(self.seconds, 3),
                "turns": self.turns, "turns_per_min": round(60 * self.turns / self.seconds, 2) if self.seconds else 0.0,
                **counts, "scripts": [o.to_dict() for o in self.outcomes]}


@dataclass
class _Pending:
    task: BatchTask
    attempts: int = 0
    avoid: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write a script's images under its folder (relative names only; nothing outside it)."""
    root = folder.resolve()
    for rel, data in files.items():
        target = (folder / rel).resolve()
        if root != target and root not in target.parents:
            raise BatchError(f"a worker returned a file outside {folder}: {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class _Run:
    """The state of one `run_batch` call."""

    def __init__(self, backend: Backend, store: Any, out_root: Path, tasks: list[BatchTask],
                 on_progress: Optional[Callable[[Progress], None]],
                 on_event: Optional[Callable[[BatchEvent, Backend], None]], max_attempts: int) -> None:
        self.backend, self.store, self.out_root = backend, store, Path(out_root)
        self.on_progress, self.on_event, self.max_attempts = on_progress, on_event, max_attempts
        self.pending: deque[_Pending] = deque(_Pending(t) for t in tasks)
        self.by_key = {t.key: t for t in tasks}
        self.inflight: dict[str, _Pending] = {}  # worker -> pending
        self.idle: list[str] = []
        self.live: set[str] = set()
        self.outcomes: dict[str, Outcome] = {}
        self.turns_seen: dict[str, int] = {}
        self.progress = Progress(scripts=len(tasks), turns_total=sum(len(t.turns) for t in tasks))
        self.replacements_left = len(tasks) + 2

    def tick(self) -> None:
        self.progress.turns = sum(self.turns_seen.values())
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def assign(self) -> None:
        """Give pending tasks to idle workers, avoiding the worker a retry failed on when possible."""
        for _ in range(len(self.pending)):
            if not self.idle:
                return
            item = self.pending.popleft()
            choice = next((w for w in self.idle if w not in item.avoid), None)
            if choice is None and all(w in item.avoid for w in self.live):
                choice = self.idle[0]  # every live worker is one it failed on: take any
            if choice is None:
                self.pending.append(item)  # wait for a worker it has not failed on
                continue
            self.idle.remove(choice)
            item.attempts += 1
            self.inflight[choice] = item
            self.turns_seen[item.task.key] = 0
            self.backend.submit(choice, item.task)

    def failure(self, worker: str, item: _Pending, message: str) -> None:
        """Retry once on another worker, else record the script as failed."""
        item.errors.append(f"attempt {item.attempts} on {worker}: {message}")
        self.turns_seen[item.task.key] = 0
        if item.attempts < self.max_attempts:
            item.avoid.add(worker)
            self.pending.appendleft(item)
            return
        t = item.task
        self.outcomes[t.key] = Outcome(script=t.script, status="failed", key=t.key, index=t.index, attempts=item.attempts,
                                       worker=worker, error=message, errors=list(item.errors),
                                       turns=len(t.turns))
        self.progress.failed += 1

    def finish(self, result: TaskResult, item: _Pending) -> None:
        """Write a finished script: images first, then its session and marker in one transaction."""
        t = item.task
        folder = self.out_root / t.out_name
        report = result.report
        marker = {"key": t.key, "script": t.script, "turns": len(t.turns), "out": str(folder)}
        try:
            _write_files(folder, result.files)
            if report.get("session") is None:
                pass  # a replay that failed before any edit removed its empty session: nothing to keep
            elif result.bundle is not None:
                from storage.transfer import load_session

                load_session(self.store, result.bundle, marker=marker)
            else:
                from storage.transfer import mark_complete

                mark_complete(self.store, report["session"], marker)
        except Exception as exc:  # noqa: BLE001 - one script's save failing must not end the batch
            from agent.batch_local import _one_line

            self.outcomes[t.key] = Outcome(script=t.script, status="failed", key=t.key, index=t.index,
                                           attempts=item.attempts, worker=result.worker, turns=len(t.turns),
                                           error=f"cannot save the result: {_one_line(exc)}",
                                           errors=item.errors + [_one_line(exc)])
            self.progress.failed += 1
            return
        failed_turns = int(report.get("failed", 0))
        final = report.get("final")
        self.turns_seen[t.key] = len(t.turns)
        self.outcomes[t.key] = Outcome(
            script=t.script, status="errors" if failed_turns else "ok", key=t.key, index=t.index,
            session=report["session"], turns=len(t.turns), failed_turns=failed_turns, attempts=item.attempts,
            worker=result.worker, out=str(folder), final=str(folder / final) if final else None,
            seconds=round(result.seconds, 3), errors=list(item.errors),
            error=next((e["error"] for e in report["turns"] if e.get("error")), None))
        self.progress.done += 1

    def handle(self, ev: BatchEvent) -> None:
        if self.on_event is not None:
            self.on_event(ev, self.backend)
        if ev.kind == "turn":
            item = self.inflight.get(ev.worker)
            if item is not None and item.task.key == ev.key:
                self.turns_seen[ev.key] = max(self.turns_seen.get(ev.key, 0), ev.turn)
        elif ev.kind in ("done", "failed"):
            item = self.inflight.pop(ev.worker, None)
            if ev.worker in self.live:
                self.idle.append(ev.worker)
            if item is None:
                return
            if ev.kind == "done" and ev.result is not None:
                self.finish(ev.result, item)
            else:
                self.failure(ev.worker, item, ev.message)
        elif ev.kind in ("died", "broken"):
            self.live.discard(ev.worker)
            if ev.worker in self.idle:
                self.idle.remove(ev.worker)
            item = self.inflight.pop(ev.worker, None)
            if ev.kind == "broken":
                if item is not None:  # never started: not an attempt
                    item.attempts -= 1
                    self.pending.appendleft(item)
                if not self.live:
                    raise BatchError(f"no batch worker could start: {ev.message}")
                return
            if item is not None:
                self.failure(ev.worker, item, ev.message)
            if self.replacements_left > 0 and (self.pending or self.inflight):
                self.replacements_left -= 1
                new = self.backend.replace(ev.worker)
                if new is not None:
                    self.live.add(new)
                    self.idle.append(new)
            if not self.live and self.pending:
                for item in list(self.pending):
                    self.pending.remove(item)
                    item.attempts = self.max_attempts
                    self.failure(ev.worker, item, "no worker left")

    def loop(self) -> None:
        workers = self.backend.start()
        self.live, self.idle = set(workers), list(workers)
        self.tick()
        while self.pending or self.inflight:
            self.assign()
            for ev in self.backend.poll(0.5):
                self.handle(ev)
            self.tick()


def run_batch(tasks: list[BatchTask], backend: Backend, store: Any, out_root: str | Path, *,
              skip: Optional[dict[str, str]] = None, on_progress: Optional[Callable[[Progress], None]] = None,
              on_event: Optional[Callable[[BatchEvent, Backend], None]] = None,
              max_attempts: int = MAX_ATTEMPTS) -> BatchReport:
    """Run every task on the backend's workers and write the results; return the summary.

    Args:
        tasks: the scripts (see `make_tasks`).
        backend: the workers (started here, closed at the end).
        store: the HistoryStore the driver writes (the one `--db`).
        out_root: images go to `out_root/<task.out_name>/`.
        skip: {task key: session id} of scripts already complete (`--resume`); they are not run.
        on_progress: called with the counters after every change.
        on_event: called with every backend event (tests kill workers from here).
        max_attempts: tries per script (2: one retry).
    """
    skip = skip or {}
    todo = [t for t in tasks if t.key not in skip]
    run = _Run(backend, store, Path(out_root), todo, on_progress, on_event, max_attempts)
    run.progress.scripts = len(tasks)
    for t in tasks:
        if t.key in skip:
            run.outcomes[t.key] = Outcome(script=t.script, status="skipped", key=t.key, index=t.index,
                                          session=skip[t.key], turns=len(t.turns),
                                          out=str(Path(out_root) / t.out_name))
            run.progress.skipped += 1
    try:
        if todo:
            run.loop()
    finally:
        backend.close()
    run.tick()
    outcomes = sorted(run.outcomes.values(), key=lambda o: o.index)
    return BatchReport(outcomes=outcomes, backend=backend.name, workers=len(run.live),
                       seconds=run.progress.elapsed, turns=run.progress.turns)
