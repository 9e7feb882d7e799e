"""`--ray [ADDRESS]`: batch workers as Ray actors (the optional extra `pip install "zone-editor[ray]"`).

One actor per GPU on a cluster with GPUs (`num_gpus=1` each: Ray pins each to its own device);
otherwise one actor per `threads` CPUs. Each actor builds its `BatchWorker` (engine loaded once)
and streams its events back: every turn as it ends, then the result or the error.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import tempfile
import threading
from typing import Any, Iterator, Optional

from agent.batch_types import BatchError, BatchEvent, BatchTask, WorkerConfig

OBJECT_STORE_BYTES = 256 * 1024 * 1024  # a local Ray's object store: results are a few PNGs each


def ray_available() -> bool:
    """True when the `ray` extra is installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


class RayWorker:
    """The actor's body: a BatchWorker, or the one-line reason it could not be built."""

    def __init__(self, config: WorkerConfig, worker_id: str, slot: int) -> None:
        from agent.batch_local import _one_line
        from agent.batch_worker import BatchWorker, set_thread_env

        set_thread_env(config.threads)
        self.worker_id = worker_id
        self.error: Optional[str] = None
        self.worker: Optional[BatchWorker] = None
        try:
            self.worker = BatchWorker(config, worker_id, slot=slot)
        except Exception as exc:  # noqa: BLE001 - reported as a "broken" event
            self.error = _one_line(exc)

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: BatchTask) -> Iterator[tuple]:
        """Replay one script, yielding ("start", pid), ("turn", i, failed) as turns end, then ("done", result)
        or ("failed", message)."""
        from agent.batch_local import _one_line

        if self.worker is None:
            yield ("broken", self.error or "the worker could not start")
            return
        yield ("start", os.getpid())
        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                result = self.worker.run(task, on_turn=lambda i, e: events.put(("turn", i, bool(e.get("error")))))
            except Exception as exc:  # noqa: BLE001 - a failing script must not end the actor
                events.put(("failed", _one_line(exc)))
            else:
                events.put(("done", result))

        threading.Thread(target=work, name=f"zone-{self.worker_id}", daemon=True).start()
        while True:
            item = events.get()
            yield item
            if item[0] != "turn":
                return


class RayBackend:
    """Ray actors as batch workers.

    Args:
        config: what each actor builds.
        address: a Ray address ("auto", "ray://host:10001"); None starts a local Ray.
        jobs: the most actors to start (None: as many as the cluster's GPUs or CPUs allow).
        max_workers: no more actors than this (the number of scripts).
    """

    name = "ray"

    def __init__(self, config: WorkerConfig, address: Optional[str] = None, jobs: Optional[int] = None,
                 max_workers: Optional[int] = None) -> None:
        if not ray_available():
            raise BatchError('--ray needs the ray extra: pip install "zone-editor[ray]"')
        self.address, self.jobs, self.max_workers = address, jobs, max_workers
        # a local Ray's actors share this machine: their scratch goes where close() cleans up
        self._root = tempfile.mkdtemp(prefix="zone-batch-") if address is None else None
        self.config = dataclasses.replace(config, scratch_root=self._root)
        self._actors: dict[str, Any] = {}
        self._gens: dict[Any, tuple[str, str]] = {}  # generator -> (worker, key)
        self._next = 0
        self._started_ray = False
        self._actor_cls: Any = None

    def _init_ray(self) -> None:
        import ray

        threads = self.config.threads or 1
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error",
                                  "ignore_reinit_error": True}
        if self.address is None:
            kwargs["num_cpus"] = (self.jobs * threads) if self.jobs else (os.cpu_count() or 1)
            kwargs["object_store_memory"] = OBJECT_STORE_BYTES
        try:
            if not ray.is_initialized():
                ray.init(address=self.address, **kwargs)
                self._started_ray = True
        except Exception as exc:  # noqa: BLE001 - a wrong address or no cluster: one line
            raise BatchError(f"cannot connect to Ray at {self.address or 'a new local cluster'}: "
                             f"{' '.join(str(exc).split())[:300]}") from None

    def _count(self) -> tuple[int, bool]:
        """How many actors, and whether each takes a GPU."""
        import ray

        res = ray.cluster_resources()
        gpus = int(res.get("GPU", 0)) if self.config.device != "cpu" else 0
        threads = self.config.threads or 1
        n = gpus if gpus else max(1, int(res.get("CPU", 1)) // threads)
        if self.jobs:
            n = min(n, self.jobs)
        if self.max_workers:
            n = min(n, self.max_workers)
        return max(1, n), bool(gpus)

    def _spawn(self) -> str:
        worker_id = f"ray-{self._next}"
        actor = self._actor_cls.remote(self.config, worker_id, self._next)
        self._next += 1
        self._actors[worker_id] = actor
        return worker_id

    def start(self) -> list[str]:
        import ray

        self._init_ray()
        n, gpu = self._count()
        threads = self.config.threads or 1
        opts = {"num_gpus": 1, "num_cpus": 1} if gpu else {"num_cpus": threads}
        self._actor_cls = ray.remote(max_restarts=0, **opts)(RayWorker)
        return [self._spawn() for _ in range(n)]

    def actor_pid(self, worker: str) -> int:
        """The actor's process id (tests kill it)."""
        import ray

        return int(ray.get(self._actors[worker].pid.remote()))

    def submit(self, worker: str, task: BatchTask) -> None:
        gen = self._actors[worker].run.options(num_returns="streaming").remote(task)
        self._gens[gen] = (worker, task.key)

    def poll(self, timeout: float) -> list[BatchEvent]:
        import ray

        if not self._gens:
            return []
        ready, _ = ray.wait(list(self._gens), num_returns=1, timeout=timeout)
        out: list[BatchEvent] = []
        for gen in ready:
            worker, key = self._gens[gen]
            try:
                item = ray.get(next(gen))
            except StopIteration:
                self._gens.pop(gen)
                continue
            except Exception as exc:  # noqa: BLE001 - RayActorError and kin: the actor is gone
                self._gens.pop(gen)
                out.append(BatchEvent("died", worker, key=key,
                                      message=f"worker {worker} died ({type(exc).__name__})"))
                continue
            kind = item[0]
            if kind == "start":
                out.append(BatchEvent("start", worker, key=key, pid=item[1]))
                continue
            if kind == "turn":
                out.append(BatchEvent("turn", worker, key=key, turn=item[1], turn_failed=item[2]))
                continue
            self._gens.pop(gen)
            if kind == "done":
                out.append(BatchEvent("done", worker, key=key, result=item[1]))
            elif kind == "broken":
                out.append(BatchEvent("broken", worker, key=key, message=item[1]))
            else:
                out.append(BatchEvent("failed", worker, key=key, message=item[1]))
        return out

    def replace(self, worker: str) -> Optional[str]:
        self._actors.pop(worker, None)
        return self._spawn()

    def close(self) -> None:
        import ray

        if not ray.is_initialized():
            if self._root:
                shutil.rmtree(self._root, ignore_errors=True)
            return
        for actor in self._actors.values():
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._actors.clear()
        if self._started_ray and self.address is None:
            ray.shutdown()
        if self._root:
            shutil.rmtree(self._root, ignore_errors=True)
