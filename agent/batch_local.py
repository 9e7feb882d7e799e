"""`--jobs N`: N local worker processes (spawned, so CUDA and torch start clean in each).

Each process builds one `BatchWorker` (its own engine, loaded once), takes tasks from its own
queue and reports on its own pipe. Nothing is shared between workers: a worker killed in the
middle of a message (SIGKILL, the OOM killer) can only break its own pipe, never another's (a
shared `multiprocessing.Queue` would stay locked forever). A process that dies is seen by its exit
code and its pipe's end; its task is reported and the driver may start a replacement.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import pickle
import shutil
import tempfile
import time
from typing import Any, Optional

from agent.batch_types import BatchEvent, BatchTask, WorkerConfig


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    from engine.errors import ZoneError

    return text if isinstance(exc, ZoneError) else f"{type(exc).__name__}: {text}"


def worker_main(worker_id: str, slot: int, config: WorkerConfig, tasks: Any, events: Any) -> None:
    """The body of one worker process: build the worker, then run tasks until told to stop.

    Args:
        worker_id: the worker's label; slot: its number (GPU choice).
        config: the batch's worker settings.
        tasks: this worker's queue of BatchTask (None stops it).
        events: this worker's pipe (sending end) of BatchEvent back to the driver.
    """
    from agent.batch_worker import set_thread_env

    set_thread_env(config.threads)  # before torch is imported in this fresh process
    try:
        from agent.batch_worker import BatchWorker

        worker = BatchWorker(config, worker_id, slot=slot)
    except BaseException as exc:  # noqa: BLE001 - reported to the driver, one line
        events.send(BatchEvent("broken", worker_id, message=_one_line(exc)))
        return
    events.send(BatchEvent("ready", worker_id, pid=os.getpid()))
    try:
        while True:
            task: Optional[BatchTask] = tasks.get()
            if task is None:
                break
            events.send(BatchEvent("start", worker_id, key=task.key, pid=os.getpid()))

            def on_turn(i: int, entry: dict, key: str = task.key) -> None:
                events.send(BatchEvent("turn", worker_id, key=key, turn=i, turn_failed=bool(entry.get("error"))))

            try:
                result = worker.run(task, on_turn=on_turn)
            except Exception as exc:  # noqa: BLE001 - a failing script must not end the worker
                events.send(BatchEvent("failed", worker_id, key=task.key, message=_one_line(exc)))
            else:
                events.send(BatchEvent("done", worker_id, key=task.key, result=result))
    finally:
        worker.close()
        events.close()


class LocalBackend:
    """N spawned worker processes.

    Args:
        config: what each worker builds.
        jobs: how many processes.
    """

    name = "local"

    def __init__(self, config: WorkerConfig, jobs: int) -> None:
        self._root = tempfile.mkdtemp(prefix="zone-batch-")
        self.config = dataclasses.replace(config, scratch_root=self._root)
        self.jobs = max(1, int(jobs))
        self._ctx = mp.get_context("spawn")
        self._conns: dict[str, Any] = {}  # worker -> the receiving end of its pipe
        self._procs: dict[str, Any] = {}
        self._queues: dict[str, Any] = {}
        self._busy: dict[str, str] = {}  # worker -> key
        self._reported_dead: set[str] = set()
        self._next = 0

    def _spawn(self) -> str:
        slot = self._next
        worker_id = f"w{slot}"
        self._next += 1
        q = self._ctx.Queue()
        receive, send = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=worker_main, args=(worker_id, slot, self.config, q, send),
                                 name=f"zone-batch-{worker_id}", daemon=True)
        proc.start()
        send.close()  # only the child writes: its death then reads as the end of the pipe
        self._procs[worker_id], self._queues[worker_id], self._conns[worker_id] = proc, q, receive
        return worker_id

    def start(self) -> list[str]:
        return [self._spawn() for _ in range(self.jobs)]

    def pid(self, worker: str) -> Optional[int]:
        """The worker's process id (tests kill it)."""
        proc = self._procs.get(worker)
        return proc.pid if proc is not None else None

    def submit(self, worker: str, task: BatchTask) -> None:
        self._busy[worker] = task.key
        self._queues[worker].put(task)

    def poll(self, timeout: float) -> list[BatchEvent]:
        from multiprocessing.connection import wait

        out: list[BatchEvent] = []
        by_conn = {conn: worker for worker, conn in self._conns.items()}
        if not by_conn:
            time.sleep(min(timeout, 0.1))
        for conn in wait(list(by_conn), timeout=timeout) if by_conn else []:
            try:
                while conn.poll():
                    out.append(conn.recv())
            except (EOFError, OSError, pickle.UnpicklingError, ValueError):  # the worker is gone
                self._conns.pop(by_conn[conn], None)
                conn.close()
        for ev in out:
            if ev.kind in ("done", "failed"):
                self._busy.pop(ev.worker, None)
            elif ev.kind == "broken":  # it exits next; the driver already knows why
                self._reported_dead.add(ev.worker)
        for worker, proc in self._procs.items():
            if worker in self._reported_dead or proc.is_alive():
                continue
            self._reported_dead.add(worker)
            key = self._busy.pop(worker, None)
            code = proc.exitcode
            why = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
            out.append(BatchEvent("died", worker, key=key, message=f"worker {worker} {why}"))
        return out

    def replace(self, worker: str) -> Optional[str]:
        return self._spawn()

    def close(self) -> None:
        for worker, q in self._queues.items():
            if self._procs[worker].is_alive():
                q.put(None)
        for proc in self._procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        for conn in self._conns.values():
            conn.close()
        shutil.rmtree(self._root, ignore_errors=True)  # what killed workers left
