"""Batch replay throughput: the same 8 short scripts with --jobs 1, --jobs 2 and a local Ray (2 CPUs).

Runs the configurations interleaved, ROUNDS times, in this process as the driver (as `zone replay`
does), with the tiny engine. Reports per run: wall time from the start to the last result (worker
start-up included), the steady phase (every worker ready -> last script done; Ray: first start -> last done), the CPU seconds of
the worker processes (local backends; Ray's workers are not our children), the load average, and
whether every image equals the --jobs 1 --threads 1 reference byte for byte.

    PYTHONPATH=. .venv/bin/python scripts/bench_batch.py [ROUNDS] [STEPS] [CONFIGS]

CONFIGS: comma-separated kind:jobs:threads (default local:1:2,local:2:1,ray:2:1).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

N_SCRIPTS = 8
TURNS = (["make his tie blue", "remove the leash"], ["give him a hat", "make the sky red"])


def write_scripts(folder: Path) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:96, 0:128]
    Image.fromarray(np.stack([xx * 2 % 256, yy * 2 % 256, (xx + yy) % 256], -1).astype(np.uint8)).save(folder / "photo.png")
    paths = []
    for i in range(N_SCRIPTS):
        p = folder / f"s{i}.yaml"
        p.write_text(f"image: photo.png\nseed: {i}\nturns:\n" + "".join(f"  - {t}\n" for t in TURNS[i % 2]))
        paths.append(p)
    return paths


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.png")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def run(kind: str, jobs: int, threads: int, scripts: list[Path], work: Path, steps: int) -> dict:
    from agent.batch import make_tasks, run_batch
    from agent.batch_types import WorkerConfig
    from agent.replay import load_script
    from storage.history import HistoryStore

    config = WorkerConfig(engine="tiny", device="cpu", threads=threads, edit_params={"steps": steps})
    if kind == "ray":
        from agent.batch_ray import RayBackend

        backend = RayBackend(config, address=None, jobs=jobs)
    else:
        from agent.batch_local import LocalBackend

        backend = LocalBackend(config, jobs=jobs)
    tasks = make_tasks([load_script(p) for p in scripts], "tiny", {"steps": steps})
    out = work / f"{kind}-{jobs}-{threads}-{time.time_ns()}"
    store = HistoryStore(f"sqlite:///{out}.db")
    marks: dict[str, float] = {}

    def hook(ev, _backend):
        now = time.perf_counter()
        if ev.kind == "ready":
            marks["ready"] = marks.get("ready", 0) + 1
            if marks["ready"] == jobs:
                marks["all_ready"] = now
        if ev.kind == "start":
            marks.setdefault("first_start", now)
        if ev.kind == "done":
            marks["last_done"] = now

    load0 = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    report = run_batch(tasks, backend, store, out, on_event=hook)
    wall = marks["last_done"] - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    store.close()
    assert all(o.status == "ok" for o in report.outcomes), [o.error for o in report.outcomes]
    result = {
        "config": f"{kind} jobs={jobs} threads={threads}", "steps": steps, "wall_s": round(wall, 2),
        "steady_s": round(marks["last_done"] - marks.get("all_ready", marks["first_start"]), 2),
        "turns": report.turns,
        "worker_cpu_s": round((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), 2),
        "load_avg_1m": round(load0, 2), "images": digest(out),
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    spec = sys.argv[3] if len(sys.argv) > 3 else "local:1:2,local:2:1,ray:2:1"
    configs = [(k, int(j), int(t)) for k, j, t in (c.split(":") for c in spec.split(","))]
    work = Path(tempfile.mkdtemp(prefix="zone-bench-batch-"))
    scripts = write_scripts(work / "scripts")
    rows = []
    for r in range(rounds):
        for kind, jobs, threads in configs:
            row = run(kind, jobs, threads, scripts, work, steps)
            row["round"] = r + 1
            rows.append(row)
            print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
