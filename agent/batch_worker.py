"""One batch worker: builds its engine once, then replays scripts through ZoneService, one at a time.

The same class runs in a local worker process (`agent.batch_local`) and as a Ray actor
(`agent.batch_ray`). Scripts go through the agent (`ZoneService` + `run_replay`), never the engine
directly. Without a database URL the worker writes a private scratch SQLite file and hands each
finished session back as a `SessionBundle`; the driver writes the one history database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

from agent.batch_types import BatchTask, TaskResult, WorkerConfig

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def set_thread_env(threads: Optional[int]) -> None:
    """Set the BLAS/OpenMP thread variables before torch is imported (a fresh worker process)."""
    if threads:
        for name in THREAD_ENV:
            os.environ[name] = str(threads)


def configure_torch(threads: Optional[int]) -> None:
    """Give torch `threads` intra-op threads and one inter-op thread (imports torch)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set once in this process
            pass


def pick_device(device: str, slot: int) -> str:
    """The device worker number `slot` uses: with several visible GPUs, cuda:(slot mod n).

    Args:
        device: "auto", "cpu", "cuda" or "cuda:N" as the user gave it.
        slot: the worker's number (0, 1, ...).
    """
    if device not in ("auto", "cuda"):
        return device
    import torch

    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n > 1:
        return f"cuda:{slot % n}"
    return device


class BatchWorker:
    """Holds one engine and one classifier; `run(task)` replays one script.

    Args:
        config: the batch's worker settings.
        worker_id: a label for reports ("w0", "ray-1", ...).
        slot: the worker's number, used to spread workers over local GPUs.
        engine_factory: builds the engine (tests); default `engine.registry.build_engine`.
    """

    def __init__(self, config: WorkerConfig, worker_id: str, slot: int = 0,
                 engine_factory: Optional[Callable[[], Any]] = None) -> None:
        from agent.classifier import InstructionClassifier
        from storage.history import HistoryStore

        self.config = config
        self.worker_id = worker_id
        root = getattr(config, "scratch_root", None)
        self._scratch = Path(tempfile.mkdtemp(prefix="zone-batch-", dir=root if root and os.path.isdir(root) else None))
        if engine_factory is None:
            configure_torch(config.threads)
            from engine.registry import build_engine

            self.engine = build_engine(config.engine, device=pick_device(config.device, slot))
        else:
            self.engine = engine_factory()
        self.engine.load()  # once per worker, before any script
        self.classifier = InstructionClassifier.load()
        url = config.db_url or f"sqlite:///{self._scratch / 'scratch.db'}"
        self.store = HistoryStore(url)

    def ready(self) -> int:
        """The worker's process id (a cheap call that proves the engine is loaded)."""
        return os.getpid()

    def run(self, task: BatchTask, on_turn: Optional[Callable[[int, dict], None]] = None) -> TaskResult:
        """Replay one script; return its report, the images it wrote and (scratch mode) its session.

        Args:
            task: the script.
            on_turn: called with (turn number, turn entry) after each turn.
        """
        from agent.replay import ReplayScript, run_replay
        from agent.service import ZoneService

        t0 = time.perf_counter()
        out = Path(tempfile.mkdtemp(prefix="out-", dir=self._scratch))
        try:
            script = ReplayScript(path=Path(task.script), image=Path(task.image), seed=task.seed,
                                  turns=list(task.turns))
            service = ZoneService(store=self.store, engine_factory=lambda: self.engine, classifier=self.classifier,
                                  seed=task.seed, edit_params=dict(self.config.edit_params), export_dir=out,
                                  confine_exports=True)  # scripts are shared files: exports stay in out
            report = run_replay(script, out, service=service, on_turn=on_turn)
            files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
            report = _relative_paths(report, out)
            bundle = None
            if self.config.db_url is None and report["session"] is not None:  # None: removed, nothing made
                from storage.transfer import dump_session

                bundle = dump_session(self.store, report["session"])
                self.store.delete_session(report["session"])
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return TaskResult(key=task.key, report=report, files=files, bundle=bundle, worker=self.worker_id,
                          pid=os.getpid(), seconds=time.perf_counter() - t0)

    def close(self) -> None:
        """Release the store and delete the scratch folder."""
        self.store.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _relative_paths(report: dict, out: Path) -> dict:
    """The report with every image path made relative to the worker's output folder."""

    def rel(path: Optional[str]) -> Optional[str]:
        if not path:
            return path
        try:
            return Path(path).relative_to(out).as_posix()
        except ValueError:
            return path

    report = dict(report)
    report["turns"] = [dict(t, image=rel(t.get("image"))) for t in report["turns"]]
    report["final"] = rel(report.get("final"))
    return report
