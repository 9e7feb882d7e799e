"""Batches on real worker processes and on a local Ray, with the tiny engine.

Byte-identity is checked at one torch thread per worker everywhere (`--threads 1`; the plain
single-script path runs with OMP_NUM_THREADS=1): CPU kernels may round differently with another
thread count, so the thread count is part of what makes a replay reproducible.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.fakes import make_photo

REPO = Path(__file__).resolve().parents[2]
N_SCRIPTS = 8
TURNS = (["make his tie blue", "remove the leash"], ["give him a hat", "undo"], ["make the sky red", "try again"])
COMMON = ["--engine", "tiny", "--steps", "2", "--work-size", "64"]


def zone(*args: str, env_extra: dict | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=str(REPO))


def write_scripts(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    make_photo(folder / "photo.png", (40, 56))
    paths = []
    for i in range(N_SCRIPTS):
        turns = TURNS[i % len(TURNS)]
        p = folder / f"s{i}.yaml"
        p.write_text(f"image: photo.png\nseed: {i}\nturns:\n" + "".join(f"  - {json.dumps(t)}\n" for t in turns))
        paths.append(p)
    return paths


def images(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The 8 scripts replayed by `zone replay DIR --jobs 1 --threads 1`."""
    root = tmp_path_factory.mktemp("batch")
    scripts = root / "scripts"
    write_scripts(scripts)
    r = zone("replay", str(scripts), "--jobs", "1", "--threads", "1", "--db", str(root / "one.db"),
             "--out", str(root / "one"), "--json", *COMMON)
    assert r.returncode == 0, r.stderr[-2000:]
    return root, scripts, json.loads(r.stdout), images(root / "one")


def test_jobs_2_and_a_script_alone_give_the_same_images_as_jobs_1(baseline):
    root, scripts, report1, imgs1 = baseline
    assert report1["ok"] == N_SCRIPTS and report1["workers"] == 1
    assert len(imgs1) == 2 * N_SCRIPTS
    r = zone("replay", str(scripts), "--jobs", "2", "--threads", "1", "--db", str(root / "two.db"),
             "--out", str(root / "two"), "--json", *COMMON)
    assert r.returncode == 0, r.stderr[-2000:]
    report2 = json.loads(r.stdout)
    assert report2["ok"] == N_SCRIPTS and report2["workers"] == 2 and report2["turns"] == 2 * N_SCRIPTS
    assert {s["worker"] for s in report2["scripts"]} == {"w0", "w1"}
    assert images(root / "two") == imgs1
    # one progress bar on stderr, ending on the whole batch
    assert "8/8 scripts | 16/16 turns" in r.stderr and "0 failed" in r.stderr and "Traceback" not in r.stderr
    # the plain single-script path (no batch) gives the same images too
    alone = zone("replay", str(scripts / "s4.yaml"), "--db", str(root / "alone.db"), "--out", str(root / "alone"),
                 *COMMON, env_extra={"OMP_NUM_THREADS": "1"})
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert images(root / "alone") == {k.split("/", 1)[1]: v for k, v in imgs1.items() if k.startswith("s4/")}
    # every session is in the one database, written by the driver
    from storage.history import HistoryStore

    store = HistoryStore(f"sqlite:///{root / 'two.db'}")
    assert sorted(s.name for s in store.list_sessions()) == sorted(f"s{i}" for i in range(N_SCRIPTS))
    store.close()


def _kill_on_start(victim: str):
    """An on_event hook that SIGKILLs the worker process that starts `victim`'s first attempt."""
    killed: list[str] = []

    def hook(ev, backend):
        if ev.kind == "start" and ev.key == victim and not killed:
            assert ev.pid > 0
            killed.append(ev.worker)
            os.kill(ev.pid, signal.SIGKILL)

    return hook, killed


