"""The batch dispatcher with in-process workers (the fake engine): retries, deaths, resume, the one DB."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest

from agent.batch import make_tasks, run_batch, task_key
from agent.batch_types import BatchError, BatchEvent, WorkerConfig
from agent.batch_worker import BatchWorker
from agent.replay import load_script
from storage.history import HistoryStore
from storage.transfer import completed_replays
from tests.agent.fakes import FakeEngine, make_photo


class InlineBackend:
    """Workers in this process, run one event at a time; `die` and `broken` script their failures.

    Args:
        n: workers; die: {(script stem, attempt)} whose worker dies after the first turn;
        broken: how many workers fail to start.
    """

    name = "inline"

    def __init__(self, n: int, die=(), broken: int = 0) -> None:
        self.n, self.die, self.broken = n, set(die), broken
        self.workers: dict[str, BatchWorker | None] = {}
        self.queue: deque = deque()
        self.attempts: dict[str, int] = {}
        self.ran: list[tuple[str, str]] = []
        self.events_out: deque = deque()
        self._next = 0
        self.closed = False

    def _spawn(self) -> str:
        wid = f"w{self._next}"
        self._next += 1
        if self.broken > 0:
            self.broken -= 1
            self.workers[wid] = None
            self.events_out.append(BatchEvent("broken", wid, message="weights missing"))
        else:
            self.workers[wid] = BatchWorker(WorkerConfig(engine="fake"), wid, engine_factory=FakeEngine)
        return wid

    def start(self):
        return [self._spawn() for _ in range(self.n)]

    def submit(self, worker, task):
        self.queue.append((worker, task))

    def poll(self, timeout):
        if self.events_out:
            return [self.events_out.popleft()]
        if not self.queue:
            return []
        worker, task = self.queue.popleft()
        if self.workers[worker] is None:
            return [BatchEvent("broken", worker, key=task.key, message="weights missing")]
        stem = Path(task.script).stem
        self.attempts[stem] = self.attempts.get(stem, 0) + 1
        self.ran.append((stem, worker))
        events = []
        if (stem, self.attempts[stem]) in self.die:
            events.append(BatchEvent("turn", worker, key=task.key, turn=1))
            events.append(BatchEvent("died", worker, key=task.key, message=f"worker {worker} killed by signal 9"))
            self.workers[worker].close()
            self.workers[worker] = None
            return events
        try:
            result = self.workers[worker].run(
                task, on_turn=lambda i, e: events.append(BatchEvent("turn", worker, key=task.key, turn=i)))
        except Exception as exc:  # noqa: BLE001
            events.append(BatchEvent("failed", worker, key=task.key, message=str(exc)))
        else:
            events.append(BatchEvent("done", worker, key=task.key, result=result))
        return events

    def replace(self, worker):
        return self._spawn()

    def close(self):
        self.closed = True
        for w in self.workers.values():
            if w is not None:
                w.close()


def _scripts(tmp_path: Path, n: int, turns=("make his tie blue", "give him a hat")) -> list[Path]:
    make_photo(tmp_path / "photo.png")
    paths = []
    for i in range(n):
        p = tmp_path / f"s{i}.yaml"
        p.write_text("image: photo.png\nseed: %d\nturns:\n%s" % (i, "".join(f"  - {json.dumps(t)}\n" for t in turns)))
        paths.append(p)
    return paths


def _tasks(paths):
    return make_tasks([load_script(p) for p in paths], "fake", {})


def test_every_script_lands_in_the_one_db_with_its_images_and_resume_skips_them(tmp_path):
    tasks = _tasks(_scripts(tmp_path, 3))
    store = HistoryStore(f"sqlite:///{tmp_path / 'zone.db'}")
    backend = InlineBackend(2)
    seen = []
    report = run_batch(tasks, backend, store, tmp_path / "out", on_progress=lambda p: seen.append((p.done, p.turns)))
    assert backend.closed and [o.status for o in report.outcomes] == ["ok", "ok", "ok"]
    assert {w for _, w in backend.ran} == {"w0", "w1"}  # both workers had work
    assert seen[-1] == (3, 6) and report.turns == 6 and report.failed == 0
    sessions = {s.id: s for s in store.list_sessions()}
    assert set(sessions) == {o.session for o in report.outcomes}
    for o in report.outcomes:
        folder = Path(o.out)
        assert sorted(p.name for p in folder.iterdir()) == ["turn-01.png", "turn-02.png"]
        assert o.final == str(folder / "turn-02.png")
        assert len(store.tree(o.session)) == 3  # root and two edits, written by the driver
        roles = [m.role for m in store.messages(o.session)]
        assert roles == ["user", "assistant", "user", "assistant", "system"]
    assert completed_replays(store) == {o.key: o.session for o in report.outcomes}
    # resumed: nothing runs again
    again = InlineBackend(1)
    report2 = run_batch(tasks, again, store, tmp_path / "out", skip=completed_replays(store))
    assert [o.status for o in report2.outcomes] == ["skipped"] * 3 and again.ran == []
    assert len(store.list_sessions()) == 3
    store.close()


def test_a_failing_script_is_retried_once_on_another_worker_and_reported(tmp_path):
    paths = _scripts(tmp_path, 3)
    tasks = _tasks(paths)
    (tmp_path / "lost.png").write_bytes((tmp_path / "photo.png").read_bytes())
    paths[1].write_text("image: lost.png\nturns:\n  - make his tie blue\n")
    tasks[1] = make_tasks([load_script(paths[1])], "fake", {}, indexes=[1])[0]
    (tmp_path / "lost.png").unlink()  # vanished after the batch was planned
    store = HistoryStore(f"sqlite:///{tmp_path / 'zone.db'}")
    backend = InlineBackend(2)
    report = run_batch(tasks, backend, store, tmp_path / "out")
    statuses = {Path(o.script).stem: o for o in report.outcomes}
    assert statuses["s0"].status == statuses["s2"].status == "ok"
    bad = statuses["s1"]
    assert bad.status == "failed" and bad.attempts == 2 and "lost.png" in bad.error
    assert len(bad.errors) == 2
    workers = [w for stem, w in backend.ran if stem == "s1"]
    assert len(workers) == 2 and workers[0] != workers[1]  # the retry ran elsewhere
    assert report.failed == 1 and len(store.list_sessions()) == 2
    store.close()


def test_a_dead_worker_is_replaced_and_its_script_completes_on_another(tmp_path):
    tasks = _tasks(_scripts(tmp_path, 4))
    store = HistoryStore(f"sqlite:///{tmp_path / 'zone.db'}")
    backend = InlineBackend(2, die={("s2", 1)})
    report = run_batch(tasks, backend, store, tmp_path / "out")
    assert [o.status for o in report.outcomes] == ["ok"] * 4
    killed = report.outcomes[2]
    assert killed.attempts == 2 and "killed by signal 9" in killed.errors[0]
    first, second = [w for stem, w in backend.ran if stem == "s2"]
    assert first != second
    assert "w2" in backend.workers  # a replacement was started
    assert all(o.attempts == 1 for i, o in enumerate(report.outcomes) if i != 2)
    assert len(store.list_sessions()) == 4  # the killed attempt left nothing behind
    store.close()


def test_no_worker_starting_is_one_error_and_a_partly_broken_pool_goes_on(tmp_path):
    tasks = _tasks(_scripts(tmp_path, 2))
    store = HistoryStore(f"sqlite:///{tmp_path / 'zone.db'}")
    with pytest.raises(BatchError, match="weights missing"):
        run_batch(tasks, InlineBackend(2, broken=2), store, tmp_path / "out")
    report = run_batch(tasks, InlineBackend(2, broken=1), store, tmp_path / "out2")
    assert [o.status for o in report.outcomes] == ["ok", "ok"] and all(o.attempts == 1 for o in report.outcomes)
    store.close()


def test_the_key_changes_with_the_script_and_the_settings():
    base = task_key("/a.yaml", "/p.png", 0, ["x"], "tiny", {})
    assert base == task_key("/a.yaml", "/p.png", 0, ["x"], "tiny", {})
    others = {task_key("/b.yaml", "/p.png", 0, ["x"], "tiny", {}), task_key("/a.yaml", "/p.png", 1, ["x"], "tiny", {}),
              task_key("/a.yaml", "/p.png", 0, ["y"], "tiny", {}), task_key("/a.yaml", "/p.png", 0, ["x"], "real", {}),
              task_key("/a.yaml", "/p.png", 0, ["x"], "tiny", {"steps": 2})}
    assert base not in others and len(others) == 5


def test_same_stems_get_distinct_folders(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    paths = _scripts(tmp_path / "a", 1) + _scripts(tmp_path / "b", 1)
    tasks = _tasks(paths)
    assert [t.out_name for t in tasks] == ["s0", "s0-2"] and tasks[0].key != tasks[1].key