def _run_killing(baseline, backend, out_name: str):
    from agent.batch import make_tasks, run_batch
    from agent.replay import load_script
    from storage.history import HistoryStore

    root, scripts, _, imgs1 = baseline
    tasks = make_tasks([load_script(p) for p in sorted(scripts.glob("*.yaml"))], "tiny",
                       {"steps": 2, "work_size": 64})
    victim = tasks[5].key
    hook, killed = _kill_on_start(victim)
    store = HistoryStore(f"sqlite:///{root / (out_name + '.db')}")
    report = run_batch(tasks, backend, store, root / out_name, on_event=hook)
    n_sessions = len(store.list_sessions())
    store.close()
    assert killed, "the victim never started"
    assert [o.status for o in report.outcomes] == ["ok"] * N_SCRIPTS
    dead = report.outcomes[5]
    assert dead.attempts == 2 and dead.worker != killed[0] and killed[0] in dead.errors[0]
    assert all(o.attempts == 1 for i, o in enumerate(report.outcomes) if i != 5)
    assert n_sessions == N_SCRIPTS
    assert images(root / out_name) == imgs1  # the retried script's images too
    return report


def test_a_worker_killed_mid_batch_is_retried_and_everything_completes(baseline):
    from agent.batch_local import LocalBackend
    from agent.batch_types import WorkerConfig

    config = WorkerConfig(engine="tiny", device="cpu", threads=1, edit_params={"steps": 2, "work_size": 64})
    backend = LocalBackend(config, jobs=2)
    report = _run_killing(baseline, backend, "killed")
    assert "signal 9" in report.outcomes[5].errors[0]
    assert not Path(backend.config.scratch_root).exists()  # the killed worker's scratch is gone too


def test_failed_scripts_are_listed_exit_1_and_resume_skips_the_complete_ones(tmp_path):
    scripts = tmp_path / "scripts"
    write_scripts(scripts)
    for p in sorted(scripts.glob("s[2-7].yaml")):
        p.unlink()
    (scripts / "s9.yaml").write_text("image: nowhere.png\nturns:\n  - make it blue\n")
    (scripts / "s8.yaml").write_text("image: [unclosed\n")
    args = ["replay", str(scripts), "--jobs", "2", "--db", str(tmp_path / "z.db"), "--out", str(tmp_path / "out"),
            *COMMON]
    r = zone(*args)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split()[0:2] for ln in lines[:4]] == [["ok", str(scripts / "s0.yaml")], ["ok", str(scripts / "s1.yaml")],
                                                   ["failed", str(scripts / "s8.yaml")], ["failed", str(scripts / "s9.yaml")]]
    assert "nowhere.png" in lines[3] and "not valid YAML" in lines[2]
    assert "2 ok" in lines[4] and "2 failed" in lines[4]
    # the same command again would overwrite: refused, one line
    again = zone(*args)
    assert again.returncode == 1 and again.stderr.strip().startswith("zone: error:") and "--resume" in again.stderr
    resumed = zone(*args, "--resume", "--json")
    assert resumed.returncode == 1
    statuses = [(Path(s["script"]).name, s["status"]) for s in json.loads(resumed.stdout)["scripts"]]
    assert statuses == [("s0.yaml", "skipped"), ("s1.yaml", "skipped"), ("s8.yaml", "failed"), ("s9.yaml", "failed")]


def test_ray_without_the_extra_is_one_line(tmp_path, monkeypatch, capsys):
    import agent.batch_ray as batch_ray
    from tui.cli import main

    scripts = tmp_path / "scripts"
    write_scripts(scripts)
    monkeypatch.setattr(batch_ray, "ray_available", lambda: False)
    code = main(["replay", str(scripts), "--ray", "--db", str(tmp_path / "z.db"), "--out", str(tmp_path / "o"), *COMMON])
    err = capsys.readouterr().err
    assert code == 1 and 'zone: error: --ray needs the ray extra: pip install "zone-editor[ray]"' in err


@pytest.mark.slow
def test_local_ray_gives_the_same_images_as_jobs_1_and_survives_a_killed_actor(baseline):
    pytest.importorskip("ray", reason='the ray extra is not installed (pip install "zone-editor[ray]")')
    from agent.batch_ray import RayBackend
    from agent.batch_types import WorkerConfig

    config = WorkerConfig(engine="tiny", device="cpu", threads=1, edit_params={"steps": 2, "work_size": 64})
    report = _run_killing(baseline, RayBackend(config, address=None, jobs=2), "ray")
    assert report.backend == "ray"
